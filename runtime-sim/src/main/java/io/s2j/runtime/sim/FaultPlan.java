package io.s2j.runtime.sim;

import io.s2j.runtime.RandomSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A schedule of timed faults: crashes and restarts, pauses, partitions, store and metadata outages,
 * windows of lost metadata responses, clock skew. Written explicitly for a regression test, or drawn from a seed by {@link #swarm}.
 */
public record FaultPlan(List<FaultAction> actions) {
  public FaultPlan {
    actions = new ArrayList<>(actions);
    actions.sort(Comparator.comparingLong(FaultAction::atNanos));
    actions = List.copyOf(actions);
  }

  public static final FaultPlan NONE = new FaultPlan(List.of());

  /** One timed fault. */
  public sealed interface FaultAction {
    long atNanos();

    /** Applies the fault to {@code world}. */
    void apply(SimWorld world);
  }

  /** Kills a process (it loses its memory and pending work). */
  public record Crash(long atNanos, String node) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      SimProcess p = world.process(node);
      if (p.up()) {
        p.crash();
      }
    }
  }

  /** Starts a process again (a new incarnation). */
  public record Restart(long atNanos, String node) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      SimProcess p = world.process(node);
      if (!p.up()) {
        p.start();
      }
    }
  }

  /** Cuts {@code from → to}, and the way back too when {@code twoWay}. */
  public record Partition(long atNanos, String from, String to, boolean twoWay) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.network().block(world.process(from), world.process(to));
      if (twoWay) {
        world.network().block(world.process(to), world.process(from));
      }
    }
  }

  /** Restores both directions between two processes. */
  public record Heal(long atNanos, String from, String to) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.network().unblock(world.process(from), world.process(to));
      world.network().unblock(world.process(to), world.process(from));
    }
  }

  /** Starts or ends an outage of a bucket. */
  public record StoreOutage(long atNanos, String bucket, boolean down) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.bucket(bucket).setOutage(down);
    }
  }

  /** Starts or ends an outage of a whole zone: every zonal bucket in it (express storage). */
  public record ZoneOutage(long atNanos, String zone, boolean down) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.setZoneOutage(zone, down);
    }
  }

  /** Starts or ends a metadata-store outage. */
  public record MetadataOutage(long atNanos, boolean down) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.metadata().setUnavailable(down);
    }
  }

  /**
   * Stops a process at {@code atNanos} and continues it at {@code resumeAtNanos} (SIGSTOP/SIGCONT, a
   * GC pause, a VM stall): see {@link SimProcess#pause()}. If it is killed meanwhile, the resume
   * does nothing to the next incarnation.
   */
  public record Pause(long atNanos, String node, long resumeAtNanos) implements FaultAction {
    public Pause {
      if (resumeAtNanos < atNanos) {
        throw new IllegalArgumentException("a pause resumes before it starts: " + atNanos + " > " + resumeAtNanos);
      }
    }

    @Override
    public void apply(SimWorld world) {
      SimProcess p = world.process(node);
      if (p.pause()) {
        SimProcess.Incarnation stopped = p.incarnation();
        world.simulator().schedule(world.simulator().nowNanos() + (resumeAtNanos - atNanos), null, EventKind.FAULT, () -> {
          if (p.up() && p.incarnation() == stopped) {
            p.resume();
          }
        });
      }
    }
  }

  /** Starts or ends a window of lost metadata responses (an etcd leader election; {@link SimMetadataStore#setLosingResponses}). */
  public record MetadataLostResponses(long atNanos, boolean on) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.metadata().setLosingResponses(on);
    }
  }

  /** Sets a node's wall-clock skew (its clock jumps). */
  public record ClockSkew(long atNanos, String node, long skewMillis) implements FaultAction {
    @Override
    public void apply(SimWorld world) {
      world.process(node).setWallSkewMillis(skewMillis);
    }
  }

  /** Schedules every action on {@code world}'s simulator, relative to now. */
  public void schedule(SimWorld world) {
    long base = world.simulator().nowNanos();
    for (FaultAction a : actions) {
      world.simulator().schedule(base + a.atNanos(), null, EventKind.FAULT, () -> a.apply(world));
    }
  }

  /**
   * Draws a plan from {@code random} for the kinds of fault {@code profile} switches on, within
   * {@code [0, windowNanos)}; every fault is healed before the window ends.
   *
   * @param crashable processes that may be crashed and partitioned
   * @param everyone all processes (partition peers)
   */
  public static FaultPlan swarm(
      RandomSource random, FaultProfile profile, List<String> crashable, List<String> everyone, List<String> buckets, long windowNanos) {
    return swarm(random, profile, crashable, everyone, buckets, List.of(), windowNanos);
  }

  /**
   * As above, plus zone outages when {@code profile} has them and {@code zones} is not empty: one
   * or two, of different zones, one after the other (express storage survives one zone down, not
   * two at once). Drawn after everything else, so a world without zones draws the same plan.
   */
  public static FaultPlan swarm(RandomSource random, FaultProfile profile, List<String> crashable, List<String> everyone,
      List<String> buckets, List<String> zones, long windowNanos) {
    List<FaultAction> actions = new ArrayList<>();
    long ms = Simulator.MS;
    if (profile.clockSkewMaxMs() > 0) {
      for (String node : everyone) {
        long max = profile.clockSkewMaxMs();
        actions.add(new ClockSkew(0, node, random.nextLong(-max, max + 1)));
      }
    }
    if (profile.crashes() && !crashable.isEmpty()) {
      int crashes = 1 + random.nextInt(6);
      for (int i = 0; i < crashes; i++) {
        String node = random.pick(crashable);
        long at = random.nextLong(0, windowNanos * 3 / 4);
        long down = random.nextLong(10 * ms, 5_000 * ms);
        actions.add(new Crash(at, node));
        actions.add(new Restart(Math.min(at + down, windowNanos - 1), node));
      }
    }
    if (profile.partitions() && everyone.size() >= 2) {
      int partitions = 1 + random.nextInt(5);
      for (int i = 0; i < partitions; i++) {
        String a = random.pick(crashable.isEmpty() ? everyone : crashable);
        String b = random.pick(everyone);
        if (a.equals(b)) {
          continue;
        }
        long at = random.nextLong(0, windowNanos * 3 / 4);
        long length = random.nextLong(100 * ms, 10_000 * ms);
        actions.add(new Partition(at, a, b, random.chance(0.5)));
        actions.add(new Heal(Math.min(at + length, windowNanos - 1), a, b));
      }
    }
    if (profile.storeOutages()) {
      String bucket = random.pick(buckets);
      long at = random.nextLong(0, windowNanos / 2);
      actions.add(new StoreOutage(at, bucket, true));
      actions.add(new StoreOutage(Math.min(at + random.nextLong(100 * ms, 5_000 * ms), windowNanos - 1), bucket, false));
    }
    if (profile.metaOutages()) {
      long at = random.nextLong(0, windowNanos / 2);
      actions.add(new MetadataOutage(at, true));
      actions.add(new MetadataOutage(Math.min(at + random.nextLong(100 * ms, 5_000 * ms), windowNanos - 1), false));
    }
    if (profile.zoneOutages() && !zones.isEmpty()) {
      int outages = Math.min(zones.size(), 1 + random.nextInt(2));
      long at = random.nextLong(0, windowNanos / 2);
      String previous = null;
      for (int i = 0; i < outages && at < windowNanos - 1; i++) {
        String zone = random.pick(zones);
        if (zone.equals(previous)) {
          zone = zones.get((zones.indexOf(zone) + 1) % zones.size());
        }
        long end = Math.min(at + random.nextLong(500 * ms, 10_000 * ms), windowNanos - 1);
        actions.add(new ZoneOutage(at, zone, true));
        actions.add(new ZoneOutage(end, zone, false));
        previous = zone;
        at = end + random.nextLong(1, 2_000 * ms);
      }
    }
    return new FaultPlan(actions);
  }

  /**
   * Draws {@code count} process pauses within {@code [0, windowNanos)}, each resumed before the
   * window ends. Half are long — a multiple (0.5–3×) of one of {@code timeoutsMs}, the timeouts
   * that decide fail-over (a cop's lease, a channel's dead-after), so that some pauses outlast
   * them and the cell fails over under a process that later resumes with stale beliefs — and half
   * are short stalls of 10–800 ms (a GC pause).
   */
  public static List<FaultAction> swarmPauses(RandomSource random, List<String> nodes, List<Long> timeoutsMs, int count,
      long windowNanos) {
    List<FaultAction> actions = new ArrayList<>();
    long ms = Simulator.MS;
    for (int i = 0; i < count && !nodes.isEmpty(); i++) {
      String node = random.pick(nodes);
      long at = random.nextLong(0, windowNanos * 3 / 4);
      long length;
      if (!timeoutsMs.isEmpty() && random.chance(0.5)) {
        length = (long) (random.pick(timeoutsMs) * ms * (0.5 + 2.5 * random.nextDouble()));
      } else {
        length = random.nextLong(10 * ms, 800 * ms);
      }
      actions.add(new Pause(at, node, Math.min(at + Math.max(1, length), windowNanos - 1)));
    }
    return actions;
  }

  /**
   * Draws whole-metadata outages and windows of lost responses (etcd unavailable, and etcd electing
   * a leader), one after the other within {@code [0, windowNanos)}, never overlapping: 1–3 windows,
   * each an outage of {@code outageMinMs}–{@code outageMaxMs} or (½) a lost-response window of
   * 0.5–5 s.
   */
  public static List<FaultAction> swarmMetadata(RandomSource random, long outageMinMs, long outageMaxMs, long windowNanos) {
    List<FaultAction> actions = new ArrayList<>();
    long ms = Simulator.MS;
    int windows = 1 + random.nextInt(3);
    long at = random.nextLong(0, windowNanos / 3);
    for (int i = 0; i < windows && at < windowNanos - 1; i++) {
      boolean outage = random.chance(0.5);
      long length = outage ? random.nextLong(outageMinMs * ms, outageMaxMs * ms + 1) : random.nextLong(500 * ms, 5_000 * ms);
      long end = Math.min(at + length, windowNanos - 1);
      actions.add(outage ? new MetadataOutage(at, true) : new MetadataLostResponses(at, true));
      actions.add(outage ? new MetadataOutage(end, false) : new MetadataLostResponses(end, false));
      at = end + random.nextLong(1, 5_000 * ms);
    }
    return actions;
  }

  /** This plan plus {@code more} actions. */
  public FaultPlan with(List<FaultAction> more) {
    List<FaultAction> all = new ArrayList<>(actions);
    all.addAll(more);
    return new FaultPlan(all);
  }

  /** One line per action, for failure reports. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    for (FaultAction a : actions) {
      sb.append(String.format(Locale.ROOT, "  t=%.3fs %s%n", a.atNanos() / 1e9, a));
    }
    return sb.toString();
  }
}
