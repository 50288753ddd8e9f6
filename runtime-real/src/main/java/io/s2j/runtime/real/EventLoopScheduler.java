package io.s2j.runtime.real;

import io.netty.channel.EventLoop;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Scheduler;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A component's single-threaded {@link Scheduler} on one Netty {@link EventLoop}, so that the
 * component's tasks, timers and (later) its sockets share one thread and need no locks.
 *
 * <p>After {@link #shutdown()}, queued tasks and timers are dropped without running, as the
 * Scheduler contract asks of a process that shuts down. A task that throws is reported to {@code
 * onTaskFailure} (the loop keeps running), because a failed invariant must not vanish into a log
 * line of Netty's.
 */
public final class EventLoopScheduler implements Scheduler {
  private final EventLoop eventLoop;
  private final Consumer<Throwable> onTaskFailure;
  private volatile boolean shutdown;

  public EventLoopScheduler(EventLoop eventLoop, Consumer<Throwable> onTaskFailure) {
    this.eventLoop = Objects.requireNonNull(eventLoop, "eventLoop");
    this.onTaskFailure = Objects.requireNonNull(onTaskFailure, "onTaskFailure");
  }

  /** The loop this scheduler runs on, for Netty channels that must share its thread. */
  public EventLoop eventLoop() {
    return eventLoop;
  }

  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    if (shutdown) {
      return;
    }
    try {
      eventLoop.execute(() -> run(task));
    } catch (RejectedExecutionException e) {
      // The loop is shutting down: dropping the task is what the contract asks.
    }
  }

  @Override
  public Cancellable schedule(long delayNanos, Runnable task) {
    Objects.requireNonNull(task, "task");
    if (delayNanos < 0) {
      throw new IllegalArgumentException("negative delay: " + delayNanos);
    }
    if (shutdown) {
      return () -> false;
    }
    io.netty.util.concurrent.ScheduledFuture<?> future;
    try {
      future = eventLoop.schedule(() -> run(task), delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return () -> false;
    }
    // Netty's cancel succeeds only while the task is still waiting: exactly "prevented the run".
    return () -> future.cancel(false);
  }

  @Override
  public boolean inExecutor() {
    return eventLoop.inEventLoop();
  }

  /** Drops every task and timer not yet started; the event loop itself belongs to the caller. */
  public void shutdown() {
    shutdown = true;
  }

  public boolean isShutdown() {
    return shutdown;
  }

  private void run(Runnable task) {
    if (shutdown) {
      return;
    }
    try {
      task.run();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable t) {
      onTaskFailure.accept(t);
    }
  }
}
