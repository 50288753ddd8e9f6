package io.s2j.runtime.sim;

import io.s2j.runtime.RandomSource;
import java.util.Locale;

/**
 * Per-operation fault rates of the simulated seams, and which timed faults a plan may contain.
 *
 * <p>{@link #swarm} draws a profile per seed (swarm testing): each kind of fault is switched on
 * with probability one half and, when on, gets a rate drawn from its range, so different seeds
 * stress different mixes instead of every seed seeing a little of everything.
 */
public record FaultProfile(
    double netDropRate,
    double netDelaySpikeRate,
    double storeThrottleRate,
    double storeServerErrorRate,
    double storeLostResponseRate,
    double storeLostRequestRate,
    double storeSlowRate,
    double metaUnavailableRate,
    double metaLostResponseRate,
    long clockSkewMaxMs,
    boolean crashes,
    boolean partitions,
    boolean storeOutages,
    boolean metaOutages,
    boolean zoneOutages) {

  /** No faults at all: for contract tests and fault-free baselines. */
  public static final FaultProfile NONE = new FaultProfile(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, false, false, false);

  /** A profile without zone outages (worlds without zonal buckets). */
  public FaultProfile(double netDropRate, double netDelaySpikeRate, double storeThrottleRate, double storeServerErrorRate,
      double storeLostResponseRate, double storeLostRequestRate, double storeSlowRate, double metaUnavailableRate,
      double metaLostResponseRate, long clockSkewMaxMs, boolean crashes, boolean partitions, boolean storeOutages,
      boolean metaOutages) {
    this(netDropRate, netDelaySpikeRate, storeThrottleRate, storeServerErrorRate, storeLostResponseRate,
        storeLostRequestRate, storeSlowRate, metaUnavailableRate, metaLostResponseRate, clockSkewMaxMs, crashes,
        partitions, storeOutages, metaOutages, false);
  }

  /** This profile with zone outages switched on or off. */
  public FaultProfile withZoneOutages(boolean on) {
    return new FaultProfile(netDropRate, netDelaySpikeRate, storeThrottleRate, storeServerErrorRate, storeLostResponseRate,
        storeLostRequestRate, storeSlowRate, metaUnavailableRate, metaLostResponseRate, clockSkewMaxMs, crashes,
        partitions, storeOutages, metaOutages, on);
  }

  /** Draws a profile from {@code random} (swarm testing). */
  public static FaultProfile swarm(RandomSource random) {
    return new FaultProfile(
        on(random) ? uniform(random, 0.001, 0.05) : 0,
        on(random) ? uniform(random, 0.001, 0.05) : 0,
        on(random) ? uniform(random, 0.001, 0.05) : 0,
        on(random) ? uniform(random, 0.001, 0.03) : 0,
        on(random) ? uniform(random, 0.001, 0.03) : 0,
        on(random) ? uniform(random, 0.001, 0.03) : 0,
        on(random) ? uniform(random, 0.001, 0.05) : 0,
        on(random) ? uniform(random, 0.001, 0.05) : 0,
        on(random) ? uniform(random, 0.001, 0.03) : 0,
        on(random) ? random.nextLong(1, 5_000) : 0,
        on(random),
        on(random),
        on(random),
        on(random),
        on(random)); // drawn last, so adding it left every earlier draw of a seed as it was
  }

  private static boolean on(RandomSource random) {
    return random.chance(0.5);
  }

  private static double uniform(RandomSource random, double lo, double hi) {
    return lo + (hi - lo) * random.nextDouble();
  }

  /** A compact description for run reports. */
  public String describe() {
    return String.format(Locale.ROOT,
        "net[drop=%.3f spike=%.3f] store[throttle=%.3f 5xx=%.3f lostResp=%.3f lostReq=%.3f slow=%.3f] "
            + "meta[unavail=%.3f lostResp=%.3f] skewMaxMs=%d crashes=%b partitions=%b storeOutages=%b metaOutages=%b zoneOutages=%b",
        netDropRate, netDelaySpikeRate, storeThrottleRate, storeServerErrorRate, storeLostResponseRate,
        storeLostRequestRate, storeSlowRate, metaUnavailableRate, metaLostResponseRate, clockSkewMaxMs,
        crashes, partitions, storeOutages, metaOutages, zoneOutages);
  }
}
