package io.s2j.runtime.metadata;

import com.google.protobuf.ByteString;

/** A guard of a {@link Txn}: checked atomically with the transaction's writes. */
public sealed interface Condition {
  ByteString key();

  /** The key has no value. */
  record Absent(ByteString key) implements Condition {}

  /** The key's value was last written at exactly {@code modRevision}. */
  record RevisionIs(ByteString key, long modRevision) implements Condition {}

  /** The key's value equals {@code value} byte for byte. */
  record ValueIs(ByteString key, ByteString value) implements Condition {}
}
