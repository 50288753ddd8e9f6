package io.s2j.server;

import com.github.luben.zstd.Zstd;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.s2j.api.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * S2S framing (S2-API §10.2): a 3-byte big-endian length (flag + body), a flag byte
 * {@code [T][CC][R][0000]} and the body: a protobuf message, compressed per CC, or — terminal — a
 * 2-byte status and S2's JSON error body.
 */
final class S2sFrames {
  private S2sFrames() {}

  static final int LENGTH_MAX = 2 * 1024 * 1024;
  /** Bodies under this are sent uncompressed even when compression was negotiated (as lite does). */
  static final int COMPRESS_FROM_BYTES = 1024;
  static final int FLAG_TERMINAL = 0x80;
  static final int FLAG_COMPRESSION_MASK = 0x60;

  /** Per-message compression. */
  enum Compression {
    NONE(0), ZSTD(1), GZIP(2);

    final int bits;

    Compression(int bits) {
      this.bits = bits;
    }

    /** lite's choice: zstd if any Accept-Encoding mentions it, else gzip if one does, else none. */
    static Compression negotiate(List<String> acceptEncodings) {
      boolean gzip = false;
      for (String v : acceptEncodings) {
        String lower = v.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("zstd")) {
          return ZSTD;
        }
        gzip |= lower.contains("gzip");
      }
      return gzip ? GZIP : NONE;
    }
  }

  /** A regular frame carrying {@code message}. */
  static ByteBuf message(ByteBufAllocator alloc, byte[] message, Compression compression) {
    Compression c = message.length < COMPRESS_FROM_BYTES ? Compression.NONE : compression;
    byte[] body = compress(message, c);
    return frame(alloc, c.bits << 5, body);
  }

  /**
   * A regular frame carrying {@code message}, serialized straight into the frame's buffer when it
   * goes uncompressed (one copy instead of two: read sessions send megabytes a second this way).
   */
  static ByteBuf message(ByteBufAllocator alloc, com.google.protobuf.MessageLite message, Compression compression) {
    int size = message.getSerializedSize();
    if (size >= COMPRESS_FROM_BYTES && compression != Compression.NONE) {
      return message(alloc, message.toByteArray(), compression);
    }
    int length = 1 + size;
    if (length > LENGTH_MAX) {
      throw new IllegalArgumentException("S2S frame of " + length + " bytes exceeds " + LENGTH_MAX);
    }
    ByteBuf buf = alloc.buffer(4 + size);
    buf.writeMedium(length);
    buf.writeByte(0);
    try {
      com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(buf.nioBuffer(4, size));
      message.writeTo(out);
      out.flush();
      out.checkNoSpaceLeft();
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw new IllegalStateException("protobuf into a sized buffer", e);
    }
    buf.writerIndex(4 + size);
    return buf;
  }

  /** A terminal frame: status and JSON error body. */
  static ByteBuf terminal(ByteBufAllocator alloc, int status, byte[] json) {
    byte[] body = new byte[2 + json.length];
    body[0] = (byte) (status >>> 8);
    body[1] = (byte) status;
    System.arraycopy(json, 0, body, 2, json.length);
    return frame(alloc, FLAG_TERMINAL, body);
  }

  private static ByteBuf frame(ByteBufAllocator alloc, int flag, byte[] body) {
    int length = 1 + body.length;
    if (length > LENGTH_MAX) {
      throw new IllegalArgumentException("S2S frame of " + length + " bytes exceeds " + LENGTH_MAX);
    }
    ByteBuf buf = alloc.buffer(3 + length);
    buf.writeMedium(length);
    buf.writeByte(flag);
    buf.writeBytes(body);
    return buf;
  }

  static byte[] compress(byte[] data, Compression c) {
    return switch (c) {
      case NONE -> data;
      case ZSTD -> Zstd.compress(data);
      case GZIP -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 2 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
          gz.write(data);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        yield out.toByteArray();
      }
    };
  }

  static byte[] decompress(byte[] data, Compression c) throws IOException {
    return switch (c) {
      case NONE -> data;
      case ZSTD -> {
        long size = Zstd.getFrameContentSize(data);
        if (size < 0 || size >= LENGTH_MAX) {
          // unknown size (streaming frame) or too large: decode with a bound
          yield readBounded(new com.github.luben.zstd.ZstdInputStream(new ByteArrayInputStream(data)));
        }
        yield Zstd.decompress(data, (int) size);
      }
      case GZIP -> readBounded(new GZIPInputStream(new ByteArrayInputStream(data)));
    };
  }

  private static byte[] readBounded(InputStream in) throws IOException {
    try (in) {
      byte[] out = in.readNBytes(LENGTH_MAX);
      if (out.length >= LENGTH_MAX) {
        throw new IOException("decompressed S2S message exceeds " + (LENGTH_MAX - 1) + " bytes");
      }
      return out;
    }
  }

  /** A decoded inbound frame: terminal flag and the (decompressed) body. */
  record Frame(boolean terminal, byte[] body) {}

  /** Splits a byte stream into frames; a malformed frame is {@code 400 bad_frame}. */
  static final class Decoder {
    private final CompositeByteBuf buffer;

    Decoder(ByteBufAllocator alloc) {
      this.buffer = alloc.compositeBuffer(Integer.MAX_VALUE);
    }

    /** Takes ownership of {@code data}; returns the frames now complete. */
    List<Frame> feed(ByteBuf data) {
      buffer.addComponent(true, data);
      List<Frame> frames = new ArrayList<>();
      while (buffer.readableBytes() >= 3) {
        int length = buffer.getUnsignedMedium(buffer.readerIndex());
        if (length < 1 || length > LENGTH_MAX) {
          throw new ApiError(ErrorCode.BAD_FRAME, "invalid S2S frame length " + length);
        }
        if (buffer.readableBytes() < 3 + length) {
          break;
        }
        buffer.skipBytes(3);
        int flag = buffer.readUnsignedByte();
        byte[] body = new byte[length - 1];
        buffer.readBytes(body);
        int cc = (flag & FLAG_COMPRESSION_MASK) >>> 5;
        Compression c = switch (cc) {
          case 0 -> Compression.NONE;
          case 1 -> Compression.ZSTD;
          case 2 -> Compression.GZIP;
          default -> throw new ApiError(ErrorCode.BAD_FRAME, "invalid S2S compression bits");
        };
        boolean terminal = (flag & FLAG_TERMINAL) != 0;
        try {
          frames.add(new Frame(terminal, terminal ? body : decompress(body, c)));
        } catch (IOException | RuntimeException e) {
          throw new ApiError(ErrorCode.BAD_FRAME, "cannot decompress S2S frame: " + e.getMessage());
        }
      }
      buffer.discardReadComponents();
      return frames;
    }

    /** True if a partial frame is buffered. */
    boolean hasPartial() {
      return buffer.isReadable();
    }

    void release() {
      buffer.release();
    }
  }
}
