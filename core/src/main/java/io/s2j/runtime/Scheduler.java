package io.s2j.runtime;

/**
 * The single-threaded executor of one component instance, with timers.
 *
 * <p>Contract: tasks run one at a time, never concurrently with each other, and all state of the
 * owning component is touched only from them. Tasks given to {@link #execute} run in submission
 * order. A timer runs no earlier than {@code delayNanos} after it was scheduled (measured on this
 * node's {@link Clock#nowNanos()}); timers due at the same instant run in scheduling order. When the
 * owning process crashes (simulation) or shuts down, pending tasks and timers are dropped without
 * running.
 */
public interface Scheduler {
  /** Runs {@code task} on this executor after everything already queued. */
  void execute(Runnable task);

  /** Runs {@code task} on this executor once {@code delayNanos} (≥ 0) have passed. */
  Cancellable schedule(long delayNanos, Runnable task);

  /** True when the caller is running on this executor; used by invariants on owned state. */
  boolean inExecutor();
}
