package io.s2j.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The seeds a simulation test runs: {@code -Dseed=N} replays exactly seed N, {@code -Dseeds=A..B}
 * a range; otherwise the test's default range.
 */
final class Seeds {
  private Seeds() {}

  static List<Long> orDefault(long from, long to) {
    String seed = System.getProperty("seed", "");
    if (!seed.isBlank()) {
      return List.of(Long.parseLong(seed.trim()));
    }
    String seeds = System.getProperty("seeds", "");
    if (!seeds.isBlank()) {
      String[] parts = seeds.trim().split("\\.\\.");
      from = Long.parseLong(parts[0]);
      to = Long.parseLong(parts[1]);
    }
    List<Long> out = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      out.add(s);
    }
    return out;
  }

  static String property(String name, String fallback) {
    String v = System.getProperty(name, "");
    return v.isBlank() ? fallback : v.trim();
  }
}
