package io.s2j.runtime.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.runtime.RandomSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Explicit fault plans act at their times; swarm plans stay inside their window and heal. */
class FaultPlanTest {
  private static final long S = Simulator.SECOND;

  @Test
  void anExplicitPlanActsAtItsTimes() {
    SimWorld world = new SimWorld(5, FaultProfile.NONE);
    SimProcess a = world.addProcess("a", env -> {});
    SimProcess b = world.addProcess("b", env -> {});
    a.start();
    b.start();
    new FaultPlan(List.of(
        new FaultPlan.Crash(S, "a"),
        new FaultPlan.Restart(2 * S, "a"),
        new FaultPlan.Partition(S / 2, "a", "b", false),
        new FaultPlan.Heal(3 * S / 2, "a", "b"),
        new FaultPlan.StoreOutage(S, SimWorld.DEFAULT_BUCKET, true),
        new FaultPlan.StoreOutage(2 * S, SimWorld.DEFAULT_BUCKET, false),
        new FaultPlan.MetadataOutage(S, true),
        new FaultPlan.MetadataOutage(2 * S, false),
        new FaultPlan.ClockSkew(S, "b", 750))).schedule(world);
    Simulator sim = world.simulator();

    sim.runFor(S * 3 / 4);
    assertTrue(world.network().blocked(a, b));
    assertFalse(world.network().blocked(b, a), "one-way");
    assertTrue(a.up());

    sim.runFor(S / 2);
    assertFalse(a.up());
    assertTrue(world.bucket().outage());
    assertEquals(750, b.wallSkewMillis());

    sim.runFor(S);
    assertTrue(a.up());
    assertEquals(2, a.generation());
    assertFalse(world.network().blocked(a, b));
    assertFalse(world.bucket().outage());
  }

  @Test
  void swarmPlansStayInTheirWindow() {
    for (long seed = 0; seed < 200; seed++) {
      RandomSource r = RandomSource.seeded(seed);
      FaultProfile profile = new FaultProfile(0, 0, 0, 0, 0, 0, 0, 0, 0, 1000, true, true, true, true);
      long window = 20 * S;
      FaultPlan plan = FaultPlan.swarm(r, profile, List.of("s1", "s2"), List.of("s1", "s2", "c1"), List.of("bucket"), window);
      assertFalse(plan.actions().isEmpty());
      long crashes = plan.actions().stream().filter(x -> x instanceof FaultPlan.Crash).count();
      long restarts = plan.actions().stream().filter(x -> x instanceof FaultPlan.Restart).count();
      assertEquals(crashes, restarts, "every crash has its restart");
      for (FaultPlan.FaultAction a : plan.actions()) {
        assertTrue(a.atNanos() >= 0 && a.atNanos() < window, a.toString());
      }
    }
  }
}
