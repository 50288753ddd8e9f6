package io.s2j.sim.counter;

import io.s2j.runtime.NodeId;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.sim.FaultPlan;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import io.s2j.sim.History;
import io.s2j.sim.Phases;
import io.s2j.sim.Scenario;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Durable counter servers under swarm faults, with clients checking what they were told.
 *
 * <p>The seed draws the topology (1–3 servers, 1–6 clients, or 6 servers and 64 clients on an express bucket for {@code busy}),
 * where the counter lives (a bucket, standard or express, or the metadata store), the fault rates
 * and a fault plan over a window of 10–60 s. Then every fault heals and clients must make progress.
 * Checks, none of which knows how the servers work:
 *
 * <ol>
 *   <li>no two acknowledged increments returned the same value;
 *   <li>real-time order: an increment acknowledged before another was invoked returned a smaller
 *       value;
 *   <li>conservation: the final stored value is at least every acknowledged value, and exceeds
 *       the number of acknowledged increments by at most the number of indefinite ones (so a
 *       "definite" failure never took effect and nothing acknowledged was lost);
 *   <li>liveness: after healing, every client gets an increment acknowledged within {@link
 *       #LIVENESS_BOUND_NANOS}.
 * </ol>
 */
public final class CounterScenario implements Scenario {
  static final long LIVENESS_BOUND_NANOS = Phases.LIVENESS_BOUND_NANOS;
  static final long DRAIN_NANOS = 10 * Simulator.SECOND;

  private final String name;
  private final boolean busy;
  private final CounterServer.Bug bug;

  private CounterScenario(String name, boolean busy, CounterServer.Bug bug) {
    this.name = name;
    this.busy = busy;
    this.bug = bug;
  }

  /** This scenario with a planted bug in the servers. */
  @Override
  public Scenario withBug(String bugName) {
    return new CounterScenario(name, busy, CounterServer.Bug.valueOf(bugName.toUpperCase(java.util.Locale.ROOT).replace('-', '_')));
  }

  @Override
  public List<String> bugs() {
    return java.util.Arrays.stream(CounterServer.Bug.values()).filter(b -> b != CounterServer.Bug.NONE)
        .map(b -> b.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')).toList();
  }

  /** The default scenario: a small topology drawn per seed. */
  public static CounterScenario standard() {
    return new CounterScenario("counter", false, CounterServer.Bug.NONE);
  }

  /** A busy topology (6 servers, 64 clients, express latency) for measuring the simulator itself. */
  public static CounterScenario busy() {
    return new CounterScenario("counter-busy", true, CounterServer.Bug.NONE);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Outcome run(long seed) {
    RandomSource root = RandomSource.seeded(seed);
    RandomSource draw = root.fork("scenario");
    FaultProfile profile = FaultProfile.swarm(root.fork("fault-profile"));
    SimWorld world = new SimWorld(seed, profile);

    int serverCount = busy ? 6 : 1 + draw.nextInt(3);
    int clientCount = busy ? 64 : 1 + draw.nextInt(6);
    CounterServer.Backend backend = draw.chance(0.5) ? CounterServer.Backend.OBJECT_STORE : CounterServer.Backend.METADATA;
    boolean express = busy || draw.chance(0.3);
    long windowNanos = (10 + draw.nextInt(51)) * Simulator.SECOND;
    long thinkNanosMax = busy ? Simulator.MS : draw.nextLong(0, 100) * Simulator.MS;
    if (express) {
      world.bucket().setLatency(LatencyModel.S3_EXPRESS);
    }
    world.bucket().setRequestTimeoutNanos(2 * Simulator.SECOND);
    world.metadata().setRequestTimeoutNanos(Simulator.SECOND);

    History history = new History();
    long[] stopIssuingAtNanos = {Long.MAX_VALUE};
    List<NodeId> serverIds = new ArrayList<>();
    List<String> serverNames = new ArrayList<>();
    List<String> everyone = new ArrayList<>();
    for (int i = 1; i <= serverCount; i++) {
      String n = "server-" + i;
      world.addProcess(n, env -> new CounterServer(env, backend, bug));
      serverIds.add(NodeId.of(n));
      serverNames.add(n);
      everyone.add(n);
    }
    for (int i = 1; i <= clientCount; i++) {
      String n = "client-" + i;
      world.addProcess(n, env -> new CounterClient(env, serverIds, history, thinkNanosMax, stopIssuingAtNanos));
      everyone.add(n);
    }
    FaultPlan plan = FaultPlan.swarm(root.fork("fault-plan"), profile, serverNames, everyone,
        List.of(SimWorld.DEFAULT_BUCKET), windowNanos);
    long healedAtNanos = Phases.run(world, plan, List.of(), p -> 0, windowNanos, stopIssuingAtNanos, DRAIN_NANOS);
    Simulator sim = world.simulator();

    List<String> violations = new ArrayList<>();
    if (sim.failure() == null) {
      long finalValue = storedValue(world, backend);
      check(history, finalValue, healedAtNanos, clientCount, violations);
    }
    String description = String.format(Locale.ROOT,
        "scenario=%s bug=%s servers=%d clients=%d backend=%s bucket=%s window_s=%d think_ms_max=%d%nfaults: %s%nplan:%n%s",
        name, bug.name().toLowerCase(Locale.ROOT).replace('_', '-'), serverCount, clientCount, backend, express ? "express" : "standard", windowNanos / Simulator.SECOND,
        thinkNanosMax / Simulator.MS, profile.describe(), plan.describe());
    return new Outcome(world, violations, description);
  }

  private static long storedValue(SimWorld world, CounterServer.Backend backend) {
    return switch (backend) {
      case OBJECT_STORE -> {
        var bytes = world.bucket().peek(CounterServer.OBJECT_KEY);
        yield bytes == null ? 0 : CounterServer.decode(bytes);
      }
      case METADATA -> {
        Optional<KeyValue> kv = world.metadata().peek(CounterServer.METADATA_KEY);
        yield kv.map(v -> CounterServer.decode(v.value())).orElse(0L);
      }
    };
  }

  /** The checks of the class comment; adds one line per violation. */
  static void check(History history, long finalValue, long healedAtNanos, int clientCount, List<String> violations) {
    List<History.Op> ok = new ArrayList<>();
    long indefinite = 0;
    for (History.Op op : history.ops()) {
      switch (op.outcome()) {
        case OK -> ok.add(op);
        case INFO -> indefinite++;
        default -> { }
      }
    }
    TreeSet<Long> values = new TreeSet<>();
    for (History.Op op : ok) {
      if (!values.add(op.value())) {
        violations.add("duplicate acknowledged value " + op.value() + ": " + op);
      }
      if (op.value() < 1 || op.value() > finalValue) {
        violations.add("acknowledged value " + op.value() + " outside [1, final=" + finalValue + "]: " + op);
      }
    }
    if (finalValue - ok.size() > indefinite) {
      violations.add(String.format(Locale.ROOT,
          "final value %d = %d acknowledged + %d unexplained increments, but only %d operations were indefinite",
          finalValue, ok.size(), finalValue - ok.size(), indefinite));
    }
    // Real-time order: walk invocations in time order, keeping the largest value acknowledged
    // before each invocation.
    List<History.Op> byComplete = new ArrayList<>(ok);
    byComplete.sort(Comparator.comparingLong(History.Op::completeNanos));
    List<History.Op> byInvoke = new ArrayList<>(ok);
    byInvoke.sort(Comparator.comparingLong(History.Op::invokeNanos));
    int c = 0;
    History.Op maxBefore = null;
    for (History.Op op : byInvoke) {
      while (c < byComplete.size() && byComplete.get(c).completeNanos() < op.invokeNanos()) {
        History.Op done = byComplete.get(c++);
        if (maxBefore == null || done.value() > maxBefore.value()) {
          maxBefore = done;
        }
      }
      if (maxBefore != null && op.value() <= maxBefore.value()) {
        violations.add("real-time order: " + op + " returned a value not above " + maxBefore + ", acknowledged before it began");
      }
    }
    for (int i = 1; i <= clientCount; i++) {
      String client = "client-" + i;
      boolean progressed = ok.stream().anyMatch(op -> op.client().equals(client)
          && op.invokeNanos() >= healedAtNanos && op.completeNanos() <= healedAtNanos + LIVENESS_BOUND_NANOS);
      if (!progressed) {
        violations.add("liveness: " + client + " had no increment acknowledged within "
            + LIVENESS_BOUND_NANOS / Simulator.SECOND + "s after faults healed");
      }
    }
  }
}
