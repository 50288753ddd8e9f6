package io.s2j.runtime.metadata;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * A multi-key compare-and-set: if every condition holds, apply every mutation, atomically.
 *
 * <p>Bounds (as etcd's defaults): at most {@link #OPS_MAX} conditions plus mutations, keys of at
 * most {@link #KEY_BYTES_MAX} bytes, values of at most {@link #VALUE_BYTES_MAX} bytes, and no key
 * mutated twice. Breaking a bound is a bug of the caller and throws.
 */
public record Txn(List<Condition> conditions, List<Mutation> mutations) {
  public static final int OPS_MAX = 128;
  public static final int KEY_BYTES_MAX = 1024;
  public static final int VALUE_BYTES_MAX = 1024 * 1024;

  public Txn {
    conditions = List.copyOf(conditions);
    mutations = List.copyOf(mutations);
    if (mutations.isEmpty()) {
      throw new IllegalArgumentException("a transaction writes at least one key");
    }
    if (conditions.size() + mutations.size() > OPS_MAX) {
      throw new IllegalArgumentException("a transaction has at most " + OPS_MAX + " operations");
    }
    for (Condition c : conditions) {
      checkKey(c.key());
    }
    java.util.TreeSet<ByteString> seen = new java.util.TreeSet<>(ByteString.unsignedLexicographicalComparator());
    for (Mutation m : mutations) {
      checkKey(m.key());
      if (!seen.add(m.key())) {
        throw new IllegalArgumentException("a transaction writes a key at most once");
      }
      if (m instanceof Mutation.Put put && put.value().size() > VALUE_BYTES_MAX) {
        throw new IllegalArgumentException("value larger than " + VALUE_BYTES_MAX + " bytes");
      }
    }
  }

  static void checkKey(ByteString key) {
    if (key.isEmpty() || key.size() > KEY_BYTES_MAX) {
      throw new IllegalArgumentException("key must have 1.." + KEY_BYTES_MAX + " bytes");
    }
  }

  /** A transaction starting with one condition; add more with the builder methods. */
  public static Builder builder() {
    return new Builder();
  }

  /** Accumulates conditions and mutations. */
  public static final class Builder {
    private final java.util.ArrayList<Condition> conditions = new java.util.ArrayList<>();
    private final java.util.ArrayList<Mutation> mutations = new java.util.ArrayList<>();

    public Builder ifAbsent(ByteString key) {
      conditions.add(new Condition.Absent(key));
      return this;
    }

    public Builder ifRevision(ByteString key, long modRevision) {
      conditions.add(new Condition.RevisionIs(key, modRevision));
      return this;
    }

    public Builder ifValue(ByteString key, ByteString value) {
      conditions.add(new Condition.ValueIs(key, value));
      return this;
    }

    public Builder put(ByteString key, ByteString value) {
      mutations.add(new Mutation.Put(key, value));
      return this;
    }

    public Builder delete(ByteString key) {
      mutations.add(new Mutation.Delete(key));
      return this;
    }

    public Txn build() {
      return new Txn(conditions, mutations);
    }
  }
}
