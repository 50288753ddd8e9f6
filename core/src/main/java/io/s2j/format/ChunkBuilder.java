package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Invariants;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Accumulates a channel's entries into one {@link Chunk}; {@link #sizeBytes()} is exactly what
 * {@link #build()} would produce now, so the channel can flush on a size bound. Single use.
 */
public final class ChunkBuilder {
  private final Chunk.Origin origin;
  private final ByteWriter body = new ByteWriter();
  private final ByteWriter rows = new ByteWriter();
  private final List<Chunk.IndexRow> index = new ArrayList<>();
  private final TreeMap<Long, Chunk.IndexRow> lastOfStreamlet = new TreeMap<>();
  private boolean built;

  /** A builder of chunk {@code chunkSeqNum}; a fence when {@code voidThroughChunkSeqNum} is set (nonzero). */
  public ChunkBuilder(String channelId, long writerEpoch, long chunkSeqNum, long voidThroughChunkSeqNum) {
    this.origin = new Chunk.Origin(channelId, writerEpoch, chunkSeqNum, voidThroughChunkSeqNum);
    body.raw(Chunk.encodeHeader(origin));
  }

  public Chunk.Origin origin() {
    return origin;
  }

  /**
   * Appends one entry; its streamlet's previous entry in this chunk (if any) must end right before
   * it. Returns the entry's index row.
   */
  public Chunk.IndexRow add(Chunk.Entry entry) {
    Invariants.check(!built, "chunk already built");
    Invariants.check(!origin.isFence(), "a fence chunk holds no entries");
    Invariants.check(index.size() < Chunk.ENTRIES_MAX, "chunk is full at %d entries", index.size());
    Chunk.IndexRow previous = lastOfStreamlet.get(entry.streamletId());
    Invariants.check(previous == null
            || (entry.firstSeqNum() == previous.nextSeqNum() && entry.firstTimestamp() >= previous.lastTimestamp()),
        "entry of streamlet %d does not follow its previous entry %s", entry.streamletId(), previous);
    ByteString frame = Chunk.encodeEntry(entry);
    Invariants.check(frame.size() <= Chunk.ENTRY_BYTES_MAX, "entry of %d bytes", frame.size());
    Chunk.IndexRow row = Chunk.IndexRow.of(entry, body.sizeBytes(), frame.size());
    body.raw(frame);
    Chunk.writeRow(rows, row);
    index.add(row);
    lastOfStreamlet.put(entry.streamletId(), row);
    return row;
  }

  public int entryCount() {
    return index.size();
  }

  /** The length of the chunk {@link #build()} would return now. */
  public long sizeBytes() {
    return body.sizeBytes() + indexBytes() + Footer.BYTES;
  }

  private long indexBytes() {
    return ByteWriter.varintBytes(index.size()) + rows.sizeBytes() + Frames.CRC_BYTES;
  }

  public Chunk.Built build() {
    Invariants.check(!built, "chunk already built");
    built = true;
    ByteString indexBytes = Frames.seal(new ByteWriter().varint(index.size()).toByteString().concat(rows.toByteString()));
    Invariants.check(indexBytes.size() == indexBytes() && indexBytes.size() <= Chunk.INDEX_BYTES_MAX, "index of %d bytes", indexBytes.size());
    Footer footer = new Footer(body.sizeBytes(), indexBytes.size(), index.size());
    ByteString bytes = body.toByteString().concat(indexBytes).concat(footer.encode(Chunk.MAGIC, Chunk.VERSION));
    Invariants.check(bytes.size() == footer.objectBytes(), "chunk of %d bytes, footer says %d", bytes.size(), footer.objectBytes());
    return new Chunk.Built(bytes, footer, List.copyOf(index));
  }
}
