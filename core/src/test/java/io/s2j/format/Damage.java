package io.s2j.format;

import com.google.protobuf.ByteString;

/** Ways stored bytes go wrong: a flipped bit, a changed byte, two bytes swapped, truncation, extension. */
final class Damage {
  private Damage() {}

  static ByteString flipBit(ByteString bytes, long pick) {
    byte[] b = bytes.toByteArray();
    long bit = Math.floorMod(pick, b.length * 8L);
    b[(int) (bit / 8)] ^= (byte) (1 << (bit % 8));
    return ByteString.copyFrom(b);
  }

  /** The byte a {@link #flipBit} with {@code pick} changes. */
  static int flippedByte(ByteString bytes, long pick) {
    return (int) (Math.floorMod(pick, bytes.size() * 8L) / 8);
  }

  static ByteString setByte(ByteString bytes, long pick, byte value) {
    byte[] b = bytes.toByteArray();
    b[(int) Math.floorMod(pick, (long) b.length)] = value;
    return ByteString.copyFrom(b);
  }

  static ByteString swap(ByteString bytes, int i, int j) {
    byte[] b = bytes.toByteArray();
    byte t = b[i];
    b[i] = b[j];
    b[j] = t;
    return ByteString.copyFrom(b);
  }

  /** The first {@code 0 .. size-1} bytes. */
  static ByteString truncate(ByteString bytes, long pick) {
    return bytes.substring(0, (int) Math.floorMod(pick, (long) bytes.size()));
  }
}
