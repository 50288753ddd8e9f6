package io.s2j.runtime.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcMethod;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simulator's faults do what the fault catalogue says. */
class SimFaultsTest {
  private static final RpcMethod<Int64Value, Int64Value> ECHO = RpcMethod.of("test.Echo", Int64Value.parser(), Int64Value.parser());
  private static final ObjectKey KEY = ObjectKey.of("k");

  private static FaultProfile only(double throttle, double serverError, double lostResponse, double lostRequest, double slow) {
    return new FaultProfile(0, 0, throttle, serverError, lostResponse, lostRequest, slow, 0, 0, 0, false, false, false, false);
  }

  private static IoFailure failureOf(SimHarness h, Env env, java.util.function.Function<Env, Promise<?>> op) {
    return assertThrows(IoFailure.class, () -> h.await(env, e -> op.apply(e)));
  }

  @Test
  void throttledWritesAreDefiniteAndNotApplied() {
    SimHarness h = new SimHarness(1, only(1, 0, 0, 0, 0));
    Env env = h.env("a");
    IoFailure f = failureOf(h, env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.NONE));
    assertEquals(IoFailure.Kind.THROTTLED, f.kind());
    assertFalse(f.indefinite());
    h.world.simulator().runFor(60 * Simulator.SECOND);
    assertNull(h.world.bucket().peek(KEY));
  }

  @Test
  void lostResponsesAreIndefiniteButApplied() {
    SimHarness h = new SimHarness(1, only(0, 0, 1, 0, 0));
    Env env = h.env("a");
    IoFailure f = failureOf(h, env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.NONE));
    assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
    assertTrue(f.indefinite());
    assertEquals(ByteString.copyFromUtf8("x"), h.world.bucket().peek(KEY));
  }

  @Test
  void lostRequestsAreIndefiniteAndNeverApplied() {
    SimHarness h = new SimHarness(1, only(0, 0, 0, 1, 0));
    Env env = h.env("a");
    IoFailure f = failureOf(h, env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.NONE));
    assertTrue(f.indefinite());
    h.world.simulator().runFor(60 * Simulator.SECOND);
    assertNull(h.world.bucket().peek(KEY));
  }

  @Test
  void slowWritesCanApplyAfterTheCallerTimedOut() {
    SimHarness h = new SimHarness(1, only(0, 0, 0, 0, 1));
    h.world.bucket().setLatency(LatencyModel.S3_STANDARD);
    h.world.bucket().setRequestTimeoutNanos(50 * Simulator.MS);
    Env env = h.env("a");
    IoFailure f = failureOf(h, env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.NONE));
    assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
    assertNull(h.world.bucket().peek(KEY), "this seed's write had not applied when the caller gave up");
    h.world.simulator().runFor(60 * Simulator.SECOND);
    assertNotNull(h.world.bucket().peek(KEY), "the write applied later");
  }

  @Test
  void serverErrorsOfWritesAreIndefiniteAndSometimesApplied() {
    int applied = 0;
    for (long seed = 1; seed <= 40; seed++) {
      SimHarness h = new SimHarness(seed, only(0, 1, 0, 0, 0));
      Env env = h.env("a");
      IoFailure f = failureOf(h, env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.NONE));
      assertEquals(IoFailure.Kind.SERVER_ERROR, f.kind());
      assertTrue(f.indefinite());
      if (h.world.bucket().peek(KEY) != null) {
        applied++;
      }
    }
    assertTrue(applied > 0 && applied < 40, "applied " + applied + " of 40");
  }

  @Test
  void metadataLostResponsesCommitButTimeOut() {
    SimHarness h = new SimHarness(1, new FaultProfile(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, false, false, false, false));
    Env env = h.env("a");
    ByteString k = ByteString.copyFromUtf8("k");
    IoFailure f = failureOf(h, env, e -> e.metadataStore().commit(Txn.builder().put(k, k).build()));
    assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
    assertTrue(h.world.metadata().peek(k).isPresent());
  }

  @Test
  void metadataOutageIsDefinite() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    h.world.metadata().setUnavailable(true);
    Env env = h.env("a");
    ByteString k = ByteString.copyFromUtf8("k");
    IoFailure f = failureOf(h, env, e -> e.metadataStore().commit(Txn.builder().put(k, k).build()));
    assertEquals(IoFailure.Kind.UNAVAILABLE, f.kind());
    assertFalse(f.indefinite());
    assertTrue(h.world.metadata().peek(k).isEmpty());
  }

  @Test
  void aCrashDropsTimersAndResponsesAndRestartBootsAfresh() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    List<String> log = new ArrayList<>();
    SimProcess p = h.world.addProcess("p", env -> {
      log.add("boot " + env.clock().nowNanos());
      env.scheduler().schedule(Simulator.SECOND, () -> log.add("timer"));
    });
    p.start();
    h.world.simulator().runFor(Simulator.SECOND / 2);
    p.crash();
    h.world.simulator().runFor(2 * Simulator.SECOND);
    assertEquals(1, log.size(), log.toString());
    p.start();
    h.world.simulator().runFor(2 * Simulator.SECOND);
    assertEquals(List.of("boot 0", "boot 2500000000", "timer"), log);
    assertEquals(2, p.generation());
  }

  @Test
  void aRequestToACrashedServerIsUnavailableAndACrashedCallerGetsNoResponse() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    int[] handled = {0};
    SimProcess server = h.world.addProcess("server", env -> env.network().serve(ECHO, (caller, req) -> {
      handled[0]++;
      Promise<Int64Value> p = env.promise();
      env.scheduler().schedule(Simulator.SECOND, () -> p.complete(req));
      return p;
    }));
    server.start();
    Env client = h.env("client");
    h.world.simulator().runFor(Simulator.MS);

    server.crash();
    IoFailure down = failureOf(h, client, e -> e.network().call(NodeId.of("server"), ECHO, Int64Value.of(1), Simulator.SECOND));
    assertEquals(IoFailure.Kind.UNAVAILABLE, down.kind());
    assertFalse(down.indefinite());

    server.start();
    h.world.simulator().runFor(Simulator.MS);
    SimProcess callerProcess = h.world.process("client");
    boolean[] answered = {false};
    h.world.simulator().runAs(callerProcess.incarnation(), () ->
        client.network().call(NodeId.of("server"), ECHO, Int64Value.of(2), 10 * Simulator.SECOND)
            .onComplete((v, f) -> answered[0] = true));
    h.world.simulator().runFor(Simulator.MS * 100);
    callerProcess.crash();
    h.world.simulator().runFor(20 * Simulator.SECOND);
    assertEquals(1, handled[0], "the request reached the server");
    assertFalse(answered[0], "no response or timeout reaches a crashed incarnation");
  }

  @Test
  void oneWayPartitionLetsRequestsThroughButLosesResponses() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    int[] handled = {0};
    SimProcess server = h.world.addProcess("server", env -> env.network().serve(ECHO, (caller, req) -> {
      handled[0]++;
      return Promise.completed(env.scheduler(), req);
    }));
    server.start();
    Env client = h.env("client");
    h.world.network().block(server, h.world.process("client"));
    IoFailure f = failureOf(h, client, e -> e.network().call(NodeId.of("server"), ECHO, Int64Value.of(1), Simulator.SECOND));
    assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
    assertEquals(1, handled[0]);
    h.world.network().healAll();
    assertEquals(7, h.await(client, e -> e.network().call(NodeId.of("server"), ECHO, Int64Value.of(7), Simulator.SECOND)).getValue());
  }

  @Test
  void messagesOnOneLinkArriveInOrder() {
    SimHarness h = new SimHarness(3, FaultProfile.NONE);
    h.world.network().setLatency(new LatencyModel(1, 1.5, 0.2, 100, 1_000_000));
    List<Long> arrivals = new ArrayList<>();
    SimProcess server = h.world.addProcess("server", env -> env.network().serve(ECHO, (caller, req) -> {
      arrivals.add(req.getValue());
      return Promise.completed(env.scheduler(), req);
    }));
    server.start();
    Env client = h.env("client");
    h.await(client, e -> {
      List<Promise<Int64Value>> calls = new ArrayList<>();
      for (long i = 0; i < 200; i++) {
        calls.add(e.network().call(NodeId.of("server"), ECHO, Int64Value.of(i), 10 * Simulator.SECOND));
      }
      return Promise.all(e.scheduler(), calls);
    });
    for (int i = 0; i < arrivals.size(); i++) {
      assertEquals(i, arrivals.get(i));
    }
  }

  @Test
  void clockSkewShiftsTheWallClockOnly() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    Env a = h.env("a");
    Env b = h.env("b");
    h.world.process("b").setWallSkewMillis(-1500);
    assertEquals(1500, a.clock().wallMillis() - b.clock().wallMillis());
    assertEquals(a.clock().nowNanos(), b.clock().nowNanos());
  }

  @Test
  void storeOutageFailsEveryRequestDefinitely() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    h.world.bucket().setOutage(true);
    Env env = h.env("a");
    IoFailure f = failureOf(h, env, e -> e.objectStore().get(KEY));
    assertEquals(IoFailure.Kind.UNAVAILABLE, f.kind());
    h.world.bucket().setOutage(false);
    assertInstanceOf(GetResult.NotFound.class, h.await(env, e -> e.objectStore().get(KEY)));
    assertInstanceOf(PutResult.Written.class, h.await(env, e -> e.objectStore().put(KEY, ByteString.EMPTY, PutCondition.IF_ABSENT)));
  }

  @Test
  void aPausedProcessRunsNothingUntilResumedThenRunsItsBacklogLateInOrder() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    List<String> log = new ArrayList<>();
    SimProcess server = h.world.addProcess("server", env -> {
      env.network().serve(ECHO, (caller, req) -> {
        log.add("handled " + req.getValue() + " at " + env.clock().nowNanos() / Simulator.MS);
        return Promise.completed(env.scheduler(), req);
      });
      env.scheduler().schedule(Simulator.SECOND, () -> log.add("timer 1s at " + env.clock().nowNanos() / Simulator.MS));
      env.scheduler().schedule(2 * Simulator.SECOND, () -> log.add("timer 2s at " + env.clock().nowNanos() / Simulator.MS));
    });
    server.start();
    Env client = h.env("client");
    h.world.simulator().runFor(Simulator.MS);
    new FaultPlan(List.of(new FaultPlan.Pause(0, "server", 5 * Simulator.SECOND))).schedule(h.world);
    h.world.simulator().runFor(Simulator.MS);
    assertTrue(server.paused());
    assertTrue(server.up(), "a paused process is not down");

    // Its peers see a timeout (not UNAVAILABLE: it is up, just not answering).
    IoFailure f = failureOf(h, client, e -> e.network().call(NodeId.of("server"), ECHO, Int64Value.of(1), Simulator.SECOND));
    assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
    h.world.simulator().runFor(2 * Simulator.SECOND);
    assertTrue(log.isEmpty(), "nothing ran while paused: " + log);

    // On resume (5 s after the pause began at 1 ms) the timers and the delivery run, late, in the order they came due.
    h.world.simulator().runFor(3 * Simulator.SECOND);
    assertFalse(server.paused());
    assertEquals(List.of("handled 1 at 5001", "timer 1s at 5001", "timer 2s at 5001"), log);
    assertEquals(1, server.pauses());
    assertEquals(1, server.generation(), "the same incarnation carries on");
    assertEquals(7, h.await(client, e -> e.network().call(NodeId.of("server"), ECHO, Int64Value.of(7), Simulator.SECOND)).getValue());
  }

  @Test
  void aPausedProcessKeepsItsSeamCompletionsAndTimeoutsForLaterAndACancelledTimerStaysCancelled() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    Env a = h.env("a");
    SimProcess p = h.world.process("a");
    List<String> log = new ArrayList<>();
    ByteString k = ByteString.copyFromUtf8("k");
    h.world.simulator().runAs(p.incarnation(), () -> {
      a.metadataStore().commit(Txn.builder().put(k, k).build()).onComplete((r, x) -> log.add("commit " + (x == null)));
      var timer = a.scheduler().schedule(Simulator.SECOND, () -> log.add("cancelled timer ran"));
      a.scheduler().schedule(500 * Simulator.MS, () -> log.add("cancel " + timer.cancel()));
    });
    p.pause();
    h.world.simulator().runFor(3 * Simulator.SECOND);
    assertTrue(log.isEmpty(), log.toString());
    assertTrue(h.world.metadata().peek(k).isPresent(), "the store applied the request of a stopped process");
    p.resume();
    h.world.simulator().runFor(Simulator.SECOND);
    assertEquals(List.of("commit true", "cancel true"), log);
  }

  @Test
  void killingAPausedProcessDropsItsBacklog() {
    SimHarness h = new SimHarness(1, FaultProfile.NONE);
    List<String> log = new ArrayList<>();
    SimProcess p = h.world.addProcess("p", env -> env.scheduler().schedule(Simulator.SECOND, () -> log.add("timer")));
    p.start();
    h.world.simulator().runFor(Simulator.MS);
    new FaultPlan(List.of(new FaultPlan.Pause(0, "p", 3 * Simulator.SECOND),
        new FaultPlan.Crash(2 * Simulator.SECOND, "p"), new FaultPlan.Restart(2 * Simulator.SECOND + 1, "p"))).schedule(h.world);
    h.world.simulator().runFor(2500 * Simulator.MS);
    assertFalse(p.paused(), "the next incarnation is not paused");
    assertTrue(log.isEmpty(), log.toString());
    h.world.simulator().runFor(2 * Simulator.SECOND);
    assertEquals(List.of("timer"), log, "only the new incarnation's timer ran, at its own time");
  }

  @Test
  void aMetadataLostResponseWindowTimesEveryRequestOutAndAppliesSome() {
    int applied = 0;
    for (long seed = 1; seed <= 40; seed++) {
      SimHarness h = new SimHarness(seed, FaultProfile.NONE);
      h.world.metadata().setLosingResponses(true);
      Env env = h.env("a");
      ByteString k = ByteString.copyFromUtf8("k");
      IoFailure f = failureOf(h, env, e -> e.metadataStore().commit(Txn.builder().put(k, k).build()));
      assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
      assertTrue(f.indefinite());
      h.world.simulator().runFor(Simulator.SECOND);
      if (h.world.metadata().peek(k).isPresent()) {
        applied++;
      }
      h.world.metadata().setLosingResponses(false);
      assertTrue(h.await(env, e -> e.metadataStore().get(k)).isPresent() == h.world.metadata().peek(k).isPresent());
    }
    assertTrue(applied > 0 && applied < 40, "applied " + applied + " of 40");
  }

  @Test
  void swarmedPausesAndMetadataWindowsEndInsideTheWindow() {
    long window = 30 * Simulator.SECOND;
    for (long seed = 1; seed <= 50; seed++) {
      io.s2j.runtime.RandomSource r = io.s2j.runtime.RandomSource.seeded(seed);
      List<FaultPlan.FaultAction> pauses = FaultPlan.swarmPauses(r, List.of("a", "b"), List.of(2_000L, 6_000L), 5, window);
      assertEquals(5, pauses.size());
      for (FaultPlan.FaultAction a : pauses) {
        FaultPlan.Pause p = (FaultPlan.Pause) a;
        assertTrue(p.atNanos() >= 0 && p.resumeAtNanos() < window && p.resumeAtNanos() >= p.atNanos(), p.toString());
      }
      long lastEnd = -1;
      for (FaultPlan.FaultAction a : FaultPlan.swarmMetadata(r, 2_000, 12_000, window)) {
        assertTrue(a.atNanos() < window && a.atNanos() > lastEnd || a.atNanos() >= lastEnd, a.toString());
        lastEnd = a.atNanos();
      }
    }
  }
}
