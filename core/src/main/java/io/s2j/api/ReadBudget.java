package io.s2j.api;

import io.s2j.record.SequencedRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * What a read session may still deliver (S2-API §8.4): records left, metered bytes left (null =
 * unbounded) and the exclusive timestamp bound. A record is delivered only if it fits; the first
 * record that does not fit, or is at or past {@code until}, ends the session.
 */
public record ReadBudget(Long countLeft, Long bytesLeft, Long untilMs) {
  /** The budget of a whole session with bounds {@code end}. */
  public static ReadBudget of(ReadEnd end) {
    return new ReadBudget(end.count(), end.bytes(), end.untilMs());
  }

  /** The records of a batch that may be delivered, what is left after them, and whether the session ends. */
  public record Taken(List<SequencedRecord> delivered, ReadBudget left, boolean ended) {
    public Taken {
      delivered = List.copyOf(delivered);
    }
  }

  /** True once nothing more can be delivered (count or bytes used up). */
  public boolean exhausted() {
    return (countLeft != null && countLeft == 0) || (bytesLeft != null && bytesLeft == 0);
  }

  /** Takes the longest prefix of {@code records} (in seq_num order) that stays within the budget. */
  public Taken take(List<SequencedRecord> records) {
    Long count = countLeft;
    Long bytes = bytesLeft;
    List<SequencedRecord> out = new ArrayList<>();
    boolean ended = exhausted();
    for (SequencedRecord r : records) {
      if (ended) {
        break;
      }
      long metered = r.meteredBytes();
      if ((untilMs != null && Long.compareUnsigned(r.timestamp(), untilMs) >= 0)
          || (count != null && count == 0)
          || (bytes != null && Long.compareUnsigned(metered, bytes) > 0)) {
        ended = true;
        break;
      }
      out.add(r);
      count = count == null ? null : count - 1;
      bytes = bytes == null ? null : bytes - metered;
      ended = (count != null && count == 0) || (bytes != null && bytes == 0);
    }
    return new Taken(out, new ReadBudget(count, bytes, untilMs), ended);
  }
}
