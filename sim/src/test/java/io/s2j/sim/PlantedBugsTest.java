package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every planted bug must be caught by the scenarios' ordinary checks within a stated number of
 * seeds: the checks are the same as for correct code and know nothing of the bug. Each bug is
 * swept on the scenario that finds it soonest (the cell scenario can plant every data-plane bug,
 * but takes longer per seed and needs more seeds for the recovery races the channel scenarios
 * provoke on purpose); the test prints the first catching seed and the check that caught it.
 */
class PlantedBugsTest {
  /** The stated budget: every planted bug is caught within this many seeds of its scenario. */
  static final int SEEDS_MAX = 400;

  /** Bug → the scenario it is swept on. */
  static final Map<String, String> SWEPT_ON = new TreeMap<>(Map.ofEntries(
      Map.entry("counter:ack-before-durable", "counter"),
      Map.entry("counter:blind-write", "counter"),
      Map.entry("counter:indefinite-as-definite", "counter"),
      Map.entry("ack-out-of-order", "channel"),
      Map.entry("no-fence", "channel"),
      Map.entry("trust-refused-create", "channel"),
      Map.entry("read-without-barrier", "channel-takeover"),
      Map.entry("gc-deletes-fences", "channel"),
      Map.entry("fence-without-epoch-check", "channel-takeover"),
      Map.entry("ack-before-chunk-durable", "cell"),
      Map.entry("zombie-acks", "cell"),
      Map.entry("seq-reuse-after-failover", "cell"),
      Map.entry("timestamp-backwards", "cell"),
      Map.entry("match-against-durable-tail", "cell"),
      Map.entry("skip-fencing-check", "cell"),
      Map.entry("session-unordered", "cell"),
      Map.entry("read-skips-at-segment-boundary", "cell"),
      Map.entry("cachey-wrong-page", "cell"),
      Map.entry("trim-exposes-trimmed-record", "cell"),
      Map.entry("gc-deletes-referenced-segment", "cell"),
      Map.entry("recreate-sees-old-incarnation", "cell"),
      Map.entry("migration-loses-inflight-append", "cell"),
      Map.entry("migration-read-gap", "cell"),
      Map.entry("two-cops-act", "cell"),
      Map.entry("express-ack-on-one-zone", "cell"),
      Map.entry("speculation-acks-before-confirm", "cell")));

  @Test
  void everyPlantedBugHasAScenarioThatSweepsIt() {
    TreeSet<String> planted = new TreeSet<>();
    for (Scenario s : Scenarios.all()) {
      for (String bug : s.bugs()) {
        planted.add(s.name().startsWith("counter") ? "counter:" + bug : bug);
      }
    }
    assertEquals(planted, new TreeSet<>(SWEPT_ON.keySet()), "every planted bug is listed here, and nothing else");
  }

  @Test
  void everyPlantedBugIsCaught() {
    List<String> missed = new ArrayList<>();
    SWEPT_ON.forEach((key, scenarioName) -> {
      String bug = key.startsWith("counter:") ? key.substring("counter:".length()) : key;
      Scenario scenario = Scenarios.byName(scenarioName);
      assertTrue(scenario.bugs().contains(bug), scenarioName + " cannot plant " + bug);
      String caughtBy = null;
      for (long seed = 1; seed <= SEEDS_MAX && caughtBy == null; seed++) {
        RunReport r = Runner.run(scenario, bug, seed);
        if (!r.passed()) {
          String what = r.failure() != null ? "invariant: " + r.failure().getMessage() : r.violations().get(0);
          caughtBy = scenarioName + " seed " + seed + " by " + (what.length() > 160 ? what.substring(0, 160) + "…" : what);
        }
      }
      if (caughtBy == null) {
        missed.add(bug + " survived " + SEEDS_MAX + " seeds of " + scenarioName);
      } else {
        System.out.printf(Locale.ROOT, "planted bug %-32s first caught by %s%n", bug, caughtBy);
      }
    });
    assertTrue(missed.isEmpty(), String.join("\n", missed));
  }
}
