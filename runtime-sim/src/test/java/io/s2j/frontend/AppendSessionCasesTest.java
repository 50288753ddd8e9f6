package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.record.AppendRecord;
import io.s2j.runtime.Promise;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Append sessions (S2-API §10.3) against the frontend and a simulated channel: acks in input order
 * with contiguous ranges, the first failure ending the session, and the channel's per-session
 * ordering of requests the network delivered out of order.
 */
class AppendSessionCasesTest {
  static final BasinName BASIN = new BasinName("test-basin-sessions");
  static final StreamName STREAM = new StreamName("s");

  private final SimCell cell = new SimCell();

  AppendSessionCasesTest() {
    cell.run(f -> f.catalog().createBasin(BASIN, BasinConfig.DEFAULT, null)).orThrow();
    cell.run(f -> f.catalog().createStream(BASIN, STREAM, StreamConfigSpec.EMPTY, null)).orThrow();
  }

  private static AppendInput input(Long match, String... bodies) {
    List<AppendRecord> records = new ArrayList<>();
    for (String b : bodies) {
      records.add(AppendRecord.of(b));
    }
    return new AppendInput(AppendBatch.validate(records).orThrow(), match, null);
  }

  private AppendSession open() {
    return cell.now(f -> f.data().openAppendSession(BASIN, STREAM));
  }

  private <T> T await(Promise<T> p) {
    Simulator sim = cell.world.simulator();
    sim.runUntil(p::isDone, sim.nowNanos() + 600 * Simulator.SECOND);
    assertTrue(p.isDone(), "completed within 10 minutes of virtual time");
    return p.value();
  }

  private List<String> bodies() {
    ReadResult r = cell.run(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(0), false, new ReadEnd(null, null, null, 0L))).orThrow();
    List<String> out = new ArrayList<>();
    assertInstanceOf(ReadResult.Batch.class, r).records().forEach(x -> out.add(x.body().toStringUtf8()));
    return out;
  }

  @Test
  void case078_aSessionSurvivesAnIdleGapLongerThanAMinute() {
    AppendSession session = open();
    AppendAck first = assertInstanceOf(AppendAck.class, await(cell.now(f -> session.submit(input(null, "a")))).orThrow());
    assertEquals(0, first.start().seqNum());
    assertEquals(1, first.end().seqNum());
    cell.world.simulator().runFor(61 * Simulator.SECOND);
    AppendAck second = assertInstanceOf(AppendAck.class, await(cell.now(f -> session.submit(input(null, "b")))).orThrow());
    assertEquals(1, second.start().seqNum());
    assertEquals(2, second.end().seqNum());
  }

  @Test
  void pipelinedInputsAreAckedInOrderWithContiguousRanges() {
    AppendSession session = open();
    List<Promise<Outcome<AppendResult>>> acks = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    cell.now(f -> {
      for (int i = 0; i < 200; i++) {
        String[] bodies = new String[1 + i % 3];
        for (int j = 0; j < bodies.length; j++) {
          bodies[j] = i + "." + j;
          expected.add(bodies[j]);
        }
        acks.add(session.submit(input(null, bodies)));
      }
      assertTrue(session.inFlightInputs() > 1, "inputs are in flight together");
      return null;
    });
    long next = 0;
    for (Promise<Outcome<AppendResult>> p : acks) {
      AppendAck a = assertInstanceOf(AppendAck.class, await(p).orThrow());
      assertEquals(next, a.start().seqNum(), "acks are contiguous and in input order");
      next = a.end().seqNum();
    }
    assertEquals(expected, bodies());
    assertEquals(0, session.inFlightInputs());
    assertEquals(0, session.inFlightBytes());
  }

  @Test
  void theFirstFailureEndsTheSessionAndNothingAfterItIsApplied() {
    AppendSession session = open();
    List<Promise<Outcome<AppendResult>>> results = new ArrayList<>();
    cell.now(f -> {
      results.add(session.submit(input(null, "a")));
      results.add(session.submit(input(99L, "b"))); // match_seq_num 99: fails
      results.add(session.submit(input(null, "c")));
      results.add(session.submit(input(null, "d")));
      return null;
    });
    assertInstanceOf(AppendAck.class, await(results.get(0)).orThrow());
    assertEquals(1, assertInstanceOf(AppendResult.SeqNumMismatch.class, await(results.get(1)).orThrow()).nextSeqNum());
    for (int i = 2; i < 4; i++) {
      Outcome.Failed<AppendResult> failed = assertInstanceOf(Outcome.Failed.class, await(results.get(i)));
      assertFalse(failed.indefinite(), "the channel refused input " + i + ", so it certainly was not applied");
    }
    Outcome.Failed<AppendResult> later = assertInstanceOf(Outcome.Failed.class, await(cell.now(f -> session.submit(input(null, "e")))));
    assertFalse(later.indefinite());
    cell.world.simulator().runFor(5 * Simulator.SECOND);
    assertEquals(List.of("a"), bodies());
  }

  @Test
  void aClosedSessionRefusesInputsAndAnEmptySessionChangesNothing() {
    AppendSession session = open();
    cell.now(f -> {
      session.close();
      return null;
    });
    assertInstanceOf(Outcome.Failed.class, await(cell.now(f -> session.submit(input(null, "x")))));
    assertEquals(0, cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow().seqNum());
  }

  private DataPlane.AppendTarget target() {
    // A plain append activates the stream; then the target is its streamlet.
    cell.run(f -> f.data().append(BASIN, STREAM, input(null, "first")));
    return cell.run(f -> f.data().appendTarget(BASIN, STREAM, null)).orThrow();
  }

  private Promise<Outcome<AppendResult>> raw(DataPlane.AppendTarget t, String session, long index, String body) {
    return cell.start(f -> f.data().appendTo(t.stream(), t.streamlet(), input(null, body), session, index));
  }

  @Test
  void theChannelHoldsARequestThatArrivesBeforeItsPredecessor() {
    DataPlane.AppendTarget t = target();
    Promise<Outcome<AppendResult>> second = raw(t, "test-session", 1, "second");
    cell.world.simulator().runFor(Simulator.SECOND);
    assertFalse(second.isDone(), "index 1 waits for index 0");
    Promise<Outcome<AppendResult>> first = raw(t, "test-session", 0, "first-of-session");
    AppendAck a0 = assertInstanceOf(AppendAck.class, await(first).orThrow());
    AppendAck a1 = assertInstanceOf(AppendAck.class, await(second).orThrow());
    assertEquals(a0.end().seqNum(), a1.start().seqNum());
    assertEquals(List.of("first", "first-of-session", "second"), bodies());
  }

  @Test
  void aMissingPredecessorTimesTheSessionOutAndItsLateArrivalIsRefused() {
    DataPlane.AppendTarget t = target();
    Promise<Outcome<AppendResult>> second = raw(t, "gap-session", 1, "second");
    Outcome.Failed<AppendResult> refused = assertInstanceOf(Outcome.Failed.class, await(second));
    assertFalse(refused.indefinite());
    Outcome.Failed<AppendResult> late = assertInstanceOf(Outcome.Failed.class, await(raw(t, "gap-session", 0, "first")));
    assertFalse(late.indefinite());
    assertEquals(List.of("first"), bodies());
  }

  @Test
  void aSessionUnknownToTheChannelIsRefusedDefinitelyAfterTheGapTimeout() {
    DataPlane.AppendTarget t = target();
    Outcome.Failed<AppendResult> refused = assertInstanceOf(Outcome.Failed.class, await(raw(t, "never-opened", 3, "x")));
    assertFalse(refused.indefinite());
    assertEquals(List.of("first"), bodies());
  }
}
