package io.s2j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromiseTest {
  /** An executor the test thread is always "on" (or not, to check the owner invariant). */
  static final class TestScheduler implements Scheduler {
    boolean inside = true;

    @Override
    public void execute(Runnable task) {
      task.run();
    }

    @Override
    public Cancellable schedule(long delayNanos, Runnable task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean inExecutor() {
      return inside;
    }
  }

  private final TestScheduler owner = new TestScheduler();

  @Test
  void completesOnceAndRunsCallbacksInRegistrationOrder() {
    Promise<String> p = Promise.create(owner);
    List<String> log = new ArrayList<>();
    p.onComplete((v, f) -> log.add("a:" + v));
    p.onComplete((v, f) -> log.add("b:" + v));
    p.onComplete((v, f) -> log.add("c:" + v));
    assertTrue(p.complete("x"));
    assertFalse(p.complete("y"));
    assertFalse(p.fail(new RuntimeException()));
    p.onComplete((v, f) -> log.add("late:" + v));
    assertEquals(List.of("a:x", "b:x", "c:x", "late:x"), log);
    assertEquals("x", p.value());
  }

  @Test
  void mapAndFlatMapPassFailuresAndThrownExceptionsThrough() {
    RuntimeException boom = new RuntimeException("boom");
    Promise<Integer> source = Promise.create(owner);
    Promise<Integer> mapped = source.map(v -> v + 1);
    Promise<Integer> thrown = source.map(v -> {
      throw boom;
    });
    Promise<Integer> chained = source.flatMap(v -> Promise.completed(owner, v * 10));
    source.complete(4);
    assertEquals(5, mapped.value());
    assertSame(boom, thrown.failure());
    assertEquals(40, chained.value());

    Promise<Integer> failed = Promise.failed(owner, boom);
    assertSame(boom, failed.map(v -> v + 1).failure());
    assertSame(boom, failed.flatMap(v -> Promise.completed(owner, v)).failure());
    assertEquals("recovered", failed.handle((v, f) -> f == boom ? "recovered" : "no").value());
  }

  @Test
  void allKeepsOrderAndFailsOnFirstFailure() {
    Promise<Integer> a = Promise.create(owner);
    Promise<Integer> b = Promise.create(owner);
    Promise<List<Integer>> all = Promise.all(owner, List.of(a, b));
    b.complete(2);
    assertFalse(all.isDone());
    a.complete(1);
    assertEquals(List.of(1, 2), all.value());

    Promise<Integer> c = Promise.create(owner);
    Promise<List<Integer>> failing = Promise.all(owner, List.of(c, Promise.failed(owner, new IllegalStateException("x"))));
    assertTrue(failing.failure() instanceof IllegalStateException);
    assertEquals(List.of(), Promise.all(owner, List.<Promise<Integer>>of()).value());
  }

  @Test
  void touchingAPromiseOffItsExecutorIsABug() {
    Promise<String> p = Promise.create(owner);
    owner.inside = false;
    assertThrows(Invariants.InvariantViolation.class, () -> p.complete("x"));
    assertThrows(Invariants.InvariantViolation.class, () -> p.onComplete((v, f) -> {}));
    assertThrows(Invariants.InvariantViolation.class, () -> Promise.create(owner).value());
  }

  @Test
  void ioFailuresSayWhetherTheyMayHaveHappened() {
    assertTrue(IoFailure.timeout("t").indefinite());
    assertFalse(IoFailure.definite(IoFailure.Kind.THROTTLED, "t").indefinite());
    assertThrows(Invariants.InvariantViolation.class, () -> IoFailure.definite(IoFailure.Kind.TIMEOUT, "t"));
    assertThrows(Invariants.InvariantViolation.class, () -> IoFailure.indefinite(IoFailure.Kind.THROTTLED, "t"));
  }
}
