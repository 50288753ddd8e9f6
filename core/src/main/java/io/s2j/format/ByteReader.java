package io.s2j.format;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import java.io.IOException;

/**
 * Reads what {@link ByteWriter} writes, bounds-checked: every length is compared with the bytes
 * that remain before anything is sliced or allocated, and every failure is a {@link CorruptData}
 * naming {@code what} was being read.
 */
final class ByteReader {
  private final ByteString src;
  private final CodedInputStream in;
  private final String what;

  ByteReader(ByteString src, String what) {
    this.src = src;
    this.in = src.newCodedInput();
    this.what = what;
  }

  String what() {
    return what;
  }

  int position() {
    return in.getTotalBytesRead();
  }

  int remaining() {
    return src.size() - in.getTotalBytesRead();
  }

  CorruptData corrupt(String message) {
    return new CorruptData(what + ": " + message + " (at byte " + position() + " of " + src.size() + ")");
  }

  /** A u64 varint, as its 64 bits. */
  long varint(String field) {
    try {
      return in.readRawVarint64();
    } catch (IOException e) {
      throw corrupt("unreadable varint " + field);
    }
  }

  /** A u64 varint that must lie in {@code [min, max]} (both non-negative). */
  long varintIn(String field, long min, long max) {
    long v = varint(field);
    if (v < min || v > max) {
      throw corrupt(field + " " + Long.toUnsignedString(v) + " is outside [" + min + ", " + max + "]");
    }
    return v;
  }

  int u8(String field) {
    try {
      return in.readRawByte() & 0xff;
    } catch (IOException e) {
      throw corrupt("missing " + field);
    }
  }

  int fixed32(String field) {
    try {
      return in.readFixed32();
    } catch (IOException e) {
      throw corrupt("missing " + field);
    }
  }

  long fixed64(String field) {
    try {
      return in.readFixed64();
    } catch (IOException e) {
      throw corrupt("missing " + field);
    }
  }

  /** The next {@code n} bytes, shared with the source (no copy). */
  ByteString bytes(String field, long n) {
    if (n < 0 || n > remaining()) {
      throw corrupt(field + " of " + Long.toUnsignedString(n) + " bytes overruns the " + remaining() + " bytes left");
    }
    int start = position();
    try {
      in.skipRawBytes((int) n);
    } catch (IOException e) {
      throw corrupt("cannot skip " + field);
    }
    return src.substring(start, start + (int) n);
  }

  /** A varint byte count of at most {@code maxBytes}, then that many bytes. */
  ByteString lengthPrefixed(String field, long maxBytes) {
    long n = varint(field + " length");
    if (n < 0 || n > maxBytes) {
      throw corrupt(field + " length " + Long.toUnsignedString(n) + " exceeds " + maxBytes);
    }
    return bytes(field, n);
  }

  void expectEnd() {
    if (remaining() != 0) {
      throw corrupt(remaining() + " unexpected trailing bytes");
    }
  }
}
