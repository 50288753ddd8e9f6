package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.TimestampingMode;
import io.s2j.record.AppendRecord;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The timed read-session cases of S2-BEHAVIOUR-CASES.md (§4: 95, 102, 103; §5: 116–129), in virtual time.
 * As the cases file suggests for HTTP, sub-second waits are scaled to seconds (wait is whole
 * seconds over HTTP); the ordering and the "ends exactly wait after the last delivery" rule stay.
 */
class ReadSessionCasesTest {
  static final BasinName BASIN = new BasinName("test-basin-session");
  static final StreamName STREAM = new StreamName("s");
  static final long S = Simulator.SECOND;

  private final SimCell cell = new SimCell();
  private final List<ReadSession.Event> events = new ArrayList<>();
  private final List<Long> eventTimes = new ArrayList<>();

  private void stream(StreamConfigSpec spec) {
    cell.run(f -> f.catalog().createBasin(BASIN, BasinConfig.DEFAULT, null)).orThrow();
    cell.run(f -> f.catalog().createStream(BASIN, STREAM, spec, null)).orThrow();
  }

  private AppendAck append(AppendRecord... records) {
    AppendInput input = AppendInput.of(AppendBatch.validate(List.of(records)).orThrow());
    return assertInstanceOf(AppendAck.class, cell.run(f -> f.data().append(BASIN, STREAM, input)).orThrow());
  }

  private static AppendRecord rec(String body) {
    return AppendRecord.of(body);
  }

  private static AppendRecord rec(String body, long ts) {
    return new AppendRecord(ts, List.of(), ByteString.copyFromUtf8(body));
  }

  private long open(ReadFrom from, ReadEnd end) {
    long opened = cell.world.simulator().nowNanos();
    cell.start(f -> {
      f.data().openSession(BASIN, STREAM, from, false, end, e -> {
        events.add(e);
        eventTimes.add(cell.world.simulator().nowNanos());
      });
      return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
    });
    return opened;
  }

  private void runFor(long nanos) {
    cell.world.simulator().runFor(nanos);
    if (cell.world.simulator().failure() != null) {
      throw new AssertionError(cell.world.simulator().failure());
    }
  }

  private List<String> bodies() {
    List<String> out = new ArrayList<>();
    for (ReadSession.Event e : events) {
      if (e instanceof ReadSession.Batch b) {
        b.records().forEach(r -> out.add(r.body().toStringUtf8()));
      }
    }
    return out;
  }

  private boolean ended() {
    return !events.isEmpty() && events.get(events.size() - 1) instanceof ReadSession.End;
  }

  private long endedAt() {
    return eventTimes.get(eventTimes.size() - 1);
  }

  private long lastBatchAt() {
    for (int i = events.size() - 1; i >= 0; i--) {
      if (events.get(i) instanceof ReadSession.Batch) {
        return eventTimes.get(i);
      }
    }
    throw new AssertionError("no batch: " + events);
  }

  @Test
  void case095_clampedStartPastTheTailWithWaitZeroSucceedsEmpty() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("one"));
    cell.start(f -> {
      f.data().openSession(BASIN, STREAM, new ReadFrom.SeqNum(100), true, new ReadEnd(null, null, null, 0L), events::add);
      return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
    });
    runFor(5 * S);
    assertEquals(List.of(new ReadSession.End()), events);
  }

  @Test
  void case102_followingAnIdleTailEmitsHeartbeatsAndEndsAfterWait() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("one"));
    long opened = open(new ReadFrom.TailOffset(0), new ReadEnd(null, null, null, 20L));
    runFor(60 * S);
    assertTrue(ended(), events.toString());
    assertTrue(events.get(0) instanceof ReadSession.Heartbeat, events.toString());
    assertTrue(events.stream().noneMatch(e -> e instanceof ReadSession.Batch));
    long after = endedAt() - opened;
    assertTrue(after >= 20 * S && after <= 21 * S, "ended " + after / 1e9 + "s after opening");
    assertTrue(events.stream().filter(e -> e instanceof ReadSession.Heartbeat).count() >= 2, "idle heartbeats: " + events);
  }

  @Test
  void case103_aLiveBatchRearmsTheWait() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("one"));
    open(new ReadFrom.TailOffset(0), new ReadEnd(null, null, null, 10L));
    runFor(4 * S);
    append(rec("two"));
    runFor(30 * S);
    assertTrue(events.get(0) instanceof ReadSession.Heartbeat, events.toString());
    assertEquals(List.of("two"), bodies());
    assertTrue(ended());
    long after = endedAt() - lastBatchAt();
    assertTrue(after >= 10 * S && after <= 11 * S, "ended " + after / 1e9 + "s after the batch");
  }

  @Test
  void case116_catchUpThenLiveRecordsInOrder() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("initial"));
    open(new ReadFrom.SeqNum(0), new ReadEnd(null, null, null, 20L));
    runFor(10 * S);
    append(rec("follow-1"));
    runFor(5 * S);
    append(rec("follow-2"));
    runFor(60 * S);
    assertEquals(List.of("initial", "follow-1", "follow-2"), bodies());
    assertTrue(ended());
    long after = endedAt() - lastBatchAt();
    assertTrue(after >= 20 * S && after <= 21 * S, "ended " + after / 1e9 + "s after the last batch");
  }

  @Test
  void case118_countEndsAFollowingSession() {
    stream(StreamConfigSpec.EMPTY);
    open(new ReadFrom.SeqNum(0), new ReadEnd(3L, null, null, 30L));
    runFor(2 * S);
    assertTrue(events.get(0) instanceof ReadSession.Heartbeat, events.toString());
    for (int i = 0; i < 50; i++) {
      append(rec("r" + i));
    }
    runFor(10 * S);
    assertEquals(List.of("r0", "r1", "r2"), bodies());
    assertTrue(ended());
  }

  @Test
  void case120_untilEndsAFollowingSession() {
    stream(new StreamConfigSpec(null, null, TimestampingMode.CLIENT_REQUIRE, null, null));
    open(new ReadFrom.SeqNum(0), new ReadEnd(null, null, 4000L, 30L));
    runFor(2 * S);
    List<AppendRecord> batch = new ArrayList<>();
    for (int i = 1; i <= 50; i++) {
      batch.add(rec("ts-" + i * 1000, i * 1000L));
    }
    append(batch.toArray(new AppendRecord[0]));
    runFor(10 * S);
    assertEquals(List.of("ts-1000", "ts-2000", "ts-3000"), bodies());
    assertTrue(ended());
  }

  @Test
  void case124_aLiveBatchIsTruncatedByTheCount() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("initial"));
    open(new ReadFrom.SeqNum(0), new ReadEnd(3L, null, null, 30L));
    runFor(3 * S);
    append(rec("follow-1"), rec("follow-2"), rec("follow-3"));
    runFor(10 * S);
    assertEquals(List.of("initial", "follow-1", "follow-2"), bodies());
    assertTrue(ended());
  }

  @Test
  void case127to128_bytesBoundALiveBatch() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("item-00"));
    long m = rec("item-00").meteredBytes();
    open(new ReadFrom.TailOffset(0), new ReadEnd(null, 2 * m, null, 20L));
    runFor(3 * S);
    append(rec("item-01"), rec("item-02"), rec("item-03"));
    runFor(10 * S);
    assertEquals(List.of("item-01", "item-02"), bodies());
    assertTrue(ended());
  }

  @Test
  void case129_untilCutsAFollowingSession() {
    stream(new StreamConfigSpec(null, null, TimestampingMode.CLIENT_REQUIRE, null, null));
    append(rec("initial", 1000));
    open(new ReadFrom.SeqNum(0), new ReadEnd(null, null, 2500L, 20L));
    runFor(3 * S);
    append(rec("before-cutoff", 2000));
    runFor(2 * S);
    append(rec("after-cutoff", 3000));
    runFor(10 * S);
    assertEquals(List.of("initial", "before-cutoff"), bodies());
    assertTrue(ended());
  }

  @Test
  void case117_aBurstAfterAHeartbeatArrivesInOrder() {
    stream(StreamConfigSpec.EMPTY);
    open(new ReadFrom.SeqNum(0), new ReadEnd(null, null, null, 20L));
    runFor(2 * S);
    assertTrue(events.get(0) instanceof ReadSession.Heartbeat, events.toString());
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      expected.add("b" + i);
    }
    for (String b : expected) {
      append(rec(b));
    }
    runFor(60 * S);
    assertEquals(expected, bodies());
    assertTrue(ended());
    long after = endedAt() - lastBatchAt();
    assertTrue(after >= 20 * S && after <= 21 * S, "ended " + after / 1e9 + "s after the last batch");
  }

  @Test
  void case119_bytesBoundAfterTheTail() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("item-00"));
    long m = rec("item-00").meteredBytes();
    open(new ReadFrom.TailOffset(0), new ReadEnd(null, 3 * m, null, 30L));
    runFor(2 * S);
    for (int i = 1; i <= 50; i++) {
      append(rec(String.format(java.util.Locale.ROOT, "item-%02d", i)));
    }
    runFor(10 * S);
    assertEquals(List.of("item-01", "item-02", "item-03"), bodies());
    assertTrue(ended());
  }

  @Test
  void case121_liveFollowingResumesAfterABurst() {
    stream(StreamConfigSpec.EMPTY);
    open(new ReadFrom.SeqNum(0), new ReadEnd(null, null, null, 30L));
    runFor(2 * S);
    for (int i = 0; i < 50; i++) {
      append(rec("b" + i));
    }
    runFor(S);
    append(rec("live-after-lag"));
    runFor(5 * S);
    List<String> got = bodies();
    assertEquals(51, got.size(), got.toString());
    assertEquals("live-after-lag", got.get(50));
  }

  @Test
  void case122_catchUpThenTwoLiveRecords() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("record-0"), rec("record-1"), rec("record-2"));
    open(new ReadFrom.SeqNum(0), new ReadEnd(null, null, null, 30L));
    runFor(8 * S);
    append(rec("live-1"));
    runFor(2 * S);
    append(rec("live-2"));
    runFor(5 * S);
    assertEquals(List.of("record-0", "record-1", "record-2", "live-1", "live-2"), bodies());
  }

  @Test
  void case123_anUnboundedSessionKeepsFollowingThroughLongIdleness() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("initial"));
    open(new ReadFrom.SeqNum(0), ReadEnd.UNBOUNDED);
    runFor(61 * S);
    assertTrue(events.get(0) instanceof ReadSession.Batch, events.toString());
    assertTrue(events.stream().skip(1).anyMatch(e -> e instanceof ReadSession.Heartbeat), events.toString());
    append(rec("follow-1"));
    runFor(5 * S);
    assertEquals(List.of("initial", "follow-1"), bodies());
    assertTrue(!ended());
  }

  @Test
  void case125to126_aLiveBatchArrivesWholeAndInOrder() {
    stream(StreamConfigSpec.EMPTY);
    open(new ReadFrom.SeqNum(0), new ReadEnd(2L, null, null, 20L));
    runFor(2 * S);
    append(rec("follow-1"), rec("follow-2"));
    runFor(5 * S);
    assertEquals(List.of("follow-1", "follow-2"), bodies());
    assertTrue(ended());
  }

  @Test
  void tailingReadersOfOneStreamShareOneLongPoll() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("seed"));
    List<List<String>> seen = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      List<String> mine = new ArrayList<>();
      seen.add(mine);
      cell.start(f -> {
        f.data().openSession(BASIN, STREAM, new ReadFrom.TailOffset(0), false, ReadEnd.UNBOUNDED, e -> {
          if (e instanceof ReadSession.Batch b) {
            b.records().forEach(r -> mine.add(r.body().toStringUtf8()));
          }
        });
        return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
      });
    }
    runFor(2 * S);
    for (int i = 0; i < 10; i++) {
      append(rec("live-" + i));
      runFor(S);
    }
    runFor(30 * S);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      expected.add("live-" + i);
    }
    for (List<String> mine : seen) {
      assertEquals(expected, mine);
    }
    // 20 followers over ~42 s of virtual time: about one poll per live batch plus one per idle 5 s
    // poll, not 20 times that.
    SimCell.Frontend fe = cell.frontend();
    System.out.println("follow polls for 20 tailing sessions: " + fe.data().followPolls());
    assertTrue(fe.data().followPolls() < 40, "follow polls: " + fe.data().followPolls());
  }

  private ReadSession openHeld(ReadFrom from, ReadEnd end) {
    ReadSession[] held = new ReadSession[1];
    cell.start(f -> {
      held[0] = f.data().openSession(BASIN, STREAM, from, false, end, e -> {
        events.add(e);
        eventTimes.add(cell.world.simulator().nowNanos());
      });
      return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
    });
    return held[0];
  }

  /** Runs {@code op} on the frontend's executor (where a session may be paused and resumed). */
  private void onFrontend(Runnable op) {
    cell.start(f -> {
      op.run();
      return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
    });
  }

  @Test
  void aPausedFollowerHoldsLiveBatchesAndReplaysThemInOrderOnResume() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("seed"));
    ReadSession session = openHeld(new ReadFrom.TailOffset(0), new ReadEnd(null, null, null, 5L));
    runFor(2 * S);
    append(rec("live-0"));
    runFor(S);
    assertEquals(List.of("live-0"), bodies());
    onFrontend(session::pause);
    runFor(S);
    for (int i = 1; i <= 20; i++) {
      append(rec("live-" + i));
      runFor(S); // 20 s paused: past the 5 s wait, which must not end a session that waits on its consumer
    }
    // At most the one live batch in flight when the pause landed got through; nothing after it.
    int whilePaused = bodies().size();
    assertTrue(whilePaused <= 2, bodies().toString());
    assertTrue(!ended(), events.toString());
    onFrontend(session::resume);
    runFor(3 * S);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i <= 20; i++) {
      expected.add("live-" + i);
    }
    assertEquals(expected, bodies(), "every record once, in order");
    append(rec("live-21"));
    runFor(S);
    assertEquals("live-21", bodies().get(bodies().size() - 1), "following again after the catch-up");
    runFor(10 * S);
    assertTrue(ended(), "the wait deadline runs again after resume");
    assertEquals(1, cell.frontend().data().readSessionPauses());
    assertEquals(0, cell.frontend().data().readSessionFollowsLeft(), "a short pause stays on the shared follow");
  }

  @Test
  void aPausedFollowerTooFarBehindLeavesTheSharedFollowAndCatchesUpOnItsOwn() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("seed"));
    ReadSession session = openHeld(new ReadFrom.TailOffset(0), ReadEnd.UNBOUNDED);
    runFor(2 * S);
    onFrontend(session::pause);
    runFor(S);
    String big = "b".repeat(400_000);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 16; i++) { // 6.4 MB: past what a paused follower holds (LIVE_HELD_BYTES_MAX)
      append(rec(i + big));
      expected.add(i + big);
      runFor(S / 2);
    }
    long pollsPaused = cell.frontend().data().followPolls();
    assertTrue(bodies().size() <= 1, "at most the batch in flight when the pause landed");
    onFrontend(session::resume);
    runFor(5 * S);
    assertEquals(expected, bodies(), "every record once, in order, partly from its own catch-up");
    append(rec("after"));
    runFor(2 * S);
    assertEquals("after", bodies().get(bodies().size() - 1), "following again");
    assertTrue(cell.frontend().data().followPolls() > pollsPaused, "back on a long poll");
    assertEquals(1, cell.frontend().data().readSessionFollowsLeft(), "it left the shared follow once");
  }

  @Test
  void aPausedCatchUpStopsAfterTheStepInFlightAndResumesWhereItStopped() {
    stream(StreamConfigSpec.EMPTY);
    int total = 3 * DataPlane.CATCH_UP_STEP_RECORDS;
    for (int i = 0; i < total; i += 1000) {
      AppendRecord[] batch = new AppendRecord[1000];
      for (int j = 0; j < batch.length; j++) {
        batch[j] = rec("r" + (i + j));
      }
      append(batch);
    }
    ReadSession[] held = new ReadSession[1];
    cell.start(f -> {
      held[0] = f.data().openSession(BASIN, STREAM, new ReadFrom.SeqNum(0), false, new ReadEnd(null, null, null, 0L), e -> {
        events.add(e);
        if (e instanceof ReadSession.Batch && events.size() == 1) {
          held[0].pause(); // the consumer is full after the first batch
        }
      });
      return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
    });
    runFor(10 * S);
    int paused = bodies().size();
    assertEquals(DataPlane.CATCH_UP_STEP_RECORDS, paused, "exactly the step in flight was emitted");
    assertTrue(!ended());
    onFrontend(held[0]::resume);
    runFor(10 * S);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      expected.add("r" + i);
    }
    assertEquals(expected, bodies());
    assertTrue(ended(), "wait=0: ends once caught up");
  }
  /**
   * Fan-out: followers at the tail that take a live batch whole get it as one shared list (the same
   * instance, {@code shared} set), which the server encodes once for all of them; a follower whose
   * count cuts the batch gets its own list, not shared; catch-up batches are never shared.
   */
  @Test
  void liveBatchesTakenWholeAreSharedAmongFollowers() {
    stream(StreamConfigSpec.EMPTY);
    append(rec("initial"));
    List<List<ReadSession.Event>> sessions = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<ReadSession.Event> got = new ArrayList<>();
      sessions.add(got);
      ReadEnd end = i == 2 ? new ReadEnd(3L, null, null, 60L) : new ReadEnd(null, null, null, 60L);
      cell.start(f -> {
        f.data().openSession(BASIN, STREAM, new ReadFrom.SeqNum(0), false, end, got::add);
        return io.s2j.runtime.Promise.completed(cell.world.process("fe-1").env().scheduler(), 0);
      });
    }
    runFor(5 * S);
    append(rec("live-1"), rec("live-2"), rec("live-3"));
    runFor(5 * S);
    List<List<ReadSession.Batch>> batches = new ArrayList<>();
    for (List<ReadSession.Event> got : sessions) {
      List<ReadSession.Batch> bs = new ArrayList<>();
      got.forEach(e -> {
        if (e instanceof ReadSession.Batch b) {
          bs.add(b);
        }
      });
      batches.add(bs);
    }
    for (List<ReadSession.Batch> bs : batches) {
      assertEquals(2, bs.size(), bs.toString());
      assertTrue(!bs.get(0).shared() && bs.get(0).tail() == null, "catch-up is never shared: " + bs.get(0));
    }
    ReadSession.Batch a = batches.get(0).get(1);
    ReadSession.Batch b = batches.get(1).get(1);
    ReadSession.Batch cut = batches.get(2).get(1);
    assertTrue(a.shared() && b.shared(), a + " / " + b);
    assertTrue(a.records() == b.records(), "followers taking the batch whole share one list");
    assertEquals(a.tail(), b.tail());
    assertEquals(3, a.records().size());
    assertEquals(2, cut.records().size(), "count 3 leaves room for two live records");
    assertTrue(!cut.shared() && cut.records() != a.records(), "a cut batch is the session's own");
  }
}
