package io.s2j.runtime.objectstore;

import java.nio.charset.StandardCharsets;

/**
 * The key of an object: 1 to 1024 bytes of UTF-8 (S3's limit), no leading '/', no control
 * characters. Keys order by their UTF-8 bytes, as S3 lists them.
 */
public record ObjectKey(String value) implements Comparable<ObjectKey> {
  public static final int BYTES_MAX = 1024;

  public ObjectKey {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("object key is empty");
    }
    if (value.getBytes(StandardCharsets.UTF_8).length > BYTES_MAX) {
      throw new IllegalArgumentException("object key longer than " + BYTES_MAX + " bytes");
    }
    if (value.charAt(0) == '/') {
      throw new IllegalArgumentException("object key starts with '/': " + value);
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException("object key has a control character: " + value);
      }
    }
  }

  public static ObjectKey of(String value) {
    return new ObjectKey(value);
  }

  @Override
  public int compareTo(ObjectKey o) {
    return compareUtf8(value, o.value);
  }

  /** Compares two strings by their UTF-8 bytes (unsigned), the order S3 lists keys in. */
  public static int compareUtf8(String a, String b) {
    byte[] x = a.getBytes(StandardCharsets.UTF_8);
    byte[] y = b.getBytes(StandardCharsets.UTF_8);
    return java.util.Arrays.compareUnsigned(x, y);
  }

  @Override
  public String toString() {
    return value;
  }
}
