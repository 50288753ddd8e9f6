package io.s2j.runtime.objectstore;

/**
 * The bytes {@code [offset, offset + length)} of an object, as an HTTP {@code Range} asks for
 * them. A range reaching past the end is cut at the end; a range starting at or after the end is
 * not satisfiable.
 */
public record ByteRange(long offset, long length) {
  public ByteRange {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("invalid byte range: offset=" + offset + " length=" + length);
    }
  }

  public static ByteRange of(long offset, long length) {
    return new ByteRange(offset, length);
  }

  /** The last byte's offset, inclusive, as in {@code bytes=first-last}. */
  public long lastInclusive() {
    return offset + length - 1;
  }
}
