package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.TimestampingMode;
import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Behaviour cases of S2-BEHAVIOUR-CASES.md §3, §4 and §6 against the frontend's data path, in a
 * simulated cell (channel, metadata, bucket). Timed session cases (§5, 102–103) are not here yet:
 * read sessions arrive next (docs/design.md, Status).
 */
class DataPlaneCasesTest {
  static final BasinName BASIN = new BasinName("test-basin-data");
  static final StreamName STREAM = new StreamName("s");

  private final SimCell cell = new SimCell();

  private void basin(BasinConfig config) {
    cell.run(f -> f.catalog().createBasin(BASIN, config, null)).orThrow();
  }

  private void stream(StreamConfigSpec spec) {
    basin(BasinConfig.DEFAULT);
    cell.run(f -> f.catalog().createStream(BASIN, STREAM, spec, null)).orThrow();
  }

  private void stream() {
    stream(StreamConfigSpec.EMPTY);
  }

  private static StreamConfigSpec clientRequire() {
    return new StreamConfigSpec(null, null, TimestampingMode.CLIENT_REQUIRE, null, null);
  }

  private static AppendRecord rec(String body) {
    return AppendRecord.of(body);
  }

  private static AppendRecord rec(String body, long ts) {
    return new AppendRecord(ts, List.of(), ByteString.copyFromUtf8(body));
  }

  private Outcome<AppendResult> append(Long match, String token, AppendRecord... records) {
    AppendInput input = new AppendInput(AppendBatch.validate(List.of(records)).orThrow(), match, token);
    return cell.run(f -> f.data().append(BASIN, STREAM, input));
  }

  private AppendAck ack(AppendRecord... records) {
    return assertInstanceOf(AppendAck.class, append(null, null, records).orThrow());
  }

  private ReadResult read(ReadFrom from, boolean clamp, ReadEnd end) {
    return cell.run(f -> f.data().read(BASIN, STREAM, from, clamp, end)).orThrow();
  }

  private List<String> bodies(ReadFrom from, ReadEnd end) {
    ReadResult.Batch b = assertInstanceOf(ReadResult.Batch.class, read(from, false, end));
    List<String> out = new ArrayList<>();
    b.records().forEach(r -> out.add(r.body().toStringUtf8()));
    return out;
  }

  private static ReadEnd end(Long count, Long bytes, Long until, Long wait) {
    return new ReadEnd(count, bytes, until, wait);
  }

  private static final ReadEnd NO_WAIT = end(null, null, null, 0L);

  private static ErrorCode code(Outcome<?> o) {
    return assertInstanceOf(Outcome.Failed.class, o).error().code();
  }

  private static long m(String body) {
    return rec(body).meteredBytes();
  }

  @Test
  void case066_appendOfThreeRecordsIsAckedZeroToThree() {
    stream();
    AppendAck a = ack(rec("record 1"), rec("record 2"), rec("record 3"));
    assertEquals(0, a.start().seqNum());
    assertEquals(3, a.end().seqNum());
    assertTrue(a.tail().seqNum() >= 3);
  }

  @Test
  void case068to071_fencingSequence() {
    stream();
    AppendAck first = assertInstanceOf(AppendAck.class, append(null, "", rec("matched token")).orThrow());
    assertEquals(0, first.start().seqNum());
    AppendAck fence = assertInstanceOf(AppendAck.class,
        append(1L, "", Command.toRecord(new Command.Fence("updated-token"))).orThrow());
    assertEquals(1, fence.start().seqNum());
    assertEquals(new AppendResult.FencingTokenMismatch("updated-token"), append(2L, "", rec("mismatched token")).orThrow());
    AppendAck accepted = assertInstanceOf(AppendAck.class, append(2L, "updated-token", rec("updated token accepted")).orThrow());
    assertEquals(2, accepted.start().seqNum());
    assertEquals(3, accepted.end().seqNum());
  }

  @Test
  void case074to075_clientRequireRejectsAMissingTimestampWithoutConsumingASeqNum() {
    stream(clientRequire());
    assertEquals(ErrorCode.INVALID, code(append(null, null, rec("no timestamp"))));
    AppendAck a = assertInstanceOf(AppendAck.class, append(null, null, rec("stamped", 123)).orThrow());
    assertEquals(0, a.start().seqNum());
    assertEquals(1, a.end().seqNum());
  }

  @Test
  void case076to077_matchSeqNum() {
    stream();
    assertEquals(0, assertInstanceOf(AppendAck.class, append(0L, null, rec("a")).orThrow()).start().seqNum());
    assertEquals(1, assertInstanceOf(AppendAck.class, append(1L, null, rec("b")).orThrow()).start().seqNum());
    assertEquals(new AppendResult.SeqNumMismatch(2), append(0L, null, rec("c")).orThrow());
  }

  @Test
  void case087to088_checkTail() {
    stream();
    assertEquals(StreamPosition.ZERO, cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow());
    AppendAck a = ack(rec("x"));
    assertEquals(a.end(), cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow());
  }

  @Test
  void case089_checkTailWithoutBasinIsBasinNotFound() {
    assertEquals(ErrorCode.BASIN_NOT_FOUND, code(cell.run(f -> f.data().checkTail(BASIN, new StreamName("test-stream-missing")))));
  }

  @Test
  void case091_readFromZeroReturnsEveryRecord() {
    stream();
    for (int i = 0; i < 5; i++) {
      ack(rec("test data"));
    }
    assertEquals(List.of("test data", "test data", "test data", "test data", "test data"), bodies(new ReadFrom.SeqNum(0), NO_WAIT));
  }

  @Test
  void case093_countBoundsARead() {
    stream();
    for (int i = 0; i < 10; i++) {
      ack(rec("record-" + i));
    }
    assertEquals(List.of("record-0", "record-1", "record-2", "record-3", "record-4"),
        bodies(new ReadFrom.SeqNum(0), end(5L, null, null, null)));
  }

  @Test
  void case094_readBeyondTheTailIs416() {
    stream();
    ack(rec("one"));
    ReadResult.Unsatisfiable u = assertInstanceOf(ReadResult.Unsatisfiable.class, read(new ReadFrom.SeqNum(100), false, ReadEnd.UNBOUNDED));
    assertEquals(1, u.tail().seqNum());
  }

  /**
   * Case 95 is a session read (no bounds, so it may follow, and wait=0 ends it at once); that
   * arrives with read sessions. A unary read always has count and bytes caps, so with wait=0 it may
   * not follow and a clamped start at the tail is 416 (S2-API §8.3).
   */
  @Test
  void unaryClampedReadBeyondTheTailWithoutWaitIs416() {
    stream();
    ack(rec("one"));
    assertEquals(1, assertInstanceOf(ReadResult.Unsatisfiable.class, read(new ReadFrom.SeqNum(100), true, NO_WAIT)).tail().seqNum());
  }

  @Test
  void case096to099_atTheTailWithoutWaitingIs416() {
    stream(clientRequire());
    ack(rec("a", 1000));
    AppendAck last = ack(rec("b", 2000));
    assertEquals(last.end(), assertInstanceOf(ReadResult.Unsatisfiable.class,
        read(new ReadFrom.TailOffset(0), false, end(10L, null, null, null))).tail());
    assertEquals(last.end(), assertInstanceOf(ReadResult.Unsatisfiable.class,
        read(new ReadFrom.SeqNum(last.end().seqNum()), false, end(10L, null, null, 0L))).tail());
    assertEquals(last.end(), assertInstanceOf(ReadResult.Unsatisfiable.class,
        read(new ReadFrom.Timestamp(2001), false, end(null, null, -1L, null))).tail());
    assertEquals(last.end(), assertInstanceOf(ReadResult.Unsatisfiable.class,
        read(new ReadFrom.Timestamp(2001), true, end(10L, null, null, null))).tail());
  }

  @Test
  void case100_tailOffset() {
    stream();
    for (int i = 1; i <= 5; i++) {
      ack(rec("record " + i));
    }
    assertEquals(List.of("record 4", "record 5"), bodies(new ReadFrom.TailOffset(2), NO_WAIT));
  }

  @Test
  void case101_timestampStartIncludesTies() {
    stream(clientRequire());
    ack(rec("dup-1", 1000), rec("dup-2", 1000), rec("dup-3", 1000));
    assertEquals(List.of("dup-1", "dup-2", "dup-3"), bodies(new ReadFrom.Timestamp(1000), NO_WAIT));
  }

  @Test
  void case104to107_byteAndCountBounds() {
    stream();
    ack(rec("record-1"), rec("record-2"), rec("record-3"));
    assertEquals(List.of("record-1", "record-2"), bodies(new ReadFrom.SeqNum(0), end(null, m("record-1") + m("record-2"), null, null)));
    assertEquals(List.of(), bodies(new ReadFrom.SeqNum(0), end(null, m("record-1") - 1, null, null)));
    assertEquals(List.of("record-1"), bodies(new ReadFrom.SeqNum(0), end(1L, 1_000_000L, null, null)));
    assertEquals(List.of("record-1", "record-2"), bodies(new ReadFrom.SeqNum(0), end(100L, 2 * m("record-1"), null, null)));
  }

  @Test
  void case108to115_untilIsExclusive() {
    stream(clientRequire());
    ack(rec("ts-500", 500), rec("ts-2000-a", 2000), rec("ts-2000-b", 2000), rec("ts-2500", 2500), rec("ts-3500", 3500),
        rec("ts-4500", 4500), rec("ts-5500", 5500));
    assertEquals(List.of(), bodies(new ReadFrom.SeqNum(0), end(null, null, 500L, null)));
    assertEquals(List.of("ts-500"), bodies(new ReadFrom.SeqNum(0), end(null, null, 2000L, null)));
    assertEquals(List.of("ts-500", "ts-2000-a"), bodies(new ReadFrom.SeqNum(0), end(2L, null, 5000L, null)));
    assertEquals(List.of("ts-2000-a", "ts-2000-b", "ts-2500", "ts-3500"), bodies(new ReadFrom.Timestamp(2000), end(null, null, 4500L, null)));
  }

  @Test
  void case130_appendCreatesTheStreamWhenTheBasinSaysSo() {
    basin(new BasinConfig(StreamConfigSpec.EMPTY, null, true, false));
    AppendAck a = ack(rec("x"));
    assertEquals(1, a.end().seqNum());
    assertEquals(1, cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow().seqNum());
  }

  @Test
  void case132_appendToAMissingStreamWithoutAutoCreateIsNotFound() {
    basin(BasinConfig.DEFAULT);
    assertEquals(ErrorCode.STREAM_NOT_FOUND, code(append(null, null, rec("x"))));
  }

  @Test
  void case055to057_aDeletedStreamRefusesTailAppendAndRead() {
    stream();
    ack(rec("one"));
    ack(rec("two")); // cached now: the delete must outlive the cache entry
    cell.run(f -> f.catalog().deleteStream(BASIN, STREAM)).orThrow();
    assertEquals(ErrorCode.STREAM_DELETION_PENDING, code(cell.run(f -> f.data().checkTail(BASIN, STREAM))));
    assertEquals(ErrorCode.STREAM_DELETION_PENDING, code(append(null, null, rec("two"))));
    assertEquals(ErrorCode.STREAM_DELETION_PENDING,
        code(cell.run(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(0), false, ReadEnd.UNBOUNDED))));
  }

  @Test
  void case047_reconfigurationReachesTheNextAppend() {
    stream();
    ack(rec("one"));
    ack(rec("two")); // the stream is active now, so this frontend has cached its lookup
    cell.run(f -> f.catalog().reconfigureStream(BASIN, STREAM, new io.s2j.api.StreamReconfiguration(
        io.s2j.api.Patch.keep(), io.s2j.api.Patch.keep(),
        io.s2j.api.Patch.set(new io.s2j.api.StreamReconfiguration.Timestamping(
            io.s2j.api.Patch.set(TimestampingMode.CLIENT_REQUIRE), io.s2j.api.Patch.keep())),
        io.s2j.api.Patch.keep()))).orThrow();
    assertEquals(ErrorCode.INVALID, code(append(null, null, rec("no timestamp"))));
    assertEquals(2, cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow().seqNum());
  }

  @Test
  void case048_ensureWithClientRequireReachesTheNextAppend() {
    stream();
    ack(rec("one"));
    ack(rec("two")); // cached
    Provisioned<StreamInfo> ensured = cell.run(f -> f.catalog().ensureStream(BASIN, STREAM, clientRequire())).orThrow();
    assertEquals(io.s2j.api.ProvisionResult.UPDATED, ensured.result());
    assertEquals(ErrorCode.INVALID, code(append(null, null, rec("no timestamp"))));
    assertInstanceOf(AppendAck.class, append(null, null, rec("stamped", 5)).orThrow());
  }

  @Test
  void case090_checkTailAfterALongIdleGapStillReturnsTheAckEnd() {
    stream();
    AppendAck a = ack(rec("only"));
    cell.world.simulator().runFor(61 * io.s2j.runtime.sim.Simulator.SECOND);
    assertEquals(a.end(), cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow());
  }

  @Test
  void oldRecordsAreReadFromSegmentsOnceTheChannelNoLongerHoldsThem() {
    stream();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      List<AppendRecord> batch = new ArrayList<>();
      for (int j = 0; j < 10; j++) {
        String body = "r" + (i * 10 + j) + "-" + "x".repeat(200);
        expected.add(body);
        batch.add(rec(body));
      }
      ack(batch.toArray(new AppendRecord[0]));
    }
    cell.world.simulator().runFor(10 * io.s2j.runtime.sim.Simulator.SECOND);
    long segments = cell.world.metadata().entries().stream()
        .filter(kv -> io.s2j.metadata.MetaKey.typeOf(kv.key()) == io.s2j.metadata.MetaKey.Type.SEGMENT).count();
    assertTrue(segments > 1, "segments were written: " + segments);
    List<String> all = new ArrayList<>();
    long next = 0;
    while (next < expected.size()) {
      ReadResult.Batch b = assertInstanceOf(ReadResult.Batch.class, read(new ReadFrom.SeqNum(next), false, end(null, null, null, 0L)));
      assertTrue(!b.records().isEmpty(), "read from " + next + " made progress");
      for (SequencedRecord r : b.records()) {
        assertEquals(next++, r.seqNum());
        all.add(r.body().toStringUtf8());
      }
    }
    assertEquals(expected, all);
  }

  @Test
  void aLongPollAtTheTailReturnsTheNextLiveBatchWithItsTail() {
    stream();
    ack(rec("first"));
    var poll = cell.start(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(1), false, end(null, null, null, 5L)));
    cell.world.simulator().runFor(io.s2j.runtime.sim.Simulator.SECOND);
    AppendAck a = ack(rec("live-1"), rec("live-2"));
    cell.world.simulator().runUntil(poll::isDone, cell.world.simulator().nowNanos() + 60 * io.s2j.runtime.sim.Simulator.SECOND);
    ReadResult.Batch b = assertInstanceOf(ReadResult.Batch.class, poll.value().orThrow());
    assertEquals(List.of("live-1", "live-2"), b.records().stream().map(r -> r.body().toStringUtf8()).toList());
    assertEquals(a.end().seqNum(), b.tail().seqNum());
  }

  @Test
  void aLongPollThatTimesOutIsEmpty() {
    stream();
    ack(rec("first"));
    ReadResult.Batch b = assertInstanceOf(ReadResult.Batch.class, read(new ReadFrom.SeqNum(1), false, end(null, null, null, 1L)));
    assertTrue(b.records().isEmpty());
    assertNull(b.tail());
  }
}
