package io.s2j.bench.tool;

import java.time.Instant;

/**
 * Nanoseconds since the Unix epoch, anchored once to the wall clock and then advanced by the
 * monotonic clock: record timestamps and receive times of one process never go backwards, and
 * stay comparable with another process's to within the hosts' clock offset.
 */
final class WallClock {
  private static final long NANO_BASE = System.nanoTime();
  private static final long EPOCH_NANOS_BASE;

  static {
    Instant now = Instant.now();
    EPOCH_NANOS_BASE = now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  private WallClock() {}

  static long nowNanos() {
    return EPOCH_NANOS_BASE + (System.nanoTime() - NANO_BASE);
  }
}
