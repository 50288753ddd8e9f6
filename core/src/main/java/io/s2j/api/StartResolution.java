package io.s2j.api;

import io.s2j.record.StreamPosition;

/** Where a read session starts, or HTTP 416 with the durable tail (S2-API §8.2). */
public sealed interface StartResolution {
  /** Start at {@code seqNum} (at most the tail's). */
  record Start(long seqNum) implements StartResolution {}

  /** 416 Range Not Satisfiable; the body is {@code {"tail": tail}}. */
  record Unsatisfiable(StreamPosition tail) implements StartResolution {}
}
