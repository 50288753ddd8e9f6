package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.runtime.objectstore.ByteRange;

/**
 * The fixed-size tail of a chunk or a segment: where its index is and how many rows it has, so a
 * reader needs one suffix-range GET of {@link #BYTES} bytes, then one GET of the index.
 *
 * <p>Layout ({@value #BYTES} bytes, integers little-endian; offsets from the footer's start):
 *
 * <pre>
 * +0   8  indexOffsetBytes  u64, where the index starts in the object
 * +8   4  indexBytes        u32, the index's length including its checksum
 * +12  4  rowCount          u32, entries (chunk) or blocks (segment)
 * +16  1  version           the format version, same as the header's
 * +17  4  CRC32C of bytes +0 .. +17
 * +21  4  magic             "S2JC" (chunk) or "S2JS" (segment)
 * </pre>
 *
 * <p>The version byte sits at a fixed distance from the end (9 bytes) in every version, so a reader
 * can refuse a format it does not know before interpreting anything else.
 */
public record Footer(long indexOffsetBytes, int indexBytes, int rowCount) {
  public static final int BYTES = 25;

  public Footer {
    if (indexOffsetBytes < 0 || indexBytes < 0 || rowCount < 0) {
      throw new IllegalArgumentException("negative footer field");
    }
  }

  /** The whole object's length, which the footer implies (the index ends where the footer starts). */
  public long objectBytes() {
    return indexOffsetBytes + indexBytes + BYTES;
  }

  /** The index's byte range, to fetch it alone. */
  public ByteRange indexRange() {
    return ByteRange.of(indexOffsetBytes, indexBytes);
  }

  ByteString encode(ByteString magic, int version) {
    ByteString fields = new ByteWriter().fixed64(indexOffsetBytes).fixed32(indexBytes).fixed32(rowCount).u8(version)
        .toByteString();
    return Frames.seal(fields).concat(magic);
  }

  /**
   * Decodes the last {@link #BYTES} of {@code tail} and checks them against the format's bounds;
   * {@code tail} may be longer (a reader may fetch extra bytes hoping to get the index too).
   */
  static Footer decode(ByteString tail, ByteString magic, int version, String what, FooterBounds bounds) {
    if (tail.size() < BYTES) {
      throw new CorruptData(what + ": " + tail.size() + " bytes are shorter than the " + BYTES + "-byte footer");
    }
    ByteString footer = tail.substring(tail.size() - BYTES);
    ByteString foundMagic = footer.substring(BYTES - magic.size());
    if (!foundMagic.equals(magic)) {
      throw new CorruptData(what + ": bad trailing magic " + Frames.hex(foundMagic) + ", expected " + Frames.hex(magic));
    }
    int v = footer.byteAt(BYTES - magic.size() - Frames.CRC_BYTES - 1) & 0xff;
    if (v != version) {
      throw new UnsupportedVersion(what, v, version);
    }
    ByteReader r = new ByteReader(Frames.unseal(footer.substring(0, BYTES - magic.size()), what), what);
    long indexOffsetBytes = r.fixed64("index offset");
    long indexBytes = Integer.toUnsignedLong(r.fixed32("index length"));
    long rowCount = Integer.toUnsignedLong(r.fixed32("row count"));
    r.u8("version");
    r.expectEnd();
    if (indexOffsetBytes < bounds.headerBytesMin() || indexOffsetBytes > Long.MAX_VALUE / 2) {
      throw new CorruptData(what + ": index offset " + Long.toUnsignedString(indexOffsetBytes) + " is out of bounds");
    }
    if (rowCount > bounds.rowsMax()) {
      throw new CorruptData(what + ": " + rowCount + " rows exceed the limit of " + bounds.rowsMax());
    }
    long indexBytesMin = ByteWriter.varintBytes(rowCount) + rowCount * bounds.rowBytesMin() + Frames.CRC_BYTES;
    if (indexBytes < indexBytesMin || indexBytes > bounds.indexBytesMax()) {
      throw new CorruptData(what + ": index length " + indexBytes + " is outside [" + indexBytesMin + ", "
          + bounds.indexBytesMax() + "] for " + rowCount + " rows");
    }
    return new Footer(indexOffsetBytes, (int) indexBytes, (int) rowCount);
  }

  /** What a format allows its footer to say. */
  record FooterBounds(int headerBytesMin, int rowsMax, int rowBytesMin, int indexBytesMax) {}
}
