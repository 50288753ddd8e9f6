package io.s2j.runtime.metadata;

/** The outcome of {@link MetadataStore#commit}. */
public sealed interface TxnResult {
  /** Every condition held and every mutation was applied at store revision {@code revision}. */
  record Committed(long revision) implements TxnResult {}

  /** Condition number {@code index} did not hold; nothing was written. */
  record ConditionFailed(int index) implements TxnResult {}
}
