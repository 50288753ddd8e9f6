package io.s2j.runtime;

import com.dynatrace.hash4j.hashing.Hashing;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The only source of randomness a component may use: seeded, and forked per subsystem.
 *
 * <p>{@link #fork(String)} derives a child from this source's seed and the name alone, never from
 * draws already made, so adding a draw in one subsystem does not reshuffle any other (STYLE.md
 * rule 12). The generator is {@link SplittableRandom}, whose output for a seed is specified by the
 * JDK and therefore identical on every JVM.
 */
public final class RandomSource {
  private final long seed;
  private final SplittableRandom random;

  private RandomSource(long seed) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  /** The root source of a run. */
  public static RandomSource seeded(long seed) {
    return new RandomSource(seed);
  }

  /** The seed this source was created from. */
  public long seed() {
    return seed;
  }

  /** An independent source for {@code name}, the same for the same (seed, name) on every run. */
  public RandomSource fork(String name) {
    return new RandomSource(Hashing.xxh3_64(seed).hashCharsToLong(name));
  }

  public long nextLong() {
    return random.nextLong();
  }

  /** Uniform in [0, bound). */
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  /** Uniform in [origin, bound). */
  public long nextLong(long origin, long bound) {
    return random.nextLong(origin, bound);
  }

  /** Uniform in [0, 1). */
  public double nextDouble() {
    return random.nextDouble();
  }

  /** Standard normal (mean 0, deviation 1). */
  public double nextGaussian() {
    return random.nextGaussian();
  }

  /** True with probability {@code p}. */
  public boolean chance(double p) {
    return p > 0 && random.nextDouble() < p;
  }

  /** A uniformly chosen element of a non-empty list. */
  public <T> T pick(List<T> items) {
    return items.get(random.nextInt(items.size()));
  }

  /** Fills {@code bytes} with random bytes. */
  public void nextBytes(byte[] bytes) {
    random.nextBytes(bytes);
  }
}
