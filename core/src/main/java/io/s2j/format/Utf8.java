package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Invariants;

/** Strict UTF-8 for the strings the formats store (ids, fencing tokens). */
final class Utf8 {
  private Utf8() {}

  /** The UTF-8 bytes of {@code s}, which must encode losslessly (no unpaired surrogates). */
  static ByteString checkedBytes(String s, String field) {
    Invariants.check(s != null, "%s is required", field);
    ByteString bytes = ByteString.copyFromUtf8(s);
    Invariants.check(bytes.toStringUtf8().equals(s), "%s is not encodable as UTF-8", field);
    return bytes;
  }

  static String decode(ByteString bytes, ByteReader r) {
    if (!bytes.isValidUtf8()) {
      throw r.corrupt("invalid UTF-8");
    }
    return bytes.toStringUtf8();
  }
}
