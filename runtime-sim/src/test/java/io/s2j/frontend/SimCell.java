package io.s2j.frontend;

import io.s2j.channel.Channel;
import io.s2j.channel.ChannelKnobs;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A small simulated cell for data-path tests: one channel ({@code ch-1} on node {@code ch-1-a})
 * and one frontend node running a {@link Catalog} and a {@link DataPlane} with a 1 s stream cache,
 * fault-free.
 */
final class SimCell {
  /** The frontend's two halves. */
  record Frontend(Catalog catalog, DataPlane data) {}

  final SimWorld world;
  private final SimProcess frontendProcess;
  private Frontend frontend;

  /** Cachey nodes {@code cachey-1..}, all in zone {@code z1} with the frontend (empty unless asked for). */
  final List<io.s2j.cachey.Cachey> caches = new java.util.ArrayList<>();

  private final ChannelDirectory directory;
  /** The bgtask node's task, once {@link #startBgTask} ran (replaced on restart). */
  io.s2j.bgtask.BgTask bgTask;

  SimCell(ChannelKnobs knobs) {
    this(knobs, 0, null);
  }

  /** A cell whose frontend reads segments through {@code cacheyNodes} cachey nodes. */
  SimCell(ChannelKnobs knobs, int cacheyNodes, io.s2j.cachey.CacheyKnobs cacheyKnobs) {
    world = new SimWorld(7, FaultProfile.NONE);
    world.bucket().setLatency(LatencyModel.S3_EXPRESS);
    world.metadata().setLatency(LatencyModel.FAST);
    world.addProcess("ch-1-a", env -> new Channel(env, "ch-1", knobs)).start();
    directory = new ChannelDirectory(Map.of("ch-1", List.of(NodeId.of("ch-1-a"))));
    List<io.s2j.cachey.CacheyNode> ring = new java.util.ArrayList<>();
    for (int i = 1; i <= cacheyNodes; i++) {
      world.addProcess("cachey-" + i, env -> caches.add(new io.s2j.cachey.Cachey(env, cacheyKnobs))).start();
      ring.add(io.s2j.cachey.CacheyNode.of("cachey-" + i, "z1"));
    }
    frontendProcess = world.addProcess("fe-1", env -> {
      Catalog catalog = new Catalog(env, Simulator.SECOND);
      io.s2j.cachey.CacheyClient objects = cacheyNodes == 0 ? io.s2j.cachey.CacheyClient.direct(env)
          : new io.s2j.cachey.CacheyClient(env, new io.s2j.cachey.CacheyRing(ring), "z1", 2 * Simulator.SECOND);
      frontend = new Frontend(catalog, new DataPlane(env, catalog, directory, io.s2j.channel.PlantedBug.NONE, objects));
    });
    frontendProcess.start();
    world.simulator().runFor(Simulator.SECOND);
  }

  SimCell() {
    this(ChannelKnobs.SMALL);
  }

  /**
   * Adds a bgtask node ({@code bg-1}, its own catalog with the frontend's stream cache TTL) that
   * runs a round every {@code tickNanos} and frees a deleted stream's name one TTL after it saw it.
   */
  void startBgTask(long tickNanos) {
    world.addProcess("bg-1", env -> bgTask = new io.s2j.bgtask.BgTask(env, new Catalog(env, Simulator.SECOND), directory,
        new io.s2j.bgtask.BgTask.Knobs(tickNanos, Simulator.SECOND))).start();
  }

  Frontend frontend() {
    return frontend;
  }

  /** Runs {@code op} on the frontend's executor now, without running the simulation further. */
  <T> T now(Function<Frontend, T> op) {
    List<T> holder = new java.util.ArrayList<>(1);
    world.simulator().runAs(frontendProcess.incarnation(), () -> holder.add(op.apply(frontend)));
    return holder.get(0);
  }

  /** Starts {@code op} on the frontend now, without running the simulation. */
  <T> Promise<T> start(Function<Frontend, Promise<T>> op) {
    return now(op);
  }

  /** Runs {@code op} on the frontend and waits (in virtual time) for its result. */
  <T> T run(Function<Frontend, Promise<T>> op) {
    Promise<T> p = start(op);
    Simulator sim = world.simulator();
    sim.runUntil(p::isDone, sim.nowNanos() + 3600 * Simulator.SECOND);
    if (sim.failure() != null) {
      throw new AssertionError("simulation failed", sim.failure());
    }
    if (!p.isDone()) {
      throw new AssertionError("not complete after an hour of virtual time");
    }
    if (p.failure() != null) {
      throw new AssertionError("failed with a bug", p.failure());
    }
    return p.value();
  }
}
