package io.s2j.runtime.sim;

import io.s2j.runtime.RandomSource;

/**
 * A latency distribution: log-normal around a median, a heavy tail (log-uniform between ten times
 * the median and {@code tailMaxMs}) with probability {@code tailChance}, plus transfer time for the
 * payload.
 */
public record LatencyModel(
    double medianMs, double sigma, double tailChance, double tailMaxMs, double bytesPerMs) {

  /** A loopback/datacenter network hop. */
  public static final LatencyModel NETWORK = new LatencyModel(0.25, 0.5, 0.001, 50, 1_000_000);

  /** An S3 standard bucket: tens of ms median, a tail to seconds. */
  public static final LatencyModel S3_STANDARD = new LatencyModel(25, 0.5, 0.01, 2_500, 100_000);

  /** An S3 Express One Zone bucket: single-digit ms. */
  public static final LatencyModel S3_EXPRESS = new LatencyModel(4, 0.35, 0.002, 60, 200_000);

  /** A consensus-backed metadata store (etcd-like). */
  public static final LatencyModel METADATA = new LatencyModel(2, 0.5, 0.005, 250, 500_000);

  /** Nearly free, for contract tests of semantics. */
  public static final LatencyModel FAST = new LatencyModel(0.05, 0.1, 0, 1, 100_000_000);

  public LatencyModel {
    if (medianMs <= 0 || sigma < 0 || tailChance < 0 || tailChance > 1 || tailMaxMs < medianMs || bytesPerMs <= 0) {
      throw new IllegalArgumentException("invalid latency model");
    }
  }

  /** One sample, in nanoseconds, for a request or response carrying {@code bytes}. */
  public long sampleNanos(RandomSource random, long bytes) {
    double ms;
    if (tailChance > 0 && random.chance(tailChance)) {
      double lo = Math.log(Math.min(medianMs * 10, tailMaxMs));
      double hi = Math.log(tailMaxMs);
      ms = Math.exp(lo + (hi - lo) * random.nextDouble());
    } else {
      ms = medianMs * Math.exp(sigma * random.nextGaussian());
      ms = Math.min(ms, tailMaxMs);
    }
    ms += bytes / bytesPerMs;
    return Math.max(1_000L, (long) (ms * Simulator.MS));
  }
}
