package io.s2j.runtime.real;

import io.s2j.runtime.objectstore.ObjectKey;
import java.util.Locale;

/**
 * Object keys of {@link ObjectStoreMetadataStore}: {@code <prefix>log/<seq>} and {@code
 * <prefix>snap/<seq>}, the sequence number in 20 zero-padded decimal digits so that key order (UTF-8
 * bytes, as stores list) is numeric order.
 */
final class MetaKeys {
  private static final int DIGITS = 20;

  private final String logPrefix;
  private final String snapPrefix;

  MetaKeys(String prefix) {
    this.logPrefix = prefix + "log/";
    this.snapPrefix = prefix + "snap/";
  }

  String logPrefix() {
    return logPrefix;
  }

  String snapPrefix() {
    return snapPrefix;
  }

  ObjectKey log(long seq) {
    return ObjectKey.of(logPrefix + digits(seq));
  }

  ObjectKey snap(long seq) {
    return ObjectKey.of(snapPrefix + digits(seq));
  }

  /** The sequence number of a key under {@code prefix} (one of the two above), or -1 if it is not one of ours. */
  static long seqOf(String prefix, ObjectKey key) {
    String v = key.value();
    if (!v.startsWith(prefix) || v.length() != prefix.length() + DIGITS) {
      return -1;
    }
    long seq = 0;
    for (int i = prefix.length(); i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      seq = Math.multiplyExact(seq, 10) + (c - '0');
    }
    return seq;
  }

  private static String digits(long seq) {
    if (seq < 0) {
      throw new IllegalArgumentException("negative sequence number " + seq);
    }
    return String.format(Locale.ROOT, "%020d", seq);
  }
}
