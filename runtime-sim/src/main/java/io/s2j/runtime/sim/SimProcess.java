package io.s2j.runtime.sim;

import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Clock;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Scheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A simulated process: a node that runs one component instance and can crash and restart.
 *
 * <p>Each start creates a new {@link Incarnation} with its own executor, clock view and seam views.
 * A crash kills the incarnation: its queued tasks, timers and pending responses are dropped, and
 * its memory is gone because the next start boots a fresh component from {@code boot}. Work it
 * already handed to the seams (an object-store write on the wire) still happens, as it would.
 */
public final class SimProcess {
  private final SimWorld world;
  private final NodeId id;
  private final int index;
  private final Consumer<Env> boot;
  private Incarnation incarnation;
  private int generation;
  private long wallSkewMillis;
  private int pauses;

  SimProcess(SimWorld world, NodeId id, int index, Consumer<Env> boot) {
    this.world = world;
    this.id = id;
    this.index = index;
    this.boot = boot;
  }

  public NodeId id() {
    return id;
  }

  public int index() {
    return index;
  }

  public boolean up() {
    return incarnation != null;
  }

  /** How many times this process has been started. */
  public int generation() {
    return generation;
  }

  /** The running incarnation; the process must be up. */
  public Incarnation incarnation() {
    Invariants.check(incarnation != null, "process %s is down", id);
    return incarnation;
  }

  /** The running incarnation's environment; the process must be up. */
  public Env env() {
    return incarnation().env;
  }

  /** This node's wall clock offset against true virtual time, in milliseconds. */
  public long wallSkewMillis() {
    return wallSkewMillis;
  }

  /** Sets this node's clock skew; its wall clock may jump (forwards or back) as a result. */
  public void setWallSkewMillis(long skewMillis) {
    wallSkewMillis = skewMillis;
  }

  /** Starts a new incarnation; boot runs as its first event. */
  public void start() {
    Invariants.check(incarnation == null, "process %s is already up", id);
    generation++;
    Incarnation inc = new Incarnation(this, generation);
    incarnation = inc;
    inc.env = world.envFor(inc);
    world.simulator().schedule(world.simulator().nowNanos(), inc, EventKind.BOOT, () -> boot.accept(inc.env));
  }

  /** Kills the running incarnation, losing its memory and pending work (a paused one too: kill -9 of a stopped process). */
  public void crash() {
    Invariants.check(incarnation != null, "process %s is already down", id);
    incarnation.alive = false;
    incarnation.paused = false;
    incarnation.parked.clear();
    incarnation = null;
  }

  /** Whether the running incarnation is stopped ({@link #pause}). */
  public boolean paused() {
    return incarnation != null && incarnation.paused;
  }

  /**
   * Stops the running incarnation without killing it (SIGSTOP, a long GC pause, a VM stall): from
   * now on it runs nothing — its timers, task, message deliveries and seam completions wait — while
   * virtual time, and so its clock, moves on. Peers see it as slow (their calls time out), not as
   * down. Returns false if the process is down or already paused.
   */
  public boolean pause() {
    if (incarnation == null || incarnation.paused) {
      return false;
    }
    incarnation.paused = true;
    pauses++;
    return true;
  }

  /**
   * Continues a paused incarnation (SIGCONT): everything that came due while it was stopped runs
   * now, in the order it came due, with whatever the component believed when it stopped. Returns
   * false if it was not paused (or was killed meanwhile).
   */
  public boolean resume() {
    if (incarnation == null || !incarnation.paused) {
      return false;
    }
    incarnation.paused = false;
    List<Simulator.Event> backlog = new ArrayList<>(incarnation.parked);
    incarnation.parked.clear();
    world.simulator().unpark(backlog);
    return true;
  }

  /** How many times this process has been paused. */
  public int pauses() {
    return pauses;
  }

  @Override
  public String toString() {
    return id.value();
  }

  /** One life of a process, between a start and a crash. */
  public static final class Incarnation {
    private final SimProcess process;
    private final int generation;
    private boolean alive = true;
    private boolean paused;
    /** Events that came due while paused, in the order they came due. */
    private final List<Simulator.Event> parked = new ArrayList<>();
    private final SimScheduler scheduler;
    private final SimClock clock;
    private Env env;

    Incarnation(SimProcess process, int generation) {
      this.process = process;
      this.generation = generation;
      this.scheduler = new SimScheduler(this);
      this.clock = new SimClock(this);
    }

    public SimProcess process() {
      return process;
    }

    public int generation() {
      return generation;
    }

    public boolean alive() {
      return alive;
    }

    /** Whether this incarnation is stopped (its events wait). */
    public boolean paused() {
      return paused;
    }

    void park(Simulator.Event e) {
      parked.add(e);
    }

    public Scheduler scheduler() {
      return scheduler;
    }

    public Clock clock() {
      return clock;
    }

    public Env env() {
      return env;
    }

    Simulator simulator() {
      return process.world.simulator();
    }

    @Override
    public String toString() {
      return process.id + "#" + generation;
    }
  }

  /** The executor of one incarnation: events on the simulator's queue, owned by it. */
  private static final class SimScheduler implements Scheduler {
    private final Incarnation owner;

    SimScheduler(Incarnation owner) {
      this.owner = owner;
    }

    @Override
    public void execute(Runnable task) {
      Simulator sim = owner.simulator();
      sim.schedule(sim.nowNanos(), owner, EventKind.TASK, task);
    }

    @Override
    public Cancellable schedule(long delayNanos, Runnable task) {
      Invariants.check(delayNanos >= 0, "negative delay %d", delayNanos);
      Simulator sim = owner.simulator();
      Simulator.Event e = sim.schedule(sim.nowNanos() + delayNanos, owner, EventKind.TIMER, task);
      return () -> {
        if (e.started || e.cancelled) {
          return false;
        }
        e.cancelled = true;
        return true;
      };
    }

    @Override
    public boolean inExecutor() {
      return owner.simulator().current() == owner;
    }
  }

  /** Virtual time, seen through this node's skewed wall clock. */
  private static final class SimClock implements Clock {
    /** Virtual time zero is this instant of Unix time (2026-01-01T00:00:00Z), so timestamps look real. */
    private static final long EPOCH_MILLIS = 1_767_225_600_000L;

    private final Incarnation owner;

    SimClock(Incarnation owner) {
      this.owner = owner;
    }

    @Override
    public long nowNanos() {
      return owner.simulator().nowNanos();
    }

    @Override
    public long wallMillis() {
      return EPOCH_MILLIS + owner.simulator().nowNanos() / Simulator.MS + owner.process.wallSkewMillis;
    }
  }
}
