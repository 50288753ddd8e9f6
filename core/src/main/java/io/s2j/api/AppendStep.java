package io.s2j.api;

import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.List;

/**
 * The outcome of {@link StreamState#append}: the batch sequenced (not yet durable) or rejected.
 * The writer holds back a {@link AppendResult.SeqNumMismatch} or
 * {@link AppendResult.SeqNumLimitExceeded} until every earlier batch is durable, and a
 * {@link AppendResult.FencingTokenMismatch} until the batch that set the token is (S2-API §7.2).
 */
public sealed interface AppendStep
    permits AppendStep.Sequenced, AppendResult.SeqNumMismatch, AppendResult.FencingTokenMismatch,
        AppendResult.SeqNumLimitExceeded, AppendResult.Failed {

  /**
   * The batch got {@code records} (seq_nums {@code start.seqNum} to {@code end.seqNum - 1}); the
   * stream's state after it is {@code next}.
   */
  record Sequenced(StreamState next, List<SequencedRecord> records, StreamPosition start, StreamPosition end)
      implements AppendStep {
    public Sequenced {
      records = List.copyOf(records);
    }

    /** The ack to release once the batch is durable and the durable tail is {@code durableTail}. */
    public AppendAck ack(StreamPosition durableTail) {
      return new AppendAck(start, end, durableTail);
    }
  }
}
