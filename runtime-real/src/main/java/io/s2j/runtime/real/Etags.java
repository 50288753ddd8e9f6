package io.s2j.runtime.real;

import com.dynatrace.hash4j.hashing.HashStream128;
import com.dynatrace.hash4j.hashing.Hashing;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * The content part of the etags the in-process stores make: XXH3-128 in hex. Etags only need to
 * tell versions apart (each also carries a version number), not to resist forgery, and a
 * cryptographic hash here cost a third of a busy channel's thread.
 */
final class Etags {
  private Etags() {}

  static String contentHash(ByteString data) {
    HashStream128 h = Hashing.xxh3_128().hashStream();
    for (ByteBuffer b : data.asReadOnlyByteBufferList()) {
      if (b.hasArray()) {
        h.putBytes(b.array(), b.arrayOffset() + b.position(), b.remaining());
      } else {
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        h.putBytes(copy);
      }
    }
    return HexFormat.of().formatHex(h.get().toByteArray());
  }
}
