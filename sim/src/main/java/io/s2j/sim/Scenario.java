package io.s2j.sim;

import io.s2j.runtime.sim.SimWorld;
import java.util.List;

/**
 * A simulated deployment, workload and fault schedule, all drawn from one seed, plus the checks
 * that decide whether the run passed.
 */
public interface Scenario {
  /** The name used on the command line ({@code --scenario NAME}). */
  String name();

  /** Builds the world for {@code seed}, runs it to the end, and checks it. */
  Outcome run(long seed);

  /** The names of the bugs that can be planted in this scenario's components. */
  List<String> bugs();

  /** This scenario with the named bug planted; throws for an unknown name. */
  Scenario withBug(String bug);

  /**
   * This scenario with speculative migration on (the default) or off, to measure what it changes;
   * scenarios without migrations are unchanged.
   */
  default Scenario withSpeculation(boolean on) {
    return this;
  }

  /**
   * What a run produced: the world (for trace and counters), violations, a description, and —
   * for scenarios that record client histories — what writes them to a directory (else null).
   */
  record Outcome(SimWorld world, List<String> violations, String description,
      java.util.function.Consumer<java.nio.file.Path> historyWriter) {
    public Outcome {
      violations = List.copyOf(violations);
    }

    public Outcome(SimWorld world, List<String> violations, String description) {
      this(world, violations, description, null);
    }
  }
}
