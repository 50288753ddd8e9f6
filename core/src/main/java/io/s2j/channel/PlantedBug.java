package io.s2j.channel;

/**
 * Mistakes a channel implementation could plausibly make, switched on only by the simulator's
 * planted-bug runs to prove its checks catch them; always {@link #NONE} outside those runs.
 */
public enum PlantedBug {
  NONE,
  /** Acknowledges a chunk's batches as soon as it is durable, without waiting for earlier chunks. */
  ACK_OUT_OF_ORDER,
  /** A new incarnation starts writing at the first free chunk number without fencing. */
  NO_FENCE,
  /** A refused create is taken as "my earlier attempt landed" without reading whose chunk it is. */
  TRUST_REFUSED_CREATE,
  /** Reads and tail checks answer from memory without proving the incarnation still owns the log. */
  READ_WITHOUT_BARRIER,
  /** Garbage collection deletes fence chunks too (found by the sweep when GC was first written). */
  GC_DELETES_FENCES,
  /** A fence that landed is trusted without confirming the epoch (found by the sweep likewise). */
  FENCE_WITHOUT_EPOCH_CHECK
}
