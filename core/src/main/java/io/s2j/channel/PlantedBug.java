package io.s2j.channel;

/**
 * Mistakes the data plane (channel, frontend, cachey, catalog, bgtask, cop and express storage) could plausibly make, switched on only by the
 * simulator's planted-bug runs to prove its checks catch them; always {@link #NONE} outside those
 * runs (the real runtime has no way to set one).
 */
public enum PlantedBug {
  NONE("no planted bug"),
  ACK_OUT_OF_ORDER("Acknowledges a chunk's batches as soon as it is durable, without waiting for earlier chunks."),
  NO_FENCE("A new incarnation starts writing at the first free chunk number without fencing."),
  TRUST_REFUSED_CREATE("A refused create is taken as \"my earlier attempt landed\" without reading whose chunk it is."),
  READ_WITHOUT_BARRIER("Reads and tail checks answer from memory without proving the incarnation still owns the log."),
  GC_DELETES_FENCES("Garbage collection deletes fence chunks too (found by the sweep when GC was first written)."),
  FENCE_WITHOUT_EPOCH_CHECK("A fence that landed is trusted without confirming the epoch (found by the sweep likewise)."),
  ACK_BEFORE_CHUNK_DURABLE("Acknowledges a batch as soon as it is sequenced, before its chunk is durable."),
  ZOMBIE_ACKS("A fenced incarnation (a zombie) acknowledges its in-flight batches instead of failing them."),
  SEQ_REUSE_AFTER_FAILOVER("Recovery ignores the newest chunk's tails, so the new incarnation reuses its sequence numbers."),
  TIMESTAMP_BACKWARDS("Recovery forgets the tail's timestamp, so timestamps can go backwards after a failover."),
  MATCH_AGAINST_DURABLE_TAIL("match_seq_num is compared with the durable tail instead of the pipelined one."),
  SKIP_FENCING_CHECK("The fencing token of an append is not checked."),
  SESSION_UNORDERED("Append-session requests are applied in arrival order, not session order."),
  READ_SKIPS_AT_SEGMENT_BOUNDARY("Frontend: a read continuing from segments into the channel skips the first record it holds."),
  CACHEY_WRONG_PAGE("Cachey keys its pages by page index only, so it serves a page of another object (of the same page length)."),
  TRIM_EXPOSES_TRIMMED_RECORD("Reads ignore the trim point: the channel serves held records below it and the frontend reads segments below it."),
  GC_DELETES_REFERENCED_SEGMENT("bgtask collects every segment that starts below the trim point, including the one holding it."),
  RECREATE_SEES_OLD_INCARNATION("A stream's id is derived from its name (as s2-lite's is), so a re-created stream shares the old incarnation's keys."),
  MIGRATION_LOSES_INFLIGHT_APPEND("Migration seals a streamlet at its durable tail without waiting for the batches in flight."),
  MIGRATION_READ_GAP("Frontend: a read moving on to the next streamlet of a chain starts one record past its start."),
  TWO_COPS_ACT("A cop acts without holding the cop epoch: no lease check, and its writes are conditioned neither on the epoch nor on what it read."),
  EXPRESS_ACK_ON_ONE_ZONE("Express storage reports a chunk written once one of its three zonal buckets wrote it, not two."),
  SPECULATION_ACKS_BEFORE_CONFIRM("A migration's target acknowledges speculative appends once durable, before it has read the committed link.");

  private final String description;

  PlantedBug(String description) {
    this.description = description;
  }

  /** What the bug does, in one sentence. */
  public String description() {
    return description;
  }

  /** The name used on the command line, e.g. {@code ack-out-of-order}. */
  public String cliName() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
