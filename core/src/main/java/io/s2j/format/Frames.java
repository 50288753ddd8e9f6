package io.s2j.format;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The checksummed pieces every format is built from. A <em>sealed</em> piece is its content
 * followed by the CRC32C of that content (u32, little-endian). A <em>frame</em> is a sealed piece
 * whose content is a u32 little-endian payload length followed by the payload, so it can be read
 * alone (by range) or walked in sequence.
 */
final class Frames {
  private Frames() {}

  static final int CRC_BYTES = 4;
  /** Length prefix plus checksum around a frame's payload. */
  static final int FRAME_OVERHEAD_BYTES = 4 + CRC_BYTES;

  static int crc32c(ByteString bytes) {
    CRC32C crc = new CRC32C();
    for (ByteBuffer b : bytes.asReadOnlyByteBufferList()) {
      crc.update(b);
    }
    return (int) crc.getValue();
  }

  static ByteString seal(ByteString content) {
    return content.concat(le32(crc32c(content)));
  }

  /** The content of a sealed piece, after checking its checksum. */
  static ByteString unseal(ByteString sealed, String what) {
    if (sealed.size() < CRC_BYTES) {
      throw new CorruptData(what + ": " + sealed.size() + " bytes cannot hold a checksum");
    }
    int contentBytes = sealed.size() - CRC_BYTES;
    ByteString content = sealed.substring(0, contentBytes);
    int stored = new ByteReader(sealed.substring(contentBytes), what).fixed32("checksum");
    int actual = crc32c(content);
    if (stored != actual) {
      throw new CorruptData(what + ": checksum mismatch (stored " + Integer.toHexString(stored)
          + ", computed " + Integer.toHexString(actual) + ")");
    }
    return content;
  }

  static ByteString frame(ByteString payload) {
    return seal(le32(payload.size()).concat(payload));
  }

  /**
   * {@code value} as four little-endian bytes (what {@link ByteWriter#fixed32} writes), without a
   * {@link ByteWriter}: its coded stream allocates a 4 KiB buffer, twice per chunk entry (profile
   * of the 10,000-stream benchmark: about a tenth of the channel threads' samples).
   */
  static ByteString le32(int value) {
    return ByteString.copyFrom(new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)});
  }

  /** The payload of a frame, after checking its checksum and that its length fills the frame. */
  static ByteString unframe(ByteString frame, String what) {
    if (frame.size() < FRAME_OVERHEAD_BYTES) {
      throw new CorruptData(what + ": " + frame.size() + " bytes cannot hold a frame");
    }
    ByteString content = unseal(frame, what);
    int payloadBytes = new ByteReader(content.substring(0, 4), what).fixed32("payload length");
    if (payloadBytes != frame.size() - FRAME_OVERHEAD_BYTES) {
      throw new CorruptData(what + ": payload length " + Integer.toUnsignedString(payloadBytes)
          + " does not fill the " + frame.size() + "-byte frame");
    }
    return content.substring(4);
  }

  /** Checks the 4-byte magic and the version byte that start a header at {@code r}'s position. */
  static void readMagicAndVersion(ByteReader r, ByteString magic, int version) {
    ByteString found = r.bytes("magic", magic.size());
    if (!found.equals(magic)) {
      throw r.corrupt("bad magic " + hex(found) + ", expected " + hex(magic));
    }
    int v = r.u8("version");
    if (v != version) {
      throw new UnsupportedVersion(r.what(), v, version);
    }
  }

  static String hex(ByteString bytes) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < bytes.size(); i++) {
      sb.append(String.format(java.util.Locale.ROOT, "%02x", bytes.byteAt(i) & 0xff));
    }
    return sb.toString();
  }
}
