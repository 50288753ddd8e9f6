package io.s2j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

class RandomSourceProperties {
  @Property
  void sameSeedSameSequence(@ForAll long seed) {
    RandomSource a = RandomSource.seeded(seed);
    RandomSource b = RandomSource.seeded(seed);
    for (int i = 0; i < 20; i++) {
      assertEquals(a.nextLong(), b.nextLong());
    }
  }

  @Property
  void forksDependOnTheSeedAndNameOnlyNotOnDraws(
      @ForAll long seed, @ForAll @AlphaChars @StringLength(min = 1, max = 20) String name, @ForAll @IntRange(max = 50) int draws) {
    RandomSource fresh = RandomSource.seeded(seed);
    RandomSource used = RandomSource.seeded(seed);
    for (int i = 0; i < draws; i++) {
      used.nextLong();
    }
    assertEquals(fresh.fork(name).nextLong(), used.fork(name).nextLong());
    assertNotEquals(fresh.fork(name).seed(), fresh.fork(name + "x").seed());
  }

  @Property
  void boundedDrawsStayInBounds(@ForAll long seed, @ForAll @IntRange(min = 1, max = 1000) int bound) {
    RandomSource r = RandomSource.seeded(seed);
    for (int i = 0; i < 50; i++) {
      int v = r.nextInt(bound);
      assertEquals(true, v >= 0 && v < bound);
      long w = r.nextLong(-bound, bound);
      assertEquals(true, w >= -bound && w < bound);
    }
  }
}
