package io.s2j.api;

/**
 * Where a read starts (S2-API §6.10): one of {@code seq_num}, {@code timestamp} or
 * {@code tail_offset}; none given means {@code tail_offset=0}. Values are u64, compared unsigned.
 */
public sealed interface ReadFrom {
  record SeqNum(long seqNum) implements ReadFrom {}

  /** The first record (by timestamp, then seq_num) whose timestamp is at least {@code timestampMs}. */
  record Timestamp(long timestampMs) implements ReadFrom {}

  /** {@code records} before the tail, saturating at 0. */
  record TailOffset(long records) implements ReadFrom {}

  ReadFrom TAIL = new TailOffset(0);
}
