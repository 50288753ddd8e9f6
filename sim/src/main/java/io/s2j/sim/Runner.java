package io.s2j.sim;

import io.s2j.runtime.NonDeterministic;
import io.s2j.runtime.sim.Simulator;

/** Runs one seed of a scenario and reports it. */
public final class Runner {
  private Runner() {}

  /** Runs {@code seed} of {@code scenario}, with the named planted bug unless {@code bug} is null. */
  public static RunReport run(Scenario scenario, String bug, long seed) {
    long wallStart = wallNanos();
    Scenario.Outcome outcome = (bug == null ? scenario : scenario.withBug(bug)).run(seed);
    long wallMs = (wallNanos() - wallStart) / 1_000_000L;
    Simulator sim = outcome.world().simulator();
    boolean passed = sim.failure() == null && outcome.violations().isEmpty();
    return new RunReport(scenario.name(), bug, seed, passed, sim.traceHash(), sim.eventsRun(),
        sim.nowNanos() / Simulator.MS, wallMs, outcome.violations(), sim.failure(), outcome.description(),
        sim.recentEvents());
  }

  @NonDeterministic("measures how long a run took on the host, for wall_ms; never read by the run")
  private static long wallNanos() {
    return System.nanoTime();
  }
}
