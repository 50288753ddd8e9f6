package io.s2j.cop;

import io.s2j.runtime.RandomSource;

/**
 * The cop's tunables. {@code leaseMs}: a standby takes over once the acting cop's lease has not
 * moved for this long (on the standby's own clock); the acting cop renews every {@code renewMs}
 * and stops acting when it could not renew for {@code leaseMs} (fencing, not timing, is what keeps
 * its writes out after that). Channels are probed every {@code probeIntervalMs} and counted dead
 * after {@code channelDeadAfterMs} without a serving answer. Every {@code balanceIntervalMs} the
 * acting cop migrates one stream if the busiest live channel has at least {@code imbalanceMin} more
 * active streams than the idlest, or — with probability {@code rollingMigrationChance}, a
 * simulation knob that makes migrations frequent — a random stream to another live channel.
 */
public record CopKnobs(long leaseMs, long renewMs, long probeIntervalMs, long channelDeadAfterMs, long balanceIntervalMs,
    int imbalanceMin, double rollingMigrationChance) {

  /** Production defaults: no rolling migrations, rebalance on an imbalance of 2 streams. */
  public static final CopKnobs DEFAULTS = new CopKnobs(5_000, 1_000, 1_000, 5_000, 10_000, 2, 0.0).conclude();

  /** Drawn per seed for the simulator; migrations are frequent so that every run hands streams over. */
  public static CopKnobs randomized(RandomSource random) {
    long lease = random.nextLong(1_000, 6_000);
    long probe = random.nextLong(200, 2_000);
    return new CopKnobs(lease, Math.max(100, lease / (2 + random.nextInt(3))), probe,
        probe * (2 + random.nextInt(3)), random.nextLong(300, 4_000), 1 + random.nextInt(3), random.nextDouble() * 0.9).conclude();
  }

  /** Checks the relationships between the knobs; returns this. */
  public CopKnobs conclude() {
    if (leaseMs < 1 || renewMs < 1 || renewMs * 2 > leaseMs || probeIntervalMs < 1 || channelDeadAfterMs < probeIntervalMs
        || balanceIntervalMs < 1 || imbalanceMin < 1 || rollingMigrationChance < 0 || rollingMigrationChance > 1) {
      throw new IllegalArgumentException("inconsistent cop knobs: " + this);
    }
    return this;
  }
}
