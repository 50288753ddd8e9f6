package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.objectstore.ByteRange;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A channel's write-ahead-log object, format version 1: the batches the channel sequenced for many
 * streamlets, each entry readable alone by byte range, with enough command state (fencing token,
 * trim point) that a recovering channel rebuilds every tail from the chunks alone. Written by
 * {@link ChunkBuilder}; read by range ({@link #readFooter}, {@link #readIndex}, {@link #readEntry})
 * or whole ({@link #parse}).
 *
 * <p>Object layout (varints unsigned LEB128; fixed integers little-endian; CRC = CRC32C):
 *
 * <pre>
 * header   magic "S2JC" (4) | version = 1 (1) | varint channelIdBytes, channelId UTF-8 (1..128 bytes)
 *          | writerEpoch u64 (8) | chunkSeqNum u64 (8) | voidThroughChunkSeqNum u64 (8)
 *          | CRC of all preceding header bytes (4)
 * entries  entryCount frames, contiguous, the first right after the header
 * index    varint rowCount | rowCount rows | CRC of the preceding index bytes (4)
 * footer   {@link Footer}, 25 bytes, magic "S2JC"
 * </pre>
 *
 * <p>An entry is a frame: {@code payloadBytes u32 | payload | CRC u32} where the CRC covers the
 * length and the payload. Its payload:
 *
 * <pre>
 * varint  streamletId
 * records {@link RecordBatchCodec} run: 1..1000 records metering at most 1 MiB (one appended batch)
 * u8      flags: bit 0 = fencing token follows, bit 1 = trim point follows; other bits zero
 * [varint tokenBytes (0..36), token UTF-8]   the stream's fencing token after this batch
 * [varint trimPoint]                         the stream's trim point after this batch (at most the tail)
 * </pre>
 *
 * <p>An index row, one per entry in object order:
 *
 * <pre>
 * varint streamletId | varint firstSeqNum | varint recordCount | varint firstTimestamp
 * | varint (lastTimestamp - firstTimestamp) | varint offsetBytes | varint lengthBytes (whole frame)
 * </pre>
 *
 * <p>Every piece a reader may fetch alone (header, entry, index, footer) carries its own CRC, and
 * every decode checks bounds before slicing; anything wrong is a {@link CorruptData}. Entries of
 * one streamlet are contiguous in seq nums and non-decreasing in timestamps, within the index and
 * the entries alike.
 */
public final class Chunk {
  private Chunk() {}

  public static final ByteString MAGIC = ByteString.copyFromUtf8("S2JC");
  public static final int VERSION = 1;
  /** Fetch this many bytes from the end of the object to read the footer. */
  public static final int FOOTER_BYTES = Footer.BYTES;
  public static final int CHANNEL_ID_BYTES_MAX = 128;
  public static final int ENTRIES_MAX = 1 << 16;
  /** One batch of at most 1 MiB metered encodes well under this, framing included. */
  public static final int ENTRY_BYTES_MAX = 4 << 20;

  static final int FLAG_FENCING_TOKEN = 1;
  static final int FLAG_TRIM_POINT = 2;
  /** magic, version, a 1-byte channel id with its length, epoch, seq num, CRC. */
  static final int HEADER_BYTES_MIN = 4 + 1 + 2 + 8 + 8 + 8 + Frames.CRC_BYTES;
  /** streamlet id, a one-record run, flags. */
  static final int ENTRY_BYTES_MIN = Frames.FRAME_OVERHEAD_BYTES + 1 + 2 + RecordBatchCodec.RECORD_BYTES_MIN + 1;
  static final int INDEX_ROW_BYTES_MIN = 7;
  static final int INDEX_BYTES_MAX = 8 << 20;
  private static final Footer.FooterBounds FOOTER_BOUNDS =
      new Footer.FooterBounds(HEADER_BYTES_MIN, ENTRIES_MAX, INDEX_ROW_BYTES_MIN, INDEX_BYTES_MAX);

  /**
   * Who wrote the chunk: the channel, the writer's epoch (for fencing) and the chunk's place in the
   * channel's log. A fence chunk (no entries) has {@code voidThroughChunkSeqNum > chunkSeqNum}: the
   * chunk numbers after it up to that one are void, whatever they hold; 0 for an ordinary chunk.
   */
  public record Origin(String channelId, long writerEpoch, long chunkSeqNum, long voidThroughChunkSeqNum) {
    public Origin {
      int bytes = Utf8.checkedBytes(channelId, "channel id").size();
      Invariants.check(bytes >= 1 && bytes <= CHANNEL_ID_BYTES_MAX, "channel id of %d bytes", bytes);
      Invariants.check(voidThroughChunkSeqNum == 0 || voidThroughChunkSeqNum > chunkSeqNum,
          "void range through %d does not follow chunk %d", voidThroughChunkSeqNum, chunkSeqNum);
    }

    /** True for a fence chunk. */
    public boolean isFence() {
      return voidThroughChunkSeqNum != 0;
    }
  }

  /**
   * One appended batch of one streamlet, with the stream's fencing token and trim point after it
   * (each null when the channel did not record it in this entry; an empty token means "cleared").
   */
  public record Entry(long streamletId, List<SequencedRecord> records, String fencingToken, Long trimPoint) {
    public Entry {
      records = List.copyOf(records);
      RecordBatchCodec.checkRun(records);
      Invariants.check(records.size() <= Limits.BATCH_RECORDS_MAX, "%d records in one batch", records.size());
      long meteredBytes = records.stream().mapToLong(SequencedRecord::meteredBytes).sum();
      Invariants.check(meteredBytes <= Limits.STORED_BATCH_METERED_BYTES_MAX, "batch meters %d bytes", meteredBytes);
      if (fencingToken != null) {
        int bytes = Utf8.checkedBytes(fencingToken, "fencing token").size();
        Invariants.check(bytes <= Limits.FENCING_TOKEN_BYTES_MAX, "fencing token of %d bytes", bytes);
      }
      long tail = records.get(records.size() - 1).seqNum() + 1;
      Invariants.check(trimPoint == null || (trimPoint >= 0 && trimPoint <= tail), "trim point %s beyond tail %d", trimPoint, tail);
    }

    public long firstSeqNum() {
      return records.get(0).seqNum();
    }

    /** The seq num the stream's next record gets: the tail after this batch. */
    public long nextSeqNum() {
      return firstSeqNum() + records.size();
    }

    public long firstTimestamp() {
      return records.get(0).timestamp();
    }

    public long lastTimestamp() {
      return records.get(records.size() - 1).timestamp();
    }
  }

  /** Where one entry is and what it holds, so a reader fetches only the entries it needs. */
  public record IndexRow(long streamletId, long firstSeqNum, int recordCount, long firstTimestamp, long lastTimestamp,
      long offsetBytes, int lengthBytes) {
    public long endOffsetBytes() {
      return offsetBytes + lengthBytes;
    }

    public long nextSeqNum() {
      return firstSeqNum + recordCount;
    }

    /** The entry's byte range, to fetch it alone. */
    public ByteRange range() {
      return ByteRange.of(offsetBytes, lengthBytes);
    }

    static IndexRow of(Entry e, long offsetBytes, int lengthBytes) {
      return new IndexRow(e.streamletId(), e.firstSeqNum(), e.records().size(), e.firstTimestamp(), e.lastTimestamp(),
          offsetBytes, lengthBytes);
    }
  }

  /** A built chunk: the bytes to put, and its footer and index (which the channel keeps for readers). */
  public record Built(ByteString bytes, Footer footer, List<IndexRow> index) {}

  /** A whole chunk, parsed and verified: what a recovering channel replays. */
  public record Contents(Origin origin, List<IndexRow> index, List<Entry> entries) {}

  /** The footer from the last {@link #FOOTER_BYTES} (or more) bytes of a chunk. */
  public static Footer readFooter(ByteString tail) {
    return Footer.decode(tail, MAGIC, VERSION, "chunk footer", FOOTER_BOUNDS);
  }

  /** The index, from exactly the bytes of {@code footer.indexRange()}. */
  public static List<IndexRow> readIndex(ByteString indexBytes, Footer footer) {
    String what = "chunk index";
    if (indexBytes.size() != footer.indexBytes()) {
      throw new CorruptData(what + ": got " + indexBytes.size() + " bytes, the footer says " + footer.indexBytes());
    }
    ByteReader r = new ByteReader(Frames.unseal(indexBytes, what), what);
    r.varintIn("row count", footer.rowCount(), footer.rowCount());
    List<IndexRow> rows = new ArrayList<>(footer.rowCount());
    TreeMap<Long, IndexRow> lastOfStreamlet = new TreeMap<>();
    long expectedOffsetBytes = -1;
    for (int i = 0; i < footer.rowCount(); i++) {
      long streamletId = r.varint("streamlet id");
      long firstSeqNum = r.varintIn("first seq num", 0, Long.MAX_VALUE);
      int recordCount = (int) r.varintIn("record count", 1, Math.min(Limits.BATCH_RECORDS_MAX, Long.MAX_VALUE - firstSeqNum));
      long firstTimestamp = r.varintIn("first timestamp", 0, Long.MAX_VALUE);
      long lastTimestamp = firstTimestamp + r.varintIn("timestamp span", 0, Long.MAX_VALUE - firstTimestamp);
      long offsetBytes = r.varintIn("offset", HEADER_BYTES_MIN, footer.indexOffsetBytes());
      int lengthBytes = (int) r.varintIn("length", ENTRY_BYTES_MIN, ENTRY_BYTES_MAX);
      if (expectedOffsetBytes >= 0 && offsetBytes != expectedOffsetBytes) {
        throw r.corrupt("entry " + i + " starts at byte " + offsetBytes + ", not right after the previous one at " + expectedOffsetBytes);
      }
      IndexRow row = new IndexRow(streamletId, firstSeqNum, recordCount, firstTimestamp, lastTimestamp, offsetBytes, lengthBytes);
      IndexRow previous = lastOfStreamlet.put(streamletId, row);
      if (previous != null && (firstSeqNum != previous.nextSeqNum() || firstTimestamp < previous.lastTimestamp())) {
        throw r.corrupt("entry " + i + " of streamlet " + Long.toUnsignedString(streamletId) + " does not follow its previous entry");
      }
      rows.add(row);
      expectedOffsetBytes = row.endOffsetBytes();
    }
    r.expectEnd();
    if (expectedOffsetBytes >= 0 && expectedOffsetBytes != footer.indexOffsetBytes()) {
      throw new CorruptData(what + ": entries end at byte " + expectedOffsetBytes + " but the index starts at " + footer.indexOffsetBytes());
    }
    return List.copyOf(rows);
  }

  /** One entry, from exactly the bytes of {@code row.range()}, checked against {@code row}. */
  public static Entry readEntry(ByteString entryBytes, IndexRow row) {
    String what = "chunk entry at byte " + row.offsetBytes();
    if (entryBytes.size() != row.lengthBytes()) {
      throw new CorruptData(what + ": got " + entryBytes.size() + " bytes, the index says " + row.lengthBytes());
    }
    ByteReader r = new ByteReader(Frames.unframe(entryBytes, what), what);
    long streamletId = r.varint("streamlet id");
    List<SequencedRecord> records = RecordBatchCodec.read(r, Limits.BATCH_RECORDS_MAX, Limits.STORED_BATCH_METERED_BYTES_MAX);
    int flags = r.u8("flags");
    if ((flags & ~(FLAG_FENCING_TOKEN | FLAG_TRIM_POINT)) != 0) {
      throw r.corrupt("unknown flags " + Integer.toHexString(flags));
    }
    String fencingToken = null;
    if ((flags & FLAG_FENCING_TOKEN) != 0) {
      fencingToken = Utf8.decode(r.lengthPrefixed("fencing token", Limits.FENCING_TOKEN_BYTES_MAX), r);
    }
    Long trimPoint = null;
    if ((flags & FLAG_TRIM_POINT) != 0) {
      trimPoint = r.varintIn("trim point", 0, records.get(0).seqNum() + records.size());
    }
    r.expectEnd();
    Entry entry = new Entry(streamletId, records, fencingToken, trimPoint);
    if (!IndexRow.of(entry, row.offsetBytes(), row.lengthBytes()).equals(row)) {
      throw new CorruptData(what + ": contents " + IndexRow.of(entry, row.offsetBytes(), row.lengthBytes())
          + " disagree with the index row " + row);
    }
    return entry;
  }

  /** The origin, from the first bytes of a chunk (at least its header; more is fine). */
  public static Origin readOrigin(ByteString head) {
    return decodeHeader(head).origin();
  }

  /** A whole chunk, every byte verified: header, each entry, index and footer, and that they tile the object. */
  public static Contents parse(ByteString whole) {
    Footer footer = readFooter(whole);
    if (footer.objectBytes() != whole.size()) {
      throw new CorruptData("chunk: the footer implies " + footer.objectBytes() + " bytes, the object has " + whole.size());
    }
    int indexOffsetBytes = (int) footer.indexOffsetBytes();
    List<IndexRow> index = readIndex(whole.substring(indexOffsetBytes, indexOffsetBytes + footer.indexBytes()), footer);
    DecodedHeader header = decodeHeader(whole);
    long firstEntryOffsetBytes = index.isEmpty() ? footer.indexOffsetBytes() : index.get(0).offsetBytes();
    if (firstEntryOffsetBytes != header.headerBytes()) {
      throw new CorruptData("chunk: the header ends at byte " + header.headerBytes() + " but what follows starts at " + firstEntryOffsetBytes);
    }
    List<Entry> entries = new ArrayList<>(index.size());
    for (IndexRow row : index) {
      entries.add(readEntry(whole.substring((int) row.offsetBytes(), (int) row.endOffsetBytes()), row));
    }
    return new Contents(header.origin(), index, List.copyOf(entries));
  }

  static ByteString encodeHeader(Origin origin) {
    return Frames.seal(new ByteWriter().raw(MAGIC).u8(VERSION)
        .lengthPrefixed(ByteString.copyFromUtf8(origin.channelId()))
        .fixed64(origin.writerEpoch()).fixed64(origin.chunkSeqNum()).fixed64(origin.voidThroughChunkSeqNum())
        .toByteString());
  }

  static ByteString encodeEntry(Entry entry) {
    ByteWriter w = new ByteWriter().varint(entry.streamletId());
    RecordBatchCodec.write(w, entry.records());
    w.u8((entry.fencingToken() != null ? FLAG_FENCING_TOKEN : 0) | (entry.trimPoint() != null ? FLAG_TRIM_POINT : 0));
    if (entry.fencingToken() != null) {
      w.lengthPrefixed(ByteString.copyFromUtf8(entry.fencingToken()));
    }
    if (entry.trimPoint() != null) {
      w.varint(entry.trimPoint());
    }
    return Frames.frame(w.toByteString());
  }

  static void writeRow(ByteWriter w, IndexRow row) {
    w.varint(row.streamletId()).varint(row.firstSeqNum()).varint(row.recordCount())
        .varint(row.firstTimestamp()).varint(row.lastTimestamp() - row.firstTimestamp())
        .varint(row.offsetBytes()).varint(row.lengthBytes());
  }

  private record DecodedHeader(Origin origin, int headerBytes) {}

  private static DecodedHeader decodeHeader(ByteString head) {
    String what = "chunk header";
    ByteReader r = new ByteReader(head, what);
    Frames.readMagicAndVersion(r, MAGIC, VERSION);
    ByteString channelId = r.lengthPrefixed("channel id", CHANNEL_ID_BYTES_MAX);
    long writerEpoch = r.fixed64("writer epoch");
    long chunkSeqNum = r.fixed64("chunk seq num");
    long voidThrough = r.fixed64("void through");
    int headerBytes = r.position() + Frames.CRC_BYTES;
    if (headerBytes > head.size()) {
      throw r.corrupt("header checksum missing");
    }
    Frames.unseal(head.substring(0, headerBytes), what);
    if (channelId.isEmpty()) {
      throw r.corrupt("empty channel id");
    }
    if (voidThrough != 0 && Long.compareUnsigned(voidThrough, chunkSeqNum) <= 0) {
      throw r.corrupt("void range through " + voidThrough + " does not follow chunk " + chunkSeqNum);
    }
    return new DecodedHeader(new Origin(Utf8.decode(channelId, r), writerEpoch, chunkSeqNum, voidThrough), headerBytes);
  }
}
