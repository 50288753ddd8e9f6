package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Every planted bug must be caught by the scenarios' ordinary checks within a bounded sweep: the
 * checks are the same as for correct code and know nothing of the bug. A bug counts as caught by
 * the first failing seed of any scenario that can plant it; rare ones (they need a slow recovery
 * to overlap a garbage collection) may take a few hundred seeds.
 */
class PlantedBugsTest {
  static final int SEEDS_MAX = 400;

  @Test
  void everyPlantedBugIsCaught() {
    checkFamily(List.of(Scenarios.byName("counter")));
    // The default scenario first: it plants every data-plane bug; the channel scenarios back it up.
    checkFamily(List.of(Scenarios.byName("cell"), Scenarios.byName("channel"), Scenarios.byName("channel-takeover")));
  }

  private static void checkFamily(List<Scenario> scenarios) {
    for (String bug : scenarios.get(0).bugs()) {
      String caughtBy = null;
      for (Scenario scenario : scenarios) {
        if (!scenario.bugs().contains(bug)) {
          continue;
        }
        for (long seed = 1; seed <= SEEDS_MAX && caughtBy == null; seed++) {
          if (!Runner.run(scenario, bug, seed).passed()) {
            caughtBy = scenario.name() + " seed " + seed;
          }
        }
        if (caughtBy != null) {
          break;
        }
      }
      assertTrue(caughtBy != null, "planted bug " + bug + " survived " + SEEDS_MAX + " seeds of each of " + scenarios.stream().map(Scenario::name).toList());
      System.out.printf(Locale.ROOT, "planted bug %-26s first caught by %s%n", bug, caughtBy);
    }
  }
}
