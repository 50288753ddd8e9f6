package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.objectstore.ByteRange;
import java.util.ArrayList;
import java.util.List;

/**
 * One streamlet's contiguous records for long-term reads, format version 1: records grouped in
 * blocks of about {@code blockBytesTarget}, each checksummed and readable alone by byte range,
 * found by seq num or timestamp through the index. Written by {@link SegmentBuilder}; read by
 * range ({@link #readFooter}, {@link #readIndex}, {@link #readBlock}) or whole ({@link #parse}).
 *
 * <p>Object layout (varints unsigned LEB128; fixed integers little-endian; CRC = CRC32C):
 *
 * <pre>
 * header  magic "S2JS" (4) | version = 1 (1) | varint streamletId | varint firstSeqNum
 *         | varint recordCount | varint firstTimestamp | varint (lastTimestamp - firstTimestamp)
 *         | CRC of all preceding header bytes (4)
 * blocks  blockCount frames, contiguous, the first right after the header; a frame is
 *         payloadBytes u32 | payload | CRC u32 of length and payload, and the payload is a
 *         {@link RecordBatchCodec} run of 1..{@value #BLOCK_RECORDS_MAX} records
 * index   varint blockCount | blockCount rows | CRC of the preceding index bytes (4)
 * footer  {@link Footer}, 25 bytes, magic "S2JS"
 * </pre>
 *
 * <p>An index row, one per block in object order:
 *
 * <pre>
 * varint firstSeqNum | varint recordCount | varint firstTimestamp | varint (lastTimestamp - firstTimestamp)
 * | varint offsetBytes | varint lengthBytes (whole frame)
 * </pre>
 *
 * <p>Blocks are contiguous in seq nums and non-decreasing in timestamps, and the header agrees
 * with the index; all of it is checked on decode, and anything wrong is a {@link CorruptData}.
 */
public final class Segment {
  private Segment() {}

  public static final ByteString MAGIC = ByteString.copyFromUtf8("S2JS");
  public static final int VERSION = 1;
  /** Fetch this many bytes from the end of the object to read the footer. */
  public static final int FOOTER_BYTES = Footer.BYTES;
  public static final int BLOCK_RECORDS_MAX = 4096;
  public static final int BLOCK_BYTES_TARGET_MAX = 16 << 20;
  /** A block closes once it reaches the target, so it exceeds it by at most one record (at most ~1 MiB). */
  public static final int BLOCK_BYTES_MAX = 2 * BLOCK_BYTES_TARGET_MAX;
  public static final int BLOCKS_MAX = 1 << 20;

  /** magic, version, five one-byte varints, CRC. */
  static final int HEADER_BYTES_MIN = 4 + 1 + 5 + Frames.CRC_BYTES;
  static final int BLOCK_BYTES_MIN = Frames.FRAME_OVERHEAD_BYTES + 2 + RecordBatchCodec.RECORD_BYTES_MIN;
  static final int INDEX_ROW_BYTES_MIN = 6;
  static final int INDEX_BYTES_MAX = 64 << 20;
  private static final Footer.FooterBounds FOOTER_BOUNDS =
      new Footer.FooterBounds(HEADER_BYTES_MIN, BLOCKS_MAX, INDEX_ROW_BYTES_MIN, INDEX_BYTES_MAX);

  /** What the segment holds: whose records, which seq nums, which timestamps. */
  public record Summary(long streamletId, long firstSeqNum, long recordCount, long firstTimestamp, long lastTimestamp) {
    public long nextSeqNum() {
      return firstSeqNum + recordCount;
    }
  }

  /** Where one block is and which records it holds, so a reader fetches only the block it needs. */
  public record BlockRow(long firstSeqNum, int recordCount, long firstTimestamp, long lastTimestamp, long offsetBytes,
      int lengthBytes) {
    public long nextSeqNum() {
      return firstSeqNum + recordCount;
    }

    public long endOffsetBytes() {
      return offsetBytes + lengthBytes;
    }

    /** The block's byte range, to fetch it alone. */
    public ByteRange range() {
      return ByteRange.of(offsetBytes, lengthBytes);
    }

    static BlockRow of(List<SequencedRecord> block, long offsetBytes, int lengthBytes) {
      return new BlockRow(block.get(0).seqNum(), block.size(), block.get(0).timestamp(),
          block.get(block.size() - 1).timestamp(), offsetBytes, lengthBytes);
    }
  }

  /** A built segment: the bytes to put, its summary (for the metadata's segment index), footer and block index. */
  public record Built(ByteString bytes, Summary summary, Footer footer, List<BlockRow> index) {}

  /** A whole segment, parsed and verified. */
  public record Contents(Summary summary, List<BlockRow> index, List<SequencedRecord> records) {}

  /** The footer from the last {@link #FOOTER_BYTES} (or more) bytes of a segment. */
  public static Footer readFooter(ByteString tail) {
    return Footer.decode(tail, MAGIC, VERSION, "segment footer", FOOTER_BOUNDS);
  }

  /** The block index, from exactly the bytes of {@code footer.indexRange()}. */
  public static List<BlockRow> readIndex(ByteString indexBytes, Footer footer) {
    String what = "segment index";
    if (indexBytes.size() != footer.indexBytes()) {
      throw new CorruptData(what + ": got " + indexBytes.size() + " bytes, the footer says " + footer.indexBytes());
    }
    if (footer.rowCount() == 0) {
      throw new CorruptData(what + ": a segment has at least one block");
    }
    ByteReader r = new ByteReader(Frames.unseal(indexBytes, what), what);
    r.varintIn("block count", footer.rowCount(), footer.rowCount());
    List<BlockRow> rows = new ArrayList<>(footer.rowCount());
    BlockRow previous = null;
    for (int i = 0; i < footer.rowCount(); i++) {
      long firstSeqNum = r.varintIn("first seq num", 0, Long.MAX_VALUE);
      int recordCount = (int) r.varintIn("record count", 1, Math.min(BLOCK_RECORDS_MAX, Long.MAX_VALUE - firstSeqNum));
      long firstTimestamp = r.varintIn("first timestamp", 0, Long.MAX_VALUE);
      long lastTimestamp = firstTimestamp + r.varintIn("timestamp span", 0, Long.MAX_VALUE - firstTimestamp);
      long offsetBytes = r.varintIn("offset", HEADER_BYTES_MIN, footer.indexOffsetBytes());
      int lengthBytes = (int) r.varintIn("length", BLOCK_BYTES_MIN, BLOCK_BYTES_MAX);
      if (previous != null) {
        if (offsetBytes != previous.endOffsetBytes()) {
          throw r.corrupt("block " + i + " starts at byte " + offsetBytes + ", not right after the previous one at " + previous.endOffsetBytes());
        }
        if (firstSeqNum != previous.nextSeqNum() || firstTimestamp < previous.lastTimestamp()) {
          throw r.corrupt("block " + i + " does not follow the previous block in seq nums and timestamps");
        }
      }
      previous = new BlockRow(firstSeqNum, recordCount, firstTimestamp, lastTimestamp, offsetBytes, lengthBytes);
      rows.add(previous);
    }
    r.expectEnd();
    if (previous.endOffsetBytes() != footer.indexOffsetBytes()) {
      throw new CorruptData(what + ": blocks end at byte " + previous.endOffsetBytes() + " but the index starts at " + footer.indexOffsetBytes());
    }
    return List.copyOf(rows);
  }

  /** One block's records, from exactly the bytes of {@code row.range()}, checked against {@code row}. */
  public static List<SequencedRecord> readBlock(ByteString blockBytes, BlockRow row) {
    String what = "segment block at byte " + row.offsetBytes();
    if (blockBytes.size() != row.lengthBytes()) {
      throw new CorruptData(what + ": got " + blockBytes.size() + " bytes, the index says " + row.lengthBytes());
    }
    ByteReader r = new ByteReader(Frames.unframe(blockBytes, what), what);
    List<SequencedRecord> records = RecordBatchCodec.read(r, BLOCK_RECORDS_MAX, Long.MAX_VALUE);
    r.expectEnd();
    BlockRow found = BlockRow.of(records, row.offsetBytes(), row.lengthBytes());
    if (!found.equals(row)) {
      throw new CorruptData(what + ": contents " + found + " disagree with the index row " + row);
    }
    return List.copyOf(records);
  }

  /** The summary, from the first bytes of a segment (at least its header; more is fine). */
  public static Summary readSummary(ByteString head) {
    return decodeHeader(head).summary();
  }

  /** A whole segment, every byte verified: header, blocks, index and footer, and that they tile the object. */
  public static Contents parse(ByteString whole) {
    Footer footer = readFooter(whole);
    if (footer.objectBytes() != whole.size()) {
      throw new CorruptData("segment: the footer implies " + footer.objectBytes() + " bytes, the object has " + whole.size());
    }
    int indexOffsetBytes = (int) footer.indexOffsetBytes();
    List<BlockRow> index = readIndex(whole.substring(indexOffsetBytes, indexOffsetBytes + footer.indexBytes()), footer);
    DecodedHeader header = decodeHeader(whole);
    if (index.get(0).offsetBytes() != header.headerBytes()) {
      throw new CorruptData("segment: the header ends at byte " + header.headerBytes() + " but the first block starts at " + index.get(0).offsetBytes());
    }
    Summary s = header.summary();
    BlockRow last = index.get(index.size() - 1);
    if (s.firstSeqNum() != index.get(0).firstSeqNum() || s.nextSeqNum() != last.nextSeqNum()
        || s.firstTimestamp() != index.get(0).firstTimestamp() || s.lastTimestamp() != last.lastTimestamp()) {
      throw new CorruptData("segment: header " + s + " disagrees with the index");
    }
    List<SequencedRecord> records = new ArrayList<>();
    for (BlockRow row : index) {
      records.addAll(readBlock(whole.substring((int) row.offsetBytes(), (int) row.endOffsetBytes()), row));
    }
    return new Contents(s, index, List.copyOf(records));
  }

  /**
   * The index of the block holding {@code seqNum}, or of the first block after it (0 when it is
   * below the segment); {@code index.size()} when it is at or past the segment's end.
   */
  public static int blockForSeqNum(List<BlockRow> index, long seqNum) {
    int lo = 0;
    int hi = index.size();
    while (lo < hi) { // first block whose last seq num >= seqNum
      int mid = (lo + hi) >>> 1;
      if (index.get(mid).nextSeqNum() <= seqNum) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The index of the first block holding a record with timestamp at least {@code timestamp}:
   * the first whose last timestamp is at least it (timestamps never decrease);
   * {@code index.size()} when there is none.
   */
  public static int blockForTimestamp(List<BlockRow> index, long timestamp) {
    int lo = 0;
    int hi = index.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (index.get(mid).lastTimestamp() < timestamp) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The records of a block from the first with seq num at least {@code seqNum}. */
  public static List<SequencedRecord> fromSeqNum(List<SequencedRecord> block, long seqNum) {
    if (block.isEmpty()) {
      return block;
    }
    long skip = Math.max(0, Math.min(block.size(), seqNum - block.get(0).seqNum()));
    return block.subList((int) skip, block.size());
  }

  /** The records of a block from the first with timestamp at least {@code timestamp}. */
  public static List<SequencedRecord> fromTimestamp(List<SequencedRecord> block, long timestamp) {
    int lo = 0;
    int hi = block.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (block.get(mid).timestamp() < timestamp) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return block.subList(lo, block.size());
  }

  static ByteString encodeHeader(Summary s) {
    return Frames.seal(new ByteWriter().raw(MAGIC).u8(VERSION)
        .varint(s.streamletId()).varint(s.firstSeqNum()).varint(s.recordCount())
        .varint(s.firstTimestamp()).varint(s.lastTimestamp() - s.firstTimestamp())
        .toByteString());
  }

  static void writeRow(ByteWriter w, BlockRow row) {
    w.varint(row.firstSeqNum()).varint(row.recordCount())
        .varint(row.firstTimestamp()).varint(row.lastTimestamp() - row.firstTimestamp())
        .varint(row.offsetBytes()).varint(row.lengthBytes());
  }

  private record DecodedHeader(Summary summary, int headerBytes) {}

  private static DecodedHeader decodeHeader(ByteString head) {
    String what = "segment header";
    ByteReader r = new ByteReader(head, what);
    Frames.readMagicAndVersion(r, MAGIC, VERSION);
    long streamletId = r.varint("streamlet id");
    long firstSeqNum = r.varintIn("first seq num", 0, Long.MAX_VALUE);
    long recordCount = r.varintIn("record count", 1, Math.min((long) BLOCKS_MAX * BLOCK_RECORDS_MAX, Long.MAX_VALUE - firstSeqNum));
    long firstTimestamp = r.varintIn("first timestamp", 0, Long.MAX_VALUE);
    long lastTimestamp = firstTimestamp + r.varintIn("timestamp span", 0, Long.MAX_VALUE - firstTimestamp);
    int headerBytes = r.position() + Frames.CRC_BYTES;
    if (headerBytes > head.size()) {
      throw r.corrupt("header checksum missing");
    }
    Frames.unseal(head.substring(0, headerBytes), what);
    Invariants.check(headerBytes >= HEADER_BYTES_MIN, "segment header of %d bytes", headerBytes);
    return new DecodedHeader(new Summary(streamletId, firstSeqNum, recordCount, firstTimestamp, lastTimestamp), headerBytes);
  }
}
