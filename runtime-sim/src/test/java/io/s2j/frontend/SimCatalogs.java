package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Catalogs on simulated frontend nodes sharing one simulated metadata store, and ways to wait for them. */
final class SimCatalogs {
  final SimWorld world;
  private final Map<String, Catalog> catalogs = new LinkedHashMap<>();

  SimCatalogs(long seed, FaultProfile faults) {
    world = new SimWorld(seed, faults);
    world.bucket().setLatency(LatencyModel.FAST);
    world.metadata().setLatency(LatencyModel.FAST);
  }

  SimCatalogs() {
    this(1, FaultProfile.NONE);
  }

  /** The catalog of frontend node {@code name}, started on first use. */
  Catalog node(String name) {
    return catalogs.computeIfAbsent(name, n -> {
      SimProcess p = world.addProcess(n, env -> {});
      p.start();
      return new Catalog(p.env());
    });
  }

  Env env(String name) {
    node(name);
    return world.process(name).env();
  }

  /** Starts {@code op} on node {@code name} now, without running the simulation. */
  <T> Promise<T> start(String name, Function<Catalog, Promise<T>> op) {
    Catalog catalog = node(name);
    @SuppressWarnings("unchecked")
    Promise<T>[] holder = new Promise[1];
    world.simulator().runAs(world.process(name).incarnation(), () -> holder[0] = op.apply(catalog));
    return holder[0];
  }

  /** Runs the simulation until every promise is done; fails on a bug or after an hour of virtual time. */
  void awaitAll(List<? extends Promise<?>> promises) {
    Simulator sim = world.simulator();
    sim.runUntil(() -> promises.stream().allMatch(Promise::isDone), sim.nowNanos() + 3600 * Simulator.SECOND);
    if (sim.failure() != null) {
      throw new AssertionError("simulation failed", sim.failure());
    }
    for (Promise<?> p : promises) {
      if (!p.isDone()) {
        throw new AssertionError("operation not complete after an hour of virtual time");
      }
      if (p.failure() != null) {
        throw new AssertionError("operation failed with a bug", p.failure());
      }
    }
  }

  /** Runs {@code op} on node "fe-1" and waits for its outcome. */
  <T> T run(Function<Catalog, Promise<T>> op) {
    return run("fe-1", op);
  }

  <T> T run(String name, Function<Catalog, Promise<T>> op) {
    Promise<T> p = start(name, op);
    awaitAll(List.of(p));
    return p.value();
  }

  /** Node "fe-1"'s wall clock now. */
  long nowMs() {
    return env("fe-1").clock().wallMillis();
  }

  static <T> T ok(Outcome<T> outcome) {
    if (outcome instanceof Outcome.Ok<T> ok) {
      return ok.value();
    }
    throw new AssertionError("expected success, got " + outcome);
  }

  /** Asserts a definite failure with {@code code}; returns the error. */
  static S2Error failed(ErrorCode code, Outcome<?> outcome) {
    Outcome.Failed<?> f = assertInstanceOf(Outcome.Failed.class, outcome, () -> "expected " + code.wireCode() + ", got " + outcome);
    assertEquals(code, f.error().code(), () -> "error " + f.error());
    assertFalse(f.indefinite(), "a definite failure");
    return f.error();
  }
}
