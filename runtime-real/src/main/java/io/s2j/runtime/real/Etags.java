package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The content part of the etags the in-process stores make: a truncated SHA-256 in hex. */
final class Etags {
  private static final int HASH_BYTES = 16;

  private Etags() {}

  static String contentHash(ByteString data) {
    MessageDigest sha = sha256();
    for (ByteBuffer b : data.asReadOnlyByteBufferList()) {
      sha.update(b);
    }
    byte[] digest = sha.digest();
    return HexFormat.of().formatHex(digest, 0, HASH_BYTES);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
