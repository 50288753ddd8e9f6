package io.s2j.sim;

import io.s2j.runtime.sim.FaultPlan;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The phases every scenario runs through: start the processes (some later, to force take-overs),
 * run the fault window, heal every fault, then a liveness phase in which clients keep working and a
 * drain in which they stop issuing and their last operations complete.
 */
public final class Phases {
  private Phases() {}

  /** How long clients get after healing to make progress, and how long in-flight work then gets to finish. */
  public static final long LIVENESS_BOUND_NANOS = 30 * Simulator.SECOND;

  /**
   * Runs the phases and returns the virtual time at which faults healed. Clients stop issuing when
   * the liveness bound is over ({@code stopIssuingAtNanos[0]} is set then).
   *
   * @param late processes started at {@code lateStartNanos} instead of at once
   */
  public static long run(SimWorld world, FaultPlan plan, List<SimProcess> late, ToLongFunction<SimProcess> lateStartNanos,
      long windowNanos, long[] stopIssuingAtNanos, long drainNanos) {
    for (SimProcess p : world.processes()) {
      if (!late.contains(p)) {
        p.start();
      }
    }
    Simulator sim = world.simulator();
    for (SimProcess p : late) {
      sim.after(lateStartNanos.applyAsLong(p), () -> {
        if (!p.up()) {
          p.start();
        }
      });
    }
    plan.schedule(world);
    sim.runFor(windowNanos);
    world.healAll();
    long healedAtNanos = sim.nowNanos();
    stopIssuingAtNanos[0] = healedAtNanos + LIVENESS_BOUND_NANOS;
    sim.runFor(LIVENESS_BOUND_NANOS + drainNanos);
    return healedAtNanos;
  }
}
