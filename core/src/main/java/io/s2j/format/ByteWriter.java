package io.s2j.format;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Appends varints, little-endian fixed-width integers and raw bytes to an in-memory buffer. */
final class ByteWriter {
  private final ByteString.Output out = ByteString.newOutput();
  private final CodedOutputStream cos = CodedOutputStream.newInstance(out);

  ByteWriter varint(long value) {
    try {
      cos.writeUInt64NoTag(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory never fails
    }
    return this;
  }

  ByteWriter u8(int value) {
    try {
      cos.writeRawByte((byte) value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  ByteWriter fixed32(int value) {
    try {
      cos.writeFixed32NoTag(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  ByteWriter fixed64(long value) {
    try {
      cos.writeFixed64NoTag(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  ByteWriter raw(ByteString bytes) {
    try {
      cos.writeRawBytes(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** A varint byte count, then the bytes. */
  ByteWriter lengthPrefixed(ByteString bytes) {
    return varint(bytes.size()).raw(bytes);
  }

  long sizeBytes() {
    return cos.getTotalBytesWritten();
  }

  ByteString toByteString() {
    try {
      cos.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteString();
  }

  static int varintBytes(long value) {
    return CodedOutputStream.computeUInt64SizeNoTag(value);
  }
}
