package io.s2j.bench;

import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import io.s2j.sim.Runner;
import io.s2j.sim.Scenarios;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The simulator's event loop: raw timer events per second, and whole scenario seeds per second.
 *
 * <p>{@code java -jar bench/target/s2j-jmh.jar SimulatorBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SimulatorBenchmark {
  /** Events per timer-loop invocation. */
  static final int TIMER_EVENTS = 100_000;

  @Param({"counter", "counter-busy"})
  public String scenario;

  /** 100,000 timer events on 10 processes; throughput × 100,000 = events per second. */
  @Benchmark
  public long timerEvents() {
    SimWorld world = new SimWorld(1, FaultProfile.NONE);
    long[] fired = {0};
    for (int i = 0; i < 10; i++) {
      SimProcess p = world.addProcess("p-" + i, env -> {
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
          fired[0]++;
          env.scheduler().schedule(env.random().nextLong(1, 1_000_000), tick[0]);
        };
        env.scheduler().execute(tick[0]);
      });
      p.start();
    }
    Simulator sim = world.simulator();
    while (fired[0] < TIMER_EVENTS && sim.step()) {
      // run
    }
    return sim.traceHash();
  }

  /** One whole seed of a scenario (faults on); throughput = seeds per second. */
  @Benchmark
  public void scenarioSeed(Blackhole bh) {
    bh.consume(Runner.run(Scenarios.byName(scenario), null, 7).traceHash());
  }
}
