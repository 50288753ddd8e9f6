package io.s2j.runtime.sim;

import com.dynatrace.hash4j.hashing.HashStream64;
import com.dynatrace.hash4j.hashing.Hashing;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.RandomSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.BooleanSupplier;

/**
 * The discrete-event core of the simulator: one thread, virtual time, one queue of events.
 *
 * <p>Events run in (time, sequence) order, where the sequence number is the order in which they
 * were scheduled, so a run is a pure function of the seed. Every event that runs is folded into a
 * trace hash (xxh3 over time, owner and kind, plus whatever details the seams add with {@link
 * #traceMix}); two runs of one seed must end with the same hash, which is how determinism is
 * checked rather than assumed. An exception escaping an event is a bug: the run stops and {@link
 * #failure()} holds it.
 */
public final class Simulator {
  /** Nanoseconds of virtual time per millisecond. */
  public static final long MS = 1_000_000L;

  /** Nanoseconds of virtual time per second. */
  public static final long SECOND = 1_000_000_000L;

  private static final int RECENT_EVENTS_MAX = 64;

  private final RandomSource root;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private final HashStream64 trace = Hashing.xxh3_64().hashStream();
  private final List<SimProcess> processes = new ArrayList<>();
  private final ArrayDeque<String> recentEvents = new ArrayDeque<>();
  private long nowNanos;
  private long nextSeq;
  private long eventsRun;
  private SimProcess.Incarnation current;
  private Throwable failure;
  private boolean keepRecentEvents;

  public Simulator(long seed) {
    this.root = RandomSource.seeded(seed);
  }

  /** The run's root random source; subsystems fork their own from it. */
  public RandomSource random() {
    return root;
  }

  public long nowNanos() {
    return nowNanos;
  }

  public long eventsRun() {
    return eventsRun;
  }

  /** The trace hash of everything that has run so far. */
  public long traceHash() {
    return trace.getAsLong();
  }

  /** Folds a detail of the current event (a message hash, an outcome) into the trace. */
  public void traceMix(long detail) {
    trace.putLong(detail);
  }

  /** Keeps the labels of the last events, printed when a seed fails (costs an allocation per event). */
  public void keepRecentEvents(boolean keep) {
    keepRecentEvents = keep;
  }

  public List<String> recentEvents() {
    return List.copyOf(recentEvents);
  }

  /** The first bug (exception escaping an event) of this run, or null. */
  public Throwable failure() {
    return failure;
  }

  /** Records a failure found by a check outside any event; the run stops. */
  public void fail(Throwable t) {
    if (failure == null) {
      failure = t;
    }
  }

  /** The incarnation whose event is running, or null for simulator-level events. */
  SimProcess.Incarnation current() {
    return current;
  }

  /** The incarnation whose event is running, or null (for scenarios: who just started a component). */
  public SimProcess.Incarnation running() {
    return current;
  }

  SimProcess register(SimProcess p) {
    processes.add(p);
    return p;
  }

  public List<SimProcess> processes() {
    return List.copyOf(processes);
  }

  /**
   * Schedules {@code action} at virtual time {@code atNanos} (not before now). With an {@code
   * owner}, the event runs as that incarnation and is dropped if it has crashed meanwhile.
   */
  Event schedule(long atNanos, SimProcess.Incarnation owner, int kind, Runnable action) {
    Invariants.check(atNanos >= nowNanos, "event scheduled in the past: %d < %d", atNanos, nowNanos);
    Event e = new Event(atNanos, nextSeq++, owner, kind, action);
    queue.add(e);
    return e;
  }

  /** Schedules a simulator-level event (faults, store internals) after {@code delayNanos}. */
  public void after(long delayNanos, Runnable action) {
    schedule(nowNanos + delayNanos, null, EventKind.CONTROL, action);
  }

  /**
   * Runs one event. Returns false when there is nothing left to run or the run has failed.
   */
  public boolean step() {
    if (failure != null) {
      return false;
    }
    Event e = queue.poll();
    if (e == null) {
      return false;
    }
    if (e.cancelled || (e.owner != null && !e.owner.alive())) {
      e.started = true;
      return true;
    }
    if (e.owner != null && e.owner.paused()) {
      // A stopped process runs nothing: the event waits (still cancellable) until it resumes.
      e.owner.park(e);
      return true;
    }
    e.started = true;
    nowNanos = e.atNanos;
    eventsRun++;
    trace.putLong(e.atNanos).putInt(e.owner == null ? -1 : e.owner.process().index()).putInt(e.kind);
    if (keepRecentEvents) {
      if (recentEvents.size() == RECENT_EVENTS_MAX) {
        recentEvents.removeFirst();
      }
      recentEvents.addLast(
          String.format(java.util.Locale.ROOT, "t=%.6fs %s %s", nowNanos / 1e9,
              e.owner == null ? "sim" : e.owner.toString(), EventKind.name(e.kind)));
    }
    SimProcess.Incarnation previous = current;
    current = e.owner;
    try {
      e.action.run();
    } catch (RuntimeException | Error t) {
      failure = t;
    } finally {
      current = previous;
    }
    return true;
  }

  /** Runs events until {@code done} holds, time passes {@code deadlineNanos}, or the queue empties. */
  public boolean runUntil(BooleanSupplier done, long deadlineNanos) {
    while (!done.getAsBoolean()) {
      Event next = queue.peek();
      if (next == null || next.atNanos > deadlineNanos || failure != null) {
        return done.getAsBoolean();
      }
      step();
    }
    return true;
  }

  /** Runs every event up to and including virtual time {@code untilNanos}; time then stands there. */
  public void runFor(long durationNanos) {
    long until = nowNanos + durationNanos;
    while (failure == null) {
      Event next = queue.peek();
      if (next == null || next.atNanos > until) {
        break;
      }
      step();
    }
    if (failure == null) {
      nowNanos = Math.max(nowNanos, until);
    }
  }

  /**
   * Puts the events a paused incarnation could not run back on the queue, due now, in the order
   * they were due (a resumed process works through its backlog late, in order).
   */
  void unpark(List<Event> parked) {
    for (Event e : parked) {
      e.atNanos = nowNanos;
      e.seq = nextSeq++;
      queue.add(e);
    }
  }

  /** Runs {@code action} now, as incarnation {@code as} (for drivers and tests outside events). */
  public void runAs(SimProcess.Incarnation as, Runnable action) {
    SimProcess.Incarnation previous = current;
    current = as;
    try {
      action.run();
    } finally {
      current = previous;
    }
  }

  /** One scheduled action. */
  static final class Event implements Comparable<Event> {
    long atNanos;
    long seq;
    final SimProcess.Incarnation owner;
    final int kind;
    final Runnable action;
    boolean cancelled;
    boolean started;

    Event(long atNanos, long seq, SimProcess.Incarnation owner, int kind, Runnable action) {
      this.atNanos = atNanos;
      this.seq = seq;
      this.owner = owner;
      this.kind = kind;
      this.action = action;
    }

    @Override
    public int compareTo(Event o) {
      int c = Long.compare(atNanos, o.atNanos);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}
