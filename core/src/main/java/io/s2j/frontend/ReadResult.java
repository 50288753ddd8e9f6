package io.s2j.frontend;

import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.List;

/** The outcome of a unary read (S2-API §6.10). */
public sealed interface ReadResult {
  /**
   * Records (at most 1000 / 1 MiB); {@code tail} is set only when they came from a live batch
   * (long poll), as S2 does.
   */
  record Batch(List<SequencedRecord> records, StreamPosition tail) implements ReadResult {
    public Batch {
      records = List.copyOf(records);
    }
  }

  /** HTTP 416 with the durable tail. */
  record Unsatisfiable(StreamPosition tail) implements ReadResult {}
}
