package io.s2j.runtime.objectstore;

/**
 * An object version's entity tag, opaque to components and compared exactly. Stores normalise it
 * without the surrounding quotes S3 puts on the wire.
 */
public record ETag(String value) {
  public ETag {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("etag is empty");
    }
  }

  /** Strips the surrounding double quotes S3 uses on the wire, if present. */
  public static ETag fromWire(String wire) {
    String v = wire;
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    return new ETag(v);
  }

  /** The quoted form S3 expects in If-Match. */
  public String toWire() {
    return "\"" + value + "\"";
  }
}
