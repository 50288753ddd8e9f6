package io.s2j.runtime.sim;

import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.contract.SeamHarness;
import java.util.function.Function;

/** Runs the seam contract suites inside the simulator, fault-free, with fast stores. */
final class SimHarness implements SeamHarness {
  final SimWorld world;

  SimHarness(long seed, FaultProfile faults) {
    world = new SimWorld(seed, faults);
    world.bucket().setLatency(LatencyModel.FAST);
    world.metadata().setLatency(LatencyModel.FAST);
  }

  @Override
  public Env env(String name) {
    SimProcess p = world.process(io.s2j.runtime.NodeId.of(name));
    if (p == null) {
      p = world.addProcess(name, env -> {});
      p.start();
    }
    return p.env();
  }

  @Override
  public <T> T await(Env env, Function<Env, Promise<T>> op) {
    SimProcess p = world.process(env.node());
    @SuppressWarnings("unchecked")
    Promise<T>[] holder = new Promise[1];
    world.simulator().runAs(p.incarnation(), () -> holder[0] = op.apply(env));
    Promise<T> promise = holder[0];
    world.simulator().runUntil(promise::isDone, world.simulator().nowNanos() + 3600 * Simulator.SECOND);
    if (world.simulator().failure() != null) {
      throw new AssertionError("simulation failed", world.simulator().failure());
    }
    if (!promise.isDone()) {
      throw new AssertionError("promise not complete after an hour of virtual time");
    }
    if (promise.failure() != null) {
      if (promise.failure() instanceof RuntimeException re) {
        throw re;
      }
      throw new AssertionError(promise.failure());
    }
    return promise.value();
  }
}
