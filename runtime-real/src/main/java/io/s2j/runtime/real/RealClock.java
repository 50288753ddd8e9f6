package io.s2j.runtime.real;

import io.s2j.runtime.Clock;

/**
 * The host's clocks: {@link System#nanoTime()} for monotonic time, {@link
 * System#currentTimeMillis()} for wall time. Stateless, so one instance serves every node.
 */
public final class RealClock implements Clock {
  /** The one instance; the host has only one pair of clocks. */
  public static final RealClock INSTANCE = new RealClock();

  private RealClock() {}

  @Override
  public long nowNanos() {
    return System.nanoTime();
  }

  @Override
  public long wallMillis() {
    return System.currentTimeMillis();
  }
}
