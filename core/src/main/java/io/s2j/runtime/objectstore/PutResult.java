package io.s2j.runtime.objectstore;

/** The outcome of {@link ObjectStore#put}. */
public sealed interface PutResult {
  /** The object now holds the new bytes, as the version with {@code etag}. */
  record Written(ETag etag) implements PutResult {}

  /**
   * The precondition did not hold and nothing was written: the key exists ({@code IfAbsent}), or
   * its etag differs or it does not exist ({@code IfMatch}; S3 says 404 for the latter, which
   * means the same thing to a compare-and-swap).
   */
  record PreconditionFailed() implements PutResult {}
}
