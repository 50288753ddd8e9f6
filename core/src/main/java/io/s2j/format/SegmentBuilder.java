package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import java.util.ArrayList;
import java.util.List;

/**
 * Accumulates one streamlet's records, in order, into a {@link Segment}, closing a block once it
 * reaches {@code blockBytesTarget} encoded bytes or {@link Segment#BLOCK_RECORDS_MAX} records.
 * Single use.
 */
public final class SegmentBuilder {
  private final long streamletId;
  private final int blockBytesTarget;
  private final ByteWriter blocks = new ByteWriter();
  /** Rows with offsets relative to the first block: the header's length is known only at the end. */
  private final List<Segment.BlockRow> relativeRows = new ArrayList<>();
  private final List<SequencedRecord> block = new ArrayList<>();
  private long blockBytes;
  private SequencedRecord first;
  private SequencedRecord last;
  private long recordCount;
  private boolean built;

  public SegmentBuilder(long streamletId, int blockBytesTarget) {
    Invariants.check(blockBytesTarget >= 1 && blockBytesTarget <= Segment.BLOCK_BYTES_TARGET_MAX,
        "block target of %d bytes", blockBytesTarget);
    this.streamletId = streamletId;
    this.blockBytesTarget = blockBytesTarget;
  }

  /** Appends the streamlet's next record: its seq num follows the previous one's, its timestamp is not earlier. */
  public void add(SequencedRecord rec) {
    Invariants.check(!built, "segment already built");
    Invariants.check(rec.meteredBytes() <= Limits.STORED_RECORD_METERED_BYTES_MAX, "record meters %d bytes", rec.meteredBytes());
    if (last != null) {
      Invariants.check(rec.seqNum() == last.seqNum() + 1 && rec.timestamp() >= last.timestamp(),
          "record %d/%d does not follow %d/%d", rec.seqNum(), rec.timestamp(), last.seqNum(), last.timestamp());
    } else {
      first = rec;
    }
    long previousTimestamp = block.isEmpty() ? 0 : block.get(block.size() - 1).timestamp();
    block.add(rec);
    blockBytes += RecordBatchCodec.encodedBytes(rec, previousTimestamp);
    last = rec;
    recordCount++;
    if (blockBytes >= blockBytesTarget || block.size() == Segment.BLOCK_RECORDS_MAX) {
      closeBlock();
    }
  }

  public void addAll(List<SequencedRecord> records) {
    records.forEach(this::add);
  }

  public long recordCount() {
    return recordCount;
  }

  private void closeBlock() {
    Invariants.check(relativeRows.size() < Segment.BLOCKS_MAX, "segment is full at %d blocks", relativeRows.size());
    ByteString frame = Frames.frame(RecordBatchCodec.encode(block));
    Invariants.check(frame.size() <= Segment.BLOCK_BYTES_MAX, "block of %d bytes", frame.size());
    relativeRows.add(Segment.BlockRow.of(block, blocks.sizeBytes(), frame.size()));
    blocks.raw(frame);
    block.clear();
    blockBytes = 0;
  }

  public Segment.Built build() {
    Invariants.check(!built, "segment already built");
    Invariants.check(recordCount > 0, "a segment holds at least one record");
    built = true;
    if (!block.isEmpty()) {
      closeBlock();
    }
    Segment.Summary summary = new Segment.Summary(streamletId, first.seqNum(), recordCount, first.timestamp(), last.timestamp());
    ByteString header = Segment.encodeHeader(summary);
    List<Segment.BlockRow> rows = new ArrayList<>(relativeRows.size());
    ByteWriter index = new ByteWriter().varint(relativeRows.size());
    for (Segment.BlockRow r : relativeRows) {
      Segment.BlockRow row = new Segment.BlockRow(r.firstSeqNum(), r.recordCount(), r.firstTimestamp(), r.lastTimestamp(),
          header.size() + r.offsetBytes(), r.lengthBytes());
      Segment.writeRow(index, row);
      rows.add(row);
    }
    ByteString indexBytes = Frames.seal(index.toByteString());
    Invariants.check(indexBytes.size() <= Segment.INDEX_BYTES_MAX, "index of %d bytes", indexBytes.size());
    Footer footer = new Footer(header.size() + blocks.sizeBytes(), indexBytes.size(), rows.size());
    ByteString bytes = header.concat(blocks.toByteString()).concat(indexBytes).concat(footer.encode(Segment.MAGIC, Segment.VERSION));
    Invariants.check(bytes.size() == footer.objectBytes(), "segment of %d bytes, footer says %d", bytes.size(), footer.objectBytes());
    return new Segment.Built(bytes, summary, footer, List.copyOf(rows));
  }
}
