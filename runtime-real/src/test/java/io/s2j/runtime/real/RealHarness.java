package io.s2j.runtime.real;

import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.contract.SeamHarness;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The contract suites' view of a {@link RealRuntime}: real threads, so {@link #await} blocks the
 * test thread on a latch while the node's event loop does the work.
 */
public final class RealHarness implements SeamHarness {
  private static final long AWAIT_MILLIS = 60_000;
  private static final long POLL_MILLIS = 50;

  private final RealRuntime runtime;

  /** A harness over a new runtime whose nodes share {@code objectStore} (closed with the harness). */
  public RealHarness(SharedObjectStore objectStore) {
    this.runtime = new RealRuntime(objectStore);
  }

  /** A harness over {@code runtime} (closed with the harness). */
  public RealHarness(RealRuntime runtime) {
    this.runtime = runtime;
  }

  public RealRuntime runtime() {
    return runtime;
  }

  @Override
  public Env env(String name) {
    return runtime.env(NodeId.of(name));
  }

  @Override
  public <T> T await(Env env, Function<Env, Promise<T>> op) {
    CountDownLatch latch = new CountDownLatch(1);
    Object[] value = new Object[1];
    Throwable[] failure = new Throwable[1];
    env.scheduler().execute(() -> {
      Promise<T> promise;
      try {
        promise = op.apply(env);
      } catch (Throwable t) {
        failure[0] = t;
        latch.countDown();
        return;
      }
      promise.onComplete((v, f) -> {
        value[0] = v;
        failure[0] = f;
        latch.countDown();
      });
    });
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MILLIS);
    try {
      while (!latch.await(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
        // A task that threw (an assertion in a timer, say) would otherwise just look like a hang.
        if (runtime.firstTaskFailure().isPresent()) {
          throw new AssertionError("a task threw on a node", runtime.firstTaskFailure().get());
        }
        if (System.nanoTime() - deadline > 0) {
          throw new AssertionError("no result within " + AWAIT_MILLIS + " ms");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting", e);
    }
    // The latch orders these reads after the writes on the event loop.
    if (failure[0] != null) {
      if (failure[0] instanceof RuntimeException re) {
        throw re;
      }
      if (failure[0] instanceof Error err) {
        throw err;
      }
      throw new RuntimeException(failure[0]);
    }
    @SuppressWarnings("unchecked")
    T result = (T) value[0];
    return result;
  }

  @Override
  public void close() {
    runtime.close();
  }
}
