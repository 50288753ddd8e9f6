package io.s2j.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Done;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@link io.s2j.runtime.Scheduler} and {@link io.s2j.runtime.Clock} contract. */
public abstract class SchedulerContract {
  protected abstract SeamHarness newHarness() throws Exception;

  private SeamHarness harness;
  private Env env;

  @BeforeEach
  public void setUp() throws Exception {
    harness = newHarness();
    env = harness.env("sched");
  }

  @AfterEach
  public void tearDown() throws Exception {
    harness.close();
  }

  @Test
  public void tasksRunInOrderOnTheExecutorAndTimersNoEarlierThanTheirDelay() {
    List<String> order = harness.await(env, e -> {
      Promise<List<String>> done = e.promise();
      List<String> log = new ArrayList<>();
      long start = e.clock().nowNanos();
      e.scheduler().schedule(30_000_000L, () -> {
        assertTrue(e.scheduler().inExecutor());
        assertTrue(e.clock().nowNanos() - start >= 30_000_000L, "timer ran early");
        log.add("t30");
        done.complete(log);
      });
      e.scheduler().schedule(10_000_000L, () -> log.add("t10"));
      e.scheduler().execute(() -> log.add("x1"));
      e.scheduler().execute(() -> log.add("x2"));
      return done;
    });
    assertEquals(List.of("x1", "x2", "t10", "t30"), order);
  }

  @Test
  public void cancelledTimersDoNotRun() {
    List<String> order = harness.await(env, e -> {
      Promise<List<String>> done = e.promise();
      List<String> log = new ArrayList<>();
      Cancellable c = e.scheduler().schedule(5_000_000L, () -> log.add("cancelled"));
      assertTrue(c.cancel());
      assertFalse(c.cancel());
      e.scheduler().schedule(20_000_000L, () -> {
        log.add("kept");
        done.complete(log);
      });
      return done;
    });
    assertEquals(List.of("kept"), order);
  }

  @Test
  public void clockIsMonotonicAcrossTimers() {
    harness.await(env, e -> {
      Promise<Done> done = e.promise();
      long[] last = {e.clock().nowNanos()};
      int[] left = {20};
      Runnable[] tick = new Runnable[1];
      tick[0] = () -> {
        long now = e.clock().nowNanos();
        assertTrue(now >= last[0]);
        last[0] = now;
        if (--left[0] == 0) {
          done.complete(Done.DONE);
        } else {
          e.scheduler().schedule(1_000_000L, tick[0]);
        }
      };
      e.scheduler().execute(tick[0]);
      return done;
    });
  }
}
