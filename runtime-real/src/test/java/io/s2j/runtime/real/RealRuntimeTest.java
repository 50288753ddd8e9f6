package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The runtime's wiring: one executor thread per node, seeded randomness, and shutdown. */
class RealRuntimeTest {
  @Test
  void eachNodeHasItsOwnExecutorAndTheSameEnvOnEveryCall() {
    try (RealHarness h = new RealHarness(new InMemoryObjectStore())) {
      Env a = h.env("a");
      Env b = h.env("b");
      assertSame(a, h.env("a"));
      assertFalse(a.scheduler().inExecutor(), "the test thread is no node's executor");
      String threadA = h.await(a, e -> Promise.completed(e.scheduler(), Thread.currentThread().getName()));
      String threadB = h.await(b, e -> Promise.completed(e.scheduler(), Thread.currentThread().getName()));
      assertNotEquals(threadA, threadB);
      boolean bOnA = h.await(a, e -> Promise.completed(e.scheduler(), b.scheduler().inExecutor()));
      assertFalse(bOnA, "a node's thread is not another node's executor");
    }
  }

  @Test
  void nodeRandomnessIsForkedFromTheRootSeed() {
    try (RealRuntime r1 = new RealRuntime(new InMemoryObjectStore(), 42);
        RealRuntime r2 = new RealRuntime(new InMemoryObjectStore(), 42)) {
      long a1 = r1.env(NodeId.of("a")).random().nextLong();
      long a2 = r2.env(NodeId.of("a")).random().nextLong();
      long b1 = r1.env(NodeId.of("b")).random().nextLong();
      assertEquals(a1, a2, "same seed and node, same draws");
      assertNotEquals(a1, b1, "nodes draw independently");
      assertEquals(42, r1.rootSeed());
    }
  }

  @Test
  void aTaskThatThrowsFailsTheAwaitInsteadOfHanging() {
    try (RealHarness h = new RealHarness(new InMemoryObjectStore())) {
      Env env = h.env("a");
      AssertionError e = assertThrows(AssertionError.class, () -> h.await(env, x -> {
        x.scheduler().execute(() -> {
          throw new IllegalStateException("boom");
        });
        return x.promise();
      }));
      assertEquals("boom", e.getCause().getMessage());
    }
  }

  @Test
  void shutdownDropsQueuedTasksAndTimers() throws Exception {
    RealRuntime runtime = new RealRuntime(new InMemoryObjectStore(), 1);
    Env env = runtime.env(NodeId.of("a"));
    EventLoopScheduler scheduler = (EventLoopScheduler) env.scheduler();
    CountDownLatch blocked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean ran = new AtomicBoolean();
    scheduler.execute(() -> {
      blocked.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(blocked.await(10, TimeUnit.SECONDS));
    scheduler.execute(() -> ran.set(true));
    Cancellable timer = scheduler.schedule(1_000_000L, () -> ran.set(true));
    scheduler.shutdown();
    release.countDown();
    runtime.close();
    assertFalse(ran.get(), "a task queued before shutdown ran after it");
    scheduler.execute(() -> ran.set(true));
    assertFalse(scheduler.schedule(0, () -> ran.set(true)).cancel(), "nothing to prevent after shutdown");
    assertFalse(ran.get());
    timer.cancel();
    assertThrows(IllegalStateException.class, () -> runtime.env(NodeId.of("b")));
  }
}
