package io.s2j.runtime.objectstore;

import com.google.protobuf.ByteString;

/** The outcome of {@link ObjectStore#get}. */
public sealed interface GetResult {
  /** The object, or the requested bytes of it; {@code objectBytes} is the whole object's size. */
  record Found(ByteString data, ETag etag, long objectBytes) implements GetResult {}

  /** No object has this key. */
  record NotFound() implements GetResult {}

  /** The range starts at or after the end of the object (HTTP 416). */
  record RangeNotSatisfiable(long objectBytes) implements GetResult {}
}
