package io.s2j.api;

import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.Invariants;
import java.util.ArrayList;
import java.util.List;

/**
 * What a stream's single writer needs to sequence the next batch: the tail including pending
 * batches (next seq_num, last timestamp), the fencing token and the trim point. Appending is a
 * pure function of this state, the stream's config and the time.
 */
public record StreamState(StreamPosition tail, String fencingToken, long trimPoint) {
  /** A stream that never had a record. */
  public static final StreamState INITIAL = new StreamState(StreamPosition.ZERO, "", 0);

  public StreamState {
    if (tail == null || fencingToken == null) {
      throw new IllegalArgumentException("a stream state needs a tail and a token");
    }
    Invariants.check(trimPoint >= 0 && trimPoint <= tail.seqNum(), "trim point %d beyond tail %s", trimPoint, tail);
  }

  /**
   * Sequences {@code input} (S2-API §7.2 step 4): checks the fencing token, then
   * {@code match_seq_num}, both against the state before the batch; assigns seq_nums and
   * timestamps; enforces aes-256-gcm's seq_num limit for non-command records; then applies fence
   * and trim commands in order. {@code cipher} is the stream's (null for none).
   */
  public AppendStep append(AppendInput input, ResolvedStreamConfig config, StreamCipher cipher, long nowMs) {
    if (input.fencingToken() != null && !input.fencingToken().equals(fencingToken)) {
      return new AppendResult.FencingTokenMismatch(fencingToken);
    }
    long next = tail.seqNum();
    if (input.matchSeqNum() != null && input.matchSeqNum() != next) {
      return new AppendResult.SeqNumMismatch(next);
    }
    List<AppendRecord> records = input.batch().records();
    Checked<List<Long>> timestamps =
        Timestamps.assign(records, config.timestampingMode(), config.timestampingUncapped(), nowMs, tail.timestamp());
    if (timestamps instanceof Checked.Invalid<List<Long>> invalid) {
      return new AppendResult.Failed(S2Error.invalid(invalid.message()));
    }
    List<Long> ts = timestamps.orThrow();
    List<SequencedRecord> out = new ArrayList<>(records.size());
    String token = fencingToken;
    long trim = trimPoint;
    for (int i = 0; i < records.size(); i++) {
      AppendRecord r = records.get(i);
      long seqNum = Math.addExact(next, i);
      Command command = Command.parse(r.headers(), r.body());
      if (cipher == StreamCipher.AES_256_GCM && command == null && seqNum > StreamCipher.AES_256_GCM_SEQ_NUM_MAX) {
        return new AppendResult.SeqNumLimitExceeded(seqNum);
      }
      switch (command) {
        case null -> {}
        case Command.Fence f -> token = f.token();
        case Command.Trim t -> trim = trimPointAfter(trim, t.earliestSeqNum(), seqNum);
      }
      out.add(new SequencedRecord(seqNum, ts.get(i), r.headers(), r.body()));
    }
    SequencedRecord first = out.get(0);
    SequencedRecord last = out.get(out.size() - 1);
    StreamPosition end = new StreamPosition(last.seqNum() + 1, last.timestamp());
    return new AppendStep.Sequenced(
        new StreamState(end, token, trim), out, new StreamPosition(first.seqNum(), first.timestamp()), end);
  }

  /**
   * The trim point after a trim command with payload {@code earliestSeqNum} (a u64) at
   * {@code seqNum}: {@code max(P, min(x, s + 1))}, so a trim may remove itself but nothing after
   * it, and never moves the trim point back (S2-API §7.5).
   */
  public static long trimPointAfter(long trimPoint, long earliestSeqNum, long seqNum) {
    long bounded = Long.compareUnsigned(earliestSeqNum, seqNum + 1) < 0 ? earliestSeqNum : seqNum + 1;
    return Long.compareUnsigned(trimPoint, bounded) >= 0 ? trimPoint : bounded;
  }
}
