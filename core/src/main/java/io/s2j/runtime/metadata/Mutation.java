package io.s2j.runtime.metadata;

import com.google.protobuf.ByteString;

/** A write of a {@link Txn}. */
public sealed interface Mutation {
  ByteString key();

  record Put(ByteString key, ByteString value) implements Mutation {}

  /** Removes the key; removing a missing key is allowed and has no effect. */
  record Delete(ByteString key) implements Mutation {}
}
