package io.s2j.cachey;

import com.google.protobuf.ByteString;
import io.s2j.cachey.proto.ReadRangeRequest;
import io.s2j.cachey.proto.ReadRangeResponse;
import io.s2j.channel.PlantedBug;
import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A simulated world with cachey nodes {@code cachey-1..n} (zones {@code z1}, {@code z2}, … in turn)
 * and a {@code client} process whose env the tests use to put objects and send requests.
 */
final class CacheyHarness {
  static final long RPC_TIMEOUT_NANOS = 5 * Simulator.SECOND;

  final SimWorld world;
  final List<SimProcess> nodes = new ArrayList<>();
  /** The current incarnation's component of each node, by index. */
  final List<Cachey> caches = new ArrayList<>();
  final SimProcess client;

  CacheyHarness(long seed, CacheyKnobs knobs, FaultProfile faults, int nodeCount, PlantedBug bug) {
    world = new SimWorld(seed, faults);
    for (int i = 0; i < nodeCount; i++) {
      int index = i;
      caches.add(null);
      SimProcess p = world.addProcess("cachey-" + (i + 1), env -> caches.set(index, new Cachey(env, knobs, bug)));
      p.start();
      nodes.add(p);
    }
    client = world.addProcess("client", env -> { });
    client.start();
    world.simulator().runFor(Simulator.MS);
  }

  CacheyHarness(CacheyKnobs knobs) {
    this(11, knobs, FaultProfile.NONE, 1, PlantedBug.NONE);
  }

  Cachey cachey() {
    return caches.get(0);
  }

  Env env() {
    return client.env();
  }

  List<CacheyNode> ring() {
    List<CacheyNode> out = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      out.add(new CacheyNode(nodes.get(i).id(), "z" + (1 + i % 2)));
    }
    return out;
  }

  /** Runs {@code op} on the client's executor now, without running the simulation. */
  <T> T now(Function<Env, T> op) {
    List<T> holder = new ArrayList<>(1);
    world.simulator().runAs(client.incarnation(), () -> holder.add(op.apply(env())));
    return holder.get(0);
  }

  /** Runs the simulation until {@code p} completes and returns its value. */
  <T> T await(Promise<T> p) {
    Simulator sim = world.simulator();
    sim.runUntil(p::isDone, sim.nowNanos() + 600 * Simulator.SECOND);
    if (sim.failure() != null) {
      throw new AssertionError("simulation failed", sim.failure());
    }
    if (!p.isDone()) {
      throw new AssertionError("not complete after ten minutes of virtual time");
    }
    if (p.failure() != null) {
      throw new AssertionError("failed: " + p.failure(), p.failure());
    }
    return p.value();
  }

  void put(String key, ByteString data) {
    await(now(env -> env.objectStore().put(ObjectKey.of(key), data, PutCondition.NONE)));
  }

  void delete(String key) {
    await(now(env -> env.objectStore().delete(ObjectKey.of(key))));
  }

  static ReadRangeRequest request(String key, long offset, long length) {
    return ReadRangeRequest.newBuilder().setObjectKey(key).setOffset(offset).setLength(length).build();
  }

  Promise<ReadRangeResponse> start(int node, ReadRangeRequest request) {
    NodeId dest = nodes.get(node).id();
    return now(env -> env.network().call(dest, CacheyRpc.READ_RANGE, request, RPC_TIMEOUT_NANOS));
  }

  ReadRangeResponse read(ReadRangeRequest request) {
    return await(start(0, request));
  }

  ReadRangeResponse read(String key, long offset, long length) {
    return read(request(key, offset, length));
  }

  /** {@code n} bytes that differ per {@code tag} and per position. */
  static ByteString bytes(int n, int tag) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + tag * 7 + (i >> 8) * 13);
    }
    return ByteString.copyFrom(b);
  }
}
