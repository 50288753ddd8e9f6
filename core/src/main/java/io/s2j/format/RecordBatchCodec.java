package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.record.Command;
import io.s2j.record.Header;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a run of records with contiguous sequence numbers, the unit inside a chunk entry and a
 * segment block. It carries no checksum of its own: it is always stored inside a checksummed frame.
 *
 * <p>Layout (varints are unsigned LEB128, as protobuf writes them):
 *
 * <pre>
 * varint  firstSeqNum
 * varint  recordCount                        1 .. recordsMax
 * recordCount times:
 *   varint  timestampDelta                   the first record's: its timestamp; then: minus the previous one's
 *   varint  headerCount
 *   headerCount times:
 *     varint nameBytes, name bytes
 *     varint valueBytes, value bytes
 *   varint  bodyBytes, body bytes
 * </pre>
 *
 * <p>Decoding checks every count and length against the bytes that remain before slicing or
 * allocating, that seq nums and timestamps stay within 0 .. 2^63-1, that each record meters at most
 * {@link Limits#STORED_RECORD_METERED_BYTES_MAX} and is a valid S2 record (an empty header name only in a
 * well-formed command record), and that the whole run meters at most the caller's bound. Decoded
 * headers and bodies share the input's bytes.
 */
public final class RecordBatchCodec {
  private RecordBatchCodec() {}

  /** Each record takes at least a delta, a header count and a body length: one byte each. */
  static final int RECORD_BYTES_MIN = 3;

  public static ByteString encode(List<SequencedRecord> records) {
    ByteWriter w = new ByteWriter();
    write(w, records);
    return w.toByteString();
  }

  /**
   * Decodes all of {@code bytes}: at most {@code recordsMax} records metering at most
   * {@code meteredBytesMax} together.
   */
  public static List<SequencedRecord> decode(ByteString bytes, int recordsMax, long meteredBytesMax) {
    ByteReader r = new ByteReader(bytes, "record batch");
    List<SequencedRecord> records = read(r, recordsMax, meteredBytesMax);
    r.expectEnd();
    return records;
  }

  static void write(ByteWriter w, List<SequencedRecord> records) {
    checkRun(records);
    w.varint(records.get(0).seqNum()).varint(records.size());
    long previousTimestamp = 0;
    for (SequencedRecord rec : records) {
      try {
        Command.parse(rec.headers(), rec.body());
      } catch (Command.InvalidRecord e) {
        Invariants.check(false, "record %d is not a valid S2 record: %s", rec.seqNum(), e.getMessage());
      }
      w.varint(rec.timestamp() - previousTimestamp).varint(rec.headers().size());
      for (Header h : rec.headers()) {
        w.lengthPrefixed(h.name()).lengthPrefixed(h.value());
      }
      w.lengthPrefixed(rec.body());
      previousTimestamp = rec.timestamp();
    }
  }

  /** The bytes {@code rec} adds to an encoding after a record with {@code previousTimestamp}. */
  static long encodedBytes(SequencedRecord rec, long previousTimestamp) {
    long n = ByteWriter.varintBytes(rec.timestamp() - previousTimestamp) + ByteWriter.varintBytes(rec.headers().size());
    for (Header h : rec.headers()) {
      n += ByteWriter.varintBytes(h.name().size()) + h.name().size() + ByteWriter.varintBytes(h.value().size()) + h.value().size();
    }
    return n + ByteWriter.varintBytes(rec.body().size()) + rec.body().size();
  }

  /** Checks what every stored run must satisfy (a failure is a bug in the writer). */
  static void checkRun(List<SequencedRecord> records) {
    Invariants.check(!records.isEmpty(), "an encoded run of records must not be empty");
    for (int i = 0; i < records.size(); i++) {
      SequencedRecord rec = records.get(i);
      Invariants.check(rec.meteredBytes() <= Limits.STORED_RECORD_METERED_BYTES_MAX, "record meters %d bytes", rec.meteredBytes());
      if (i > 0) {
        SequencedRecord prev = records.get(i - 1);
        Invariants.check(rec.seqNum() == prev.seqNum() + 1, "seq nums not contiguous: %d after %d", rec.seqNum(), prev.seqNum());
        Invariants.check(rec.timestamp() >= prev.timestamp(), "timestamp %d after %d", rec.timestamp(), prev.timestamp());
      }
    }
  }

  static List<SequencedRecord> read(ByteReader r, int recordsMax, long meteredBytesMax) {
    long firstSeqNum = r.varintIn("first seq num", 0, Long.MAX_VALUE);
    int count = (int) r.varintIn("record count", 1, Math.min(recordsMax, r.remaining() / RECORD_BYTES_MIN));
    if (firstSeqNum > Long.MAX_VALUE - count) {
      throw r.corrupt("seq nums overflow: first " + firstSeqNum + ", count " + count);
    }
    List<SequencedRecord> records = new ArrayList<>(count);
    long timestamp = 0;
    long meteredBytes = 0;
    for (int i = 0; i < count; i++) {
      long delta = r.varintIn("timestamp delta", 0, Long.MAX_VALUE - timestamp);
      timestamp += delta;
      // each header meters at least 2 bytes and takes at least 2 encoded bytes
      long headerCountMax = Math.min(r.remaining() / 2, (Limits.STORED_RECORD_METERED_BYTES_MAX - 8) / 2);
      int headerCount = (int) r.varintIn("header count", 0, headerCountMax);
      List<Header> headers = new ArrayList<>(headerCount);
      for (int h = 0; h < headerCount; h++) {
        ByteString name = r.lengthPrefixed("header name", Limits.STORED_RECORD_METERED_BYTES_MAX);
        ByteString value = r.lengthPrefixed("header value", Limits.STORED_RECORD_METERED_BYTES_MAX);
        headers.add(new Header(name, value));
      }
      ByteString body = r.lengthPrefixed("body", Limits.STORED_RECORD_METERED_BYTES_MAX);
      SequencedRecord rec = new SequencedRecord(firstSeqNum + i, timestamp, headers, body);
      if (rec.meteredBytes() > Limits.STORED_RECORD_METERED_BYTES_MAX) {
        throw r.corrupt("record " + rec.seqNum() + " meters " + rec.meteredBytes() + " bytes");
      }
      meteredBytes += rec.meteredBytes();
      if (meteredBytes > meteredBytesMax) {
        throw r.corrupt("records meter more than " + meteredBytesMax + " bytes");
      }
      try {
        Command.parse(headers, body);
      } catch (Command.InvalidRecord e) {
        throw r.corrupt("record " + rec.seqNum() + " is not a valid S2 record: " + e.getMessage());
      }
      records.add(rec);
    }
    return records;
  }
}
