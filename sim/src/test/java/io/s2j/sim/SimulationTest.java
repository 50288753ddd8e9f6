package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs simulation seeds and fails with each failing seed's details and reproduction command.
 * {@code mvn test -pl sim -am -Dtest=SimulationTest -Dseed=N [-Dscenario=NAME] [-Dbug=NAME]}
 * replays one seed.
 */
class SimulationTest {
  @Test
  void seedsPass() {
    Scenario scenario = Scenarios.byName(Seeds.property("scenario", Scenarios.DEFAULT));
    String bug = Seeds.property("bug", null);
    List<String> failures = new ArrayList<>();
    for (long seed : Seeds.orDefault(1, 100)) {
      RunReport r = Runner.run(scenario, bug, seed);
      if (!r.passed()) {
        failures.add(r.failureDetails() + r.summaryLine());
      }
    }
    if (!failures.isEmpty()) {
      fail(failures.size() + " seed(s) failed:\n" + String.join("\n", failures));
    }
  }

  @Test
  void channelAndCellSeedsPass() {
    if (!Seeds.property("seed", "").isEmpty() || !Seeds.property("scenario", "").isEmpty()) {
      return; // a replay of one seed runs only the scenario it names, in seedsPass
    }
    for (String name : java.util.List.of("channel", "channel-takeover", "cell", "zone-outage", "deployment")) {
      Scenario scenario = Scenarios.byName(name);
      for (long seed = 1; seed <= (name.equals("zone-outage") || name.equals("deployment") ? 10 : 30); seed++) {
        RunReport r = Runner.run(scenario, null, seed);
        if (!r.passed()) {
          fail(r.failureDetails() + r.summaryLine());
        }
      }
    }
  }

  /**
   * The virtual-time latency targets (issue 7): ack p99 within 400 ms standard and 40 ms express,
   * at most one chunk PUT per flush interval per channel; the scenario reports a miss as a
   * violation. Virtual time, so deterministic: not a timing test.
   */
  @Test
  void latencyTargetsAreMetInVirtualTime() {
    if (!Seeds.property("seed", "").isEmpty() || !Seeds.property("scenario", "").isEmpty()) {
      return;
    }
    RunReport r = Runner.run(Scenarios.byName("latency"), null, 1);
    if (!r.passed()) {
      fail(r.failureDetails() + r.summaryLine());
    }
  }

  @Test
  void busySeedsPass() {
    if (!Seeds.property("seed", "").isEmpty() || !Seeds.property("scenario", "").isEmpty()) {
      return; // a replay of one seed runs only the scenario it names, in seedsPass
    }
    Scenario scenario = Scenarios.byName("counter-busy");
    for (long seed = 1; seed <= 5; seed++) {
      RunReport r = Runner.run(scenario, null, seed);
      if (!r.passed()) {
        fail(r.failureDetails() + r.summaryLine());
      }
    }
  }
}
