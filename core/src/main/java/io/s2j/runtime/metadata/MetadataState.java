package io.s2j.runtime.metadata;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The {@link MetadataStore} contract as a plain, single-threaded state machine: keys in unsigned
 * byte order, a revision counter, transactions applied atomically. The simulated store applies it
 * at each operation's instant; the in-memory real store applies it under a lock.
 */
public final class MetadataState {
  private final TreeMap<ByteString, KeyValue> data = new TreeMap<>(ByteString.unsignedLexicographicalComparator());
  private long revision;

  /**
   * A state at {@code revision} holding exactly {@code entries} (distinct keys, each written at a
   * revision in 1..{@code revision}): how a durable store rebuilds itself from a snapshot.
   */
  public static MetadataState restore(long revision, List<KeyValue> entries) {
    if (revision < 0) {
      throw new IllegalArgumentException("negative revision " + revision);
    }
    MetadataState state = new MetadataState();
    state.revision = revision;
    for (KeyValue kv : entries) {
      Txn.checkKey(kv.key());
      if (kv.modRevision() < 1 || kv.modRevision() > revision) {
        throw new IllegalArgumentException("mod revision " + kv.modRevision() + " outside 1.." + revision);
      }
      if (state.data.put(kv.key(), kv) != null) {
        throw new IllegalArgumentException("key " + kv.key() + " appears twice");
      }
    }
    return state;
  }

  /** The revision of the last committed transaction (0 before any). */
  public long revision() {
    return revision;
  }

  public Optional<KeyValue> get(ByteString key) {
    return Optional.ofNullable(data.get(key));
  }

  /** Up to {@code limit} entries of {@code [start, end)}, in order. */
  public ScanPage scan(ByteString start, ByteString end, int limit) {
    List<KeyValue> page = new ArrayList<>();
    boolean more = false;
    if (ByteString.unsignedLexicographicalComparator().compare(start, end) < 0) {
      for (KeyValue kv : data.subMap(start, true, end, false).values()) {
        if (page.size() == limit) {
          more = true;
          break;
        }
        page.add(kv);
      }
    }
    return new ScanPage(page, more, revision);
  }

  /** Applies {@code txn} if every condition holds. */
  public TxnResult commit(Txn txn) {
    List<Condition> conditions = txn.conditions();
    for (int i = 0; i < conditions.size(); i++) {
      if (!holds(conditions.get(i))) {
        return new TxnResult.ConditionFailed(i);
      }
    }
    revision++;
    for (Mutation m : txn.mutations()) {
      switch (m) {
        case Mutation.Put p -> data.put(p.key(), new KeyValue(p.key(), p.value(), revision));
        case Mutation.Delete d -> data.remove(d.key());
      }
    }
    return new TxnResult.Committed(revision);
  }

  private boolean holds(Condition c) {
    KeyValue kv = data.get(c.key());
    return switch (c) {
      case Condition.Absent a -> kv == null;
      case Condition.RevisionIs r -> kv != null && kv.modRevision() == r.modRevision();
      case Condition.ValueIs v -> kv != null && kv.value().equals(v.value());
    };
  }

  /** Every entry, in key order (for checks at the end of a simulated run). */
  public List<KeyValue> entries() {
    return new ArrayList<>(data.values());
  }
}
