package io.s2j.api;

import io.s2j.record.Limits;

/**
 * A read's bounds (S2-API §8.4, §8.5): {@code count} records and {@code bytes} metered bytes over
 * the whole session, the exclusive timestamp bound {@code until}, and {@code wait}; null = unset.
 * Counts, bytes and until are u64 (compared unsigned); wait is a u32 of seconds.
 */
public record ReadEnd(Long count, Long bytes, Long untilMs, Long waitSecs) {
  /** No bounds, no wait: a session that follows forever. */
  public static final ReadEnd UNBOUNDED = new ReadEnd(null, null, null, null);

  public ReadEnd {
    if (waitSecs != null && (waitSecs < 0 || waitSecs > 0xFFFF_FFFFL)) {
      throw new IllegalArgumentException("wait is a u32 of seconds: " + waitSecs);
    }
  }

  /**
   * May the session wait for new records at the tail (S2-API §8.3)? Iff it has no count, bytes
   * or until bound, or a positive wait.
   */
  public boolean mayFollow() {
    return (count == null && bytes == null && untilMs == null) || (waitSecs != null && waitSecs > 0);
  }

  /**
   * The bounds of a unary read: count at most 1000 (1000 if unset), bytes at most 1 MiB (1 MiB if
   * unset), wait clamped to 60 s. Apply before {@link #mayFollow}: a unary read follows only with a wait.
   */
  public ReadEnd forUnary() {
    return new ReadEnd(
        minUnsigned(count, Limits.READ_BATCH_RECORDS_MAX),
        minUnsigned(bytes, Limits.READ_BATCH_METERED_BYTES_MAX),
        untilMs,
        waitSecs == null ? null : Math.min(waitSecs, Limits.UNARY_READ_WAIT_SECONDS_MAX));
  }

  private static long minUnsigned(Long value, long max) {
    return value == null || Long.compareUnsigned(value, max) > 0 ? max : value;
  }
}
