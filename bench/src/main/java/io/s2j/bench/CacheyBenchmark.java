package io.s2j.bench;

import com.google.protobuf.ByteString;
import io.s2j.cachey.Cachey;
import io.s2j.cachey.CacheyKnobs;
import io.s2j.cachey.proto.ReadRangeRequest;
import io.s2j.cachey.proto.ReadRangeResponse;
import io.s2j.channel.PlantedBug;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cachey hit path: a read of a range whose pages are all held, served by {@link Cachey#read}
 * on its node's executor in a simulated world (so the figure includes the simulator's executor
 * steps for the promise callbacks, not network or store latency). A miss would cost an object-store
 * GET; every read here hits after the warm-up. Pages are held as shared byte strings, so a hit
 * slices them without copying: the cost is per request, nearly independent of its size.
 *
 * <p>{@code java -jar bench/target/s2j-jmh.jar CacheyBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CacheyBenchmark {
  static final int OBJECT_BYTES = 8 << 20;

  /** Bytes per read: one 64 KiB segment block, or a 1 MiB span of pages. */
  @Param({"65536", "1048576"})
  public int readBytes;

  private SimWorld world;
  private SimProcess node;
  private Cachey cachey;
  private final SplittableRandom offsets = new SplittableRandom(9);

  @Setup
  public void setUp() {
    world = new SimWorld(1, FaultProfile.NONE);
    List<Cachey> made = new ArrayList<>();
    node = world.addProcess("cachey-1", env -> made.add(new Cachey(env, CacheyKnobs.STANDARD, PlantedBug.NONE)));
    node.start();
    world.simulator().runFor(Simulator.MS);
    cachey = made.get(made.size() - 1);
    byte[] data = new byte[OBJECT_BYTES];
    new SplittableRandom(2).nextBytes(data);
    await(run(() -> node.env().objectStore().put(ObjectKey.of("seg/1"), ByteString.copyFrom(data), PutCondition.NONE)));
    for (long off = 0; off < OBJECT_BYTES; off += 1 << 20) {
      long at = off;
      ReadRangeResponse warm = await(run(() -> cachey.read(request(at, 1 << 20))));
      if (!warm.hasFound()) {
        throw new IllegalStateException("warm-up read failed: " + warm);
      }
    }
  }

  private static ReadRangeRequest request(long offset, long length) {
    return ReadRangeRequest.newBuilder().setObjectKey("seg/1").setOffset(offset).setLength(length).build();
  }

  private <T> Promise<T> run(java.util.function.Supplier<Promise<T>> op) {
    List<Promise<T>> holder = new ArrayList<>(1);
    world.simulator().runAs(node.incarnation(), () -> holder.add(op.get()));
    return holder.get(0);
  }

  private <T> T await(Promise<T> p) {
    world.simulator().runUntil(p::isDone, world.simulator().nowNanos() + 60 * Simulator.SECOND);
    if (!p.isDone() || p.failure() != null) {
      throw new IllegalStateException("read did not complete", p.failure());
    }
    return p.value();
  }

  @Benchmark
  public int hit() {
    long offset = offsets.nextLong(OBJECT_BYTES - readBytes);
    ReadRangeResponse r = await(run(() -> cachey.read(request(offset, readBytes))));
    int got = r.getFound().getData().size();
    if (got != readBytes) {
      throw new IllegalStateException("a hit must return the whole range: " + r.getOutcomeCase() + ", " + got + " bytes");
    }
    return got;
  }
}
