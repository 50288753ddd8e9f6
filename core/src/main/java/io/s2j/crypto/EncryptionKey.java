package io.s2j.crypto;

import io.s2j.api.Checked;
import java.util.Arrays;
import java.util.Base64;

/**
 * A stream's 32-byte encryption key, sent by the client with every append and read of an
 * encrypted stream in {@code s2-encryption-key} (S2-API §15) and never stored.
 */
public final class EncryptionKey {
  public static final int BYTES = 32;

  private final byte[] bytes;

  private EncryptionKey(byte[] bytes) {
    this.bytes = bytes;
  }

  public static EncryptionKey of(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("an encryption key has 32 bytes");
    }
    return new EncryptionKey(bytes.clone());
  }

  /**
   * The key in a header value: standard, padded base64 of 32 bytes, 1 to 44 characters after
   * trimming, with S2's messages for {@code 400 bad_header}.
   */
  public static Checked<EncryptionKey> parseHeader(String value) {
    String v = value.trim();
    if (v.isEmpty() || v.length() > 44) {
      return Checked.invalid("invalid `s2-encryption-key` header: must be 1 to 44 characters");
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(v);
    } catch (IllegalArgumentException e) {
      return Checked.invalid("invalid `s2-encryption-key` header: invalid base64");
    }
    if (decoded.length != BYTES) {
      return Checked.invalid("invalid encryption key length: expected " + BYTES + " bytes, got " + decoded.length);
    }
    return Checked.ok(new EncryptionKey(decoded));
  }

  byte[] bytes() {
    return bytes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EncryptionKey k && Arrays.equals(bytes, k.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Never the key itself. */
  @Override
  public String toString() {
    return "EncryptionKey[redacted]";
  }
}
