package io.s2j.api;

import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The pure rules of a read session (S2-API §6.10, §8.2, §8.6): request validation, where the
 * session starts relative to the durable tail, and the split of records into batches.
 */
public final class ReadRules {
  private ReadRules() {}

  /** Finds the first durable record whose timestamp is at least the given one, in this stream only. */
  @FunctionalInterface
  public interface TimestampIndex {
    /** Its seq_num, or empty if there is none before the tail. */
    OptionalLong firstSeqNumAtOrAfter(long timestampMs);
  }

  public static final String ONE_START_ONLY = "only one of seq_num, timestamp, or tail_offset can be provided";
  public static final String TIMESTAMP_NOT_BEFORE_UNTIL = "start `timestamp` exceeds or equal to `until`";

  /**
   * Validates the start parameters (null = absent) in lite's order: at most one start, then a
   * timestamp start below {@code until}. Failures are {@code 422 invalid}, before any auto-create.
   */
  public static Checked<ReadFrom> validateStart(Long seqNum, Long timestampMs, Long tailOffset, Long untilMs) {
    int given = (seqNum != null ? 1 : 0) + (timestampMs != null ? 1 : 0) + (tailOffset != null ? 1 : 0);
    if (given > 1) {
      return Checked.invalid(ONE_START_ONLY);
    }
    if (timestampMs != null && untilMs != null && Long.compareUnsigned(timestampMs, untilMs) >= 0) {
      return Checked.invalid(TIMESTAMP_NOT_BEFORE_UNTIL);
    }
    if (seqNum != null) {
      return Checked.ok(new ReadFrom.SeqNum(seqNum));
    }
    if (timestampMs != null) {
      return Checked.ok(new ReadFrom.Timestamp(timestampMs));
    }
    return Checked.ok(tailOffset != null ? new ReadFrom.TailOffset(tailOffset) : ReadFrom.TAIL);
  }

  /**
   * Resolves the start against the durable tail {@code tail} (S2-API §8.2). Beyond the tail is 416
   * unless {@code clamp}; a seq_num start equal to the tail (given, from a tail offset, or from
   * clamping) is 416 when the session may not follow, even with clamp. A timestamp start found by
   * search at the tail is not: it just delivers nothing.
   */
  public static StartResolution resolveStart(
      ReadFrom from, boolean clamp, StreamPosition tail, boolean mayFollow, TimestampIndex index) {
    long seqNum;
    switch (from) {
      case ReadFrom.TailOffset t ->
          seqNum = Long.compareUnsigned(t.records(), tail.seqNum()) >= 0 ? 0 : tail.seqNum() - t.records();
      case ReadFrom.SeqNum s -> {
        if (Long.compareUnsigned(s.seqNum(), tail.seqNum()) > 0 && !clamp) {
          return new StartResolution.Unsatisfiable(tail);
        }
        seqNum = Long.compareUnsigned(s.seqNum(), tail.seqNum()) > 0 ? tail.seqNum() : s.seqNum();
      }
      case ReadFrom.Timestamp t -> {
        if (Long.compareUnsigned(t.timestampMs(), tail.timestamp()) > 0) {
          if (!clamp) {
            return new StartResolution.Unsatisfiable(tail);
          }
          seqNum = tail.seqNum();
        } else {
          OptionalLong found = index.firstSeqNumAtOrAfter(t.timestampMs());
          // found by search: no 416, even at the tail
          return new StartResolution.Start(found.isPresent() && found.getAsLong() < tail.seqNum() ? found.getAsLong() : tail.seqNum());
        }
      }
    }
    if (seqNum == tail.seqNum() && !mayFollow) {
      return new StartResolution.Unsatisfiable(tail);
    }
    return new StartResolution.Start(seqNum);
  }

  /** Splits records into response batches of at most 1000 records and 1 MiB metered each. */
  public static List<List<SequencedRecord>> splitBatches(List<SequencedRecord> records) {
    List<List<SequencedRecord>> batches = new ArrayList<>();
    List<SequencedRecord> current = new ArrayList<>();
    long bytes = 0;
    for (SequencedRecord r : records) {
      long metered = r.meteredBytes();
      if (current.size() == Limits.READ_BATCH_RECORDS_MAX || bytes + metered > Limits.READ_BATCH_METERED_BYTES_MAX) {
        batches.add(List.copyOf(current));
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(r);
      bytes += metered;
    }
    if (!current.isEmpty()) {
      batches.add(List.copyOf(current));
    }
    return List.copyOf(batches);
  }
}
