package io.s2j.runtime.objectstore;

/** The precondition of {@link ObjectStore#put}: S3's conditional writes. */
public sealed interface PutCondition {
  /** Unconditional: create or overwrite. */
  record None() implements PutCondition {}

  /** {@code If-None-Match: *}: create only if no object has the key. */
  record IfAbsent() implements PutCondition {}

  /** {@code If-Match: etag}: overwrite only if the current version has this etag. */
  record IfMatch(ETag etag) implements PutCondition {}

  PutCondition NONE = new None();
  PutCondition IF_ABSENT = new IfAbsent();

  static PutCondition ifMatch(ETag etag) {
    return new IfMatch(etag);
  }
}
