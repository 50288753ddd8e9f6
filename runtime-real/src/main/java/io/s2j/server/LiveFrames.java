package io.s2j.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.s2j.frontend.ReadSession;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * Live batches encoded once for all the read sessions at a stream's tail (fan-out). A {@link
 * ReadSession.Batch#shared() shared} batch reaches every follower that takes it whole as the same
 * records list; the first session to see it encodes it (per wire form: an S2S frame per
 * compression, the {@code data:} part of an SSE event per record format) and every session gets a
 * retained duplicate of those bytes instead of encoding its own copy.
 *
 * <p>Used only on the frontend's executor (in the read sessions' sinks), so it needs no locks.
 * The encodings of the last {@link #BATCHES_MAX} shared batches are kept (at most about {@link
 * #BYTES_MAX}), not only while the frontend delivers a batch to every follower: a session paused by
 * back-pressure replays the live batches it held when it resumes, and with a slow client hundreds
 * of sessions do that; they find their encodings here. An older batch is encoded again, which is
 * correct, only not shared.
 */
final class LiveFrames {
  private static final int COMPRESSIONS = S2sFrames.Compression.values().length;
  private static final int VARIANTS = COMPRESSIONS + RecordFormat.values().length;
  static final int BATCHES_MAX = 256;
  static final long BYTES_MAX = 16L << 20;

  /** The most recent shared batches, oldest first. */
  private final java.util.ArrayDeque<Entry> entries = new java.util.ArrayDeque<>();
  private long bytes;
  /** Written on the frontend's executor only; volatile for readers elsewhere (tests). */
  private volatile long encoded;
  private volatile long reused;

  LiveFrames() {}

  private static final class Entry {
    final List<SequencedRecord> records;
    final StreamPosition tail;
    final ByteBuf[] bufs = new ByteBuf[VARIANTS];

    Entry(List<SequencedRecord> records, StreamPosition tail) {
      this.records = records;
      this.tail = tail;
    }

    void release() {
      for (int i = 0; i < bufs.length; i++) {
        if (bufs[i] != null) {
          bufs[i].release();
          bufs[i] = null;
        }
      }
    }
  }

  /** The S2S frame of shared batch {@code b}; the caller owns the returned reference. */
  ByteBuf s2s(ReadSession.Batch b, S2sFrames.Compression compression, ByteBufAllocator alloc) {
    return encoding(b, compression.ordinal(),
        () -> S2sFrames.message(alloc, Protos.readBatch(b.records(), b.tail()), compression));
  }

  /**
   * The part of shared batch {@code b}'s SSE event that is the same for every session,
   * {@code "data: <json>\n\n"} (the {@code event:} and {@code id:} lines are the session's own);
   * the caller owns the returned reference.
   */
  ByteBuf sseData(ReadSession.Batch b, RecordFormat format, ByteBufAllocator alloc) {
    return encoding(b, COMPRESSIONS + format.ordinal(), () -> sseDataOf(b.records(), b.tail(), format, alloc));
  }

  /**
   * A retained duplicate of {@code b}'s encoding in {@code slot}, encoded now if no session asked
   * for it before. The duplicate is taken before older entries are evicted, so it stays valid even
   * when this batch's own entry is the one evicted (a resuming session's old batch).
   */
  private ByteBuf encoding(ReadSession.Batch b, int slot, Supplier<ByteBuf> encode) {
    Entry e = entry(b);
    if (e.bufs[slot] != null) {
      reused++;
      return e.bufs[slot].retainedDuplicate();
    }
    ByteBuf buf = encode.get();
    e.bufs[slot] = buf;
    ByteBuf out = buf.retainedDuplicate();
    added(buf);
    return out;
  }

  static ByteBuf sseDataOf(List<SequencedRecord> records, StreamPosition tail, RecordFormat format, ByteBufAllocator alloc) {
    byte[] json = Json.bytes(Json.readBatch(records, tail, format));
    ByteBuf buf = alloc.directBuffer(json.length + 8);
    buf.writeCharSequence("data: ", StandardCharsets.US_ASCII);
    buf.writeBytes(json);
    buf.writeCharSequence("\n\n", StandardCharsets.US_ASCII);
    return buf;
  }

  /** Encodings made and reused so far (for tests and metrics). */
  long encoded() {
    return encoded;
  }

  long reused() {
    return reused;
  }

  private void added(ByteBuf buf) {
    encoded++;
    bytes += buf.readableBytes();
    while (entries.size() > 1 && (entries.size() > BATCHES_MAX || bytes > BYTES_MAX)) {
      Entry old = entries.pollFirst();
      for (ByteBuf x : old.bufs) {
        bytes -= x == null ? 0 : x.readableBytes();
      }
      old.release();
    }
  }

  private Entry entry(ReadSession.Batch b) {
    if (!b.shared()) {
      throw new IllegalArgumentException("only shared live batches are encoded once");
    }
    // Newest first: every follower but a resuming one asks for the batch just delivered.
    for (var it = entries.descendingIterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (e.records == b.records() && e.tail.equals(b.tail())) {
        return e;
      }
    }
    Entry e = new Entry(b.records(), b.tail());
    entries.addLast(e);
    return e;
  }

  /** Releases every encoding kept (the server is closing); on the frontend's executor. */
  void releaseAll() {
    entries.forEach(Entry::release);
    entries.clear();
    bytes = 0;
  }
}
