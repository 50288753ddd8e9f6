package io.s2j.bench.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

  @Test
  void bucketsCoverEveryValueWithSmallRelativeWidth() {
    long[] probes = {0, 1, 127, 128, 129, 255, 256, 1000, 123_456, 1L << 40, Long.MAX_VALUE};
    for (long v : probes) {
      int i = LatencyHistogram.index(v);
      long lo = LatencyHistogram.lowerBound(i);
      long w = LatencyHistogram.width(i);
      assertTrue(lo <= v && v - lo < w, () -> v + " outside bucket " + i + " [" + lo + ", +" + w + ")");
      assertTrue(w == 1 || (double) w / lo <= 1.0 / 64 + 1e-12, () -> "bucket of " + v + " too wide: " + w);
    }
  }

  @Test
  void quantilesMatchSortedSamplesWithinTwoPercent() {
    SplittableRandom rnd = new SplittableRandom(7);
    long[] samples = new long[100_000];
    LatencyHistogram h = new LatencyHistogram();
    for (int i = 0; i < samples.length; i++) {
      samples[i] = (long) Math.exp(rnd.nextDouble(Math.log(1_000), Math.log(1_000_000_000)));
      h.record(samples[i]);
    }
    Arrays.sort(samples);
    for (double q : new double[] {0.5, 0.9, 0.99}) {
      long exact = samples[(int) Math.ceil(q * samples.length) - 1];
      long got = h.quantile(q);
      assertTrue(Math.abs(got - exact) <= exact * 0.02, () -> "q" + q + ": exact " + exact + ", histogram " + got);
    }
    assertEquals(samples[0], h.min());
    assertEquals(samples[samples.length - 1], h.max());
    assertEquals(samples.length, h.count());
  }

  @Test
  void mergeAddsCounts() {
    LatencyHistogram a = new LatencyHistogram();
    LatencyHistogram b = new LatencyHistogram();
    for (int i = 1; i <= 10; i++) {
      a.record(i * 1_000_000L);
      b.record(i * 1_000_000L + 100_000_000L);
    }
    a.merge(b);
    assertEquals(20, a.count());
    assertEquals(1_000_000L, a.min());
    assertEquals(110_000_000L, a.max());
    long p50 = a.quantile(0.5);
    assertTrue(Math.abs(p50 - 10_000_000L) < 200_000, "p50 " + p50);
  }
}
