package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Every planted bug must be caught by the scenario's ordinary checks within the first seeds of a
 * sweep: the checks are the same as for correct code and know nothing of the bug.
 */
class PlantedBugsTest {
  /** Seeds per scenario within which each of its planted bugs must be caught. */
  static int seedsFor(Scenario scenario) {
    return scenario.name().startsWith("channel") ? 100 : 60;
  }

  @Test
  void everyPlantedBugIsCaught() {
    for (Scenario scenario : Scenarios.all()) {
      if (scenario.name().equals("counter-busy")) {
        continue; // same servers as counter
      }
      int seeds = seedsFor(scenario);
      for (String bug : scenario.bugs()) {
        int caught = 0;
        long firstSeed = -1;
        for (long seed = 1; seed <= seeds; seed++) {
          if (!Runner.run(scenario, bug, seed).passed()) {
            caught++;
            if (firstSeed < 0) {
              firstSeed = seed;
            }
          }
        }
        assertTrue(caught > 0, "planted bug " + bug + " survived " + seeds + " seeds of " + scenario.name());
        System.out.printf(java.util.Locale.ROOT, "%-8s planted bug %-24s caught by %3d/%d seeds (first: seed %d)%n",
            scenario.name(), bug, caught, seeds, firstSeed);
      }
    }
  }
}
