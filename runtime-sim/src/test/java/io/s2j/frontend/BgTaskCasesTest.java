package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Trims, retention, delete-on-empty and deletion (S2-API §7.5, §8.2, §12) in a simulated cell
 * with a bgtask node: the behaviour cases of S2-BEHAVIOUR-CASES.md that concern them (163, 166)
 * by number, and the lifecycle rules of S2-API §12 by section.
 */
class BgTaskCasesTest {
  static final BasinName BASIN = new BasinName("test-basin-bgtask");
  static final StreamName STREAM = new StreamName("s");

  private final SimCell cell = new SimCell();

  private void stream(StreamConfigSpec spec) {
    cell.run(f -> f.catalog().createBasin(BASIN, BasinConfig.DEFAULT, null)).orThrow();
    cell.run(f -> f.catalog().createStream(BASIN, STREAM, spec, null)).orThrow();
  }

  private Outcome<AppendResult> append(AppendRecord... records) {
    AppendInput input = new AppendInput(AppendBatch.validate(List.of(records)).orThrow(), null, null);
    return cell.run(f -> f.data().append(BASIN, STREAM, input));
  }

  private AppendAck ack(AppendRecord... records) {
    return assertInstanceOf(AppendAck.class, append(records).orThrow());
  }

  private void appendN(int n) {
    for (int i = 0; i < n; i++) {
      ack(AppendRecord.of("r" + i));
    }
  }

  private List<SequencedRecord> read(long from, long count) {
    ReadResult r = cell.run(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(from), true, new ReadEnd(count, null, null, 0L))).orThrow();
    return assertInstanceOf(ReadResult.Batch.class, r).records();
  }

  private static List<Long> seqs(List<SequencedRecord> records) {
    List<Long> out = new ArrayList<>();
    records.forEach(r -> out.add(r.seqNum()));
    return out;
  }

  private void runFor(long nanos) {
    cell.world.simulator().runFor(nanos);
    if (cell.world.simulator().failure() != null) {
      throw new AssertionError("simulation failed", cell.world.simulator().failure());
    }
  }

  private List<ObjectKey> segmentObjects() {
    return cell.world.bucket().keys().stream().filter(k -> k.value().startsWith("seg/")).toList();
  }

  @Test
  void section7_5_aReadBelowTheTrimPointStartsAtTheTrimPoint() {
    stream(StreamConfigSpec.EMPTY);
    appendN(10);
    ack(Command.toRecord(new Command.Trim(4))); // seq 10, trim point 4
    assertEquals(List.of(4L, 5L, 6L), seqs(read(0, 3)));
    assertEquals(List.of(7L, 8L), seqs(read(7, 2)));
    // Once the records are in segments (and the channel has let go of them), the same holds.
    runFor(30 * Simulator.SECOND);
    assertEquals(List.of(4L, 5L, 6L), seqs(read(0, 3)));
  }

  @Test
  void section7_5_aTrimCanRemoveItselfButNothingAfterIt() {
    stream(StreamConfigSpec.EMPTY);
    appendN(3);
    ack(Command.toRecord(new Command.Trim(-1L))); // seq 3: P = min(u64::MAX, 4) = 4 (a client's trim, not a deletion)
    AppendAck after = ack(AppendRecord.of("after"));
    assertEquals(4, after.start().seqNum());
    assertEquals(List.of(4L), seqs(read(0, 10)));
  }

  @Test
  void case166_aReadOverARangeWhoseRecordsAreAllDeletedEndsNormallyWithNoRecords() {
    stream(StreamConfigSpec.EMPTY);
    appendN(5);
    ack(Command.toRecord(new Command.Trim(6))); // seq 5: trims itself too
    assertEquals(List.of(), read(0, 3));
    assertEquals(List.of(), read(2, 100));
  }

  @Test
  void trimmedSegmentsAreCollectedAndReadsNeverNeedThem() {
    cell.startBgTask(Simulator.SECOND);
    stream(StreamConfigSpec.EMPTY);
    appendN(20);
    runFor(5 * Simulator.SECOND); // records 0..19 in a segment
    int before = segmentObjects().size();
    assertTrue(before >= 1, "segments written: " + before);
    ack(Command.toRecord(new Command.Trim(25))); // seq 20, P = 21: everything so far
    appendN(5);
    runFor(10 * Simulator.SECOND);
    assertTrue(cell.bgTask.counters().segmentsCollected() >= 1, cell.bgTask.counters().toString());
    for (ObjectKey k : segmentObjects()) {
      assertTrue(!k.value().endsWith("-00000000000000000020"), "segment below the trim point still there: " + k);
    }
    assertEquals(List.of(21L, 22L, 23L, 24L, 25L), seqs(read(0, 10)));
  }

  /** Runs {@code op} on a node of its own (as bgtask would) and waits for it. */
  private io.s2j.runtime.sim.SimProcess admin;
  private final io.s2j.runtime.Env[] adminEnv = new io.s2j.runtime.Env[1];

  private <T> T asAdmin(java.util.function.Function<io.s2j.runtime.Env, io.s2j.runtime.Promise<T>> op) {
    if (admin == null) {
      admin = cell.world.addProcess("admin", e -> adminEnv[0] = e);
      admin.start();
      cell.world.simulator().runUntil(() -> adminEnv[0] != null, cell.world.simulator().nowNanos() + Simulator.SECOND);
    }
    io.s2j.runtime.Env[] env = adminEnv;
    List<io.s2j.runtime.Promise<T>> p = new ArrayList<>();
    cell.world.simulator().runAs(admin.incarnation(), () -> p.add(op.apply(env[0])));
    cell.world.simulator().runUntil(p.get(0)::isDone, cell.world.simulator().nowNanos() + 60 * Simulator.SECOND);
    return p.get(0).value();
  }

  private List<io.s2j.metadata.proto.SegmentMeta> segmentMetas() {
    List<io.s2j.metadata.proto.SegmentMeta> out = new ArrayList<>();
    for (var kv : cell.world.metadata().entries()) {
      if (io.s2j.metadata.MetaKey.typeOf(kv.key()) == io.s2j.metadata.MetaKey.Type.SEGMENT) {
        try {
          out.add(io.s2j.metadata.proto.SegmentMeta.parseFrom(kv.value()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new AssertionError(e);
        }
      }
    }
    return out;
  }

  /**
   * The race bgtask's collection is designed for: a frontend that still believes the old trim point
   * (its cached retention trim point) plans a read into a segment that was collected meanwhile. It
   * must ask for the trim point again and go on above it; a segment missing <em>above</em> the trim
   * point is a {@code storage} error, never a silent gap.
   */
  @Test
  void aReadIntoASegmentCollectedMeanwhileGoesOnAboveTheTrimPointAndAMissingLiveSegmentIsAStorageError() throws Exception {
    stream(new StreamConfigSpec(null, RetentionPolicy.INFINITE, null, null, null));
    String pad = "x".repeat(1000);
    for (int i = 0; i < 30; i++) {
      List<AppendRecord> batch = new ArrayList<>();
      for (int j = 0; j < 10; j++) {
        batch.add(AppendRecord.of(i * 10 + j + "/" + pad));
      }
      ack(batch.toArray(new AppendRecord[0]));
    }
    runFor(20 * Simulator.SECOND); // in segments, and mostly evicted from the channel's memory
    List<io.s2j.metadata.proto.SegmentMeta> segments = segmentMetas();
    assertTrue(segments.size() >= 3, "segments: " + segments.size());
    assertEquals(List.of(0L), seqs(read(0, 1))); // caches the retention trim point (0) for 1 s
    io.s2j.metadata.proto.SegmentMeta first = segments.get(0);
    long collectedTo = first.getFirstSeqNum() + first.getRecordCount();
    long streamId = io.s2j.metadata.proto.StreamMeta.parseFrom(cell.world.metadata()
        .peek(io.s2j.metadata.MetaKey.stream(BASIN.value(), STREAM.value())).orElseThrow().value()).getStreamId();
    long streamletId = io.s2j.metadata.MetaKey.u64At(cell.world.metadata().entries().stream()
        .filter(kv -> io.s2j.metadata.MetaKey.typeOf(kv.key()) == io.s2j.metadata.MetaKey.Type.SEGMENT).findFirst().orElseThrow().key(), 0);
    // What bgtask's retention and collection do: raise the retention trim point past the first
    // segment, then delete its metadata and its object.
    asAdmin(env -> env.metadataStore().commit(io.s2j.runtime.metadata.Txn.builder()
        .put(io.s2j.metadata.MetaKey.trim(streamId), io.s2j.metadata.proto.TrimMeta.newBuilder().setTrimPoint(collectedTo).build().toByteString())
        .delete(io.s2j.metadata.MetaKey.segment(streamletId, collectedTo)).build()));
    asAdmin(env -> env.objectStore().delete(ObjectKey.of(first.getObjectKey())));
    assertEquals(List.of(collectedTo, collectedTo + 1), seqs(read(0, 2)));
    // A segment above the trim point whose object vanished: lost data, reported, not skipped.
    io.s2j.metadata.proto.SegmentMeta second = segments.get(1);
    asAdmin(env -> env.objectStore().delete(ObjectKey.of(second.getObjectKey())));
    Outcome<ReadResult> lost = cell.run(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(second.getFirstSeqNum()), true,
        new ReadEnd(2L, null, null, 0L)));
    assertEquals(ErrorCode.STORAGE, assertInstanceOf(Outcome.Failed.class, lost).error().code());
  }

  /**
   * A segment read whose block get fails after the segment's index was cached — a store outage
   * (the cell sweep, seed 4 once the channel refused to migrate deleting streamlets: the lifecycle
   * client saw "read failed with a bug") or damaged bytes, played here — is an outcome like every
   * other failure of the read path ({@code storage} for a checksum mismatch), never a failed promise.
   */
  @Test
  void aFailedSegmentBlockGetIsAnOutcomeNotABug() throws Exception {
    stream(new StreamConfigSpec(null, RetentionPolicy.INFINITE, null, null, null));
    String pad = "x".repeat(1000);
    for (int i = 0; i < 30; i++) {
      List<AppendRecord> batch = new ArrayList<>();
      for (int j = 0; j < 10; j++) {
        batch.add(AppendRecord.of(i * 10 + j + "/" + pad));
      }
      ack(batch.toArray(new AppendRecord[0]));
    }
    runFor(20 * Simulator.SECOND); // in segments, and mostly evicted from the channel's memory
    List<io.s2j.metadata.proto.SegmentMeta> segments = segmentMetas();
    assertTrue(segments.size() >= 3, "segments: " + segments.size());
    assertEquals(List.of(0L), seqs(read(0, 1))); // from the first segment: the frontend caches its index
    io.s2j.metadata.proto.SegmentMeta first = segments.get(0);
    ObjectKey key = ObjectKey.of(first.getObjectKey());
    byte[] damaged = cell.world.bucket().peek(key).toByteArray();
    assertEquals(first.getObjectBytes(), damaged.length);
    for (int i = 0; i < damaged.length; i++) {
      damaged[i] ^= 0x5a; // same size, every block's checksum broken
    }
    asAdmin(env -> env.objectStore().put(key, com.google.protobuf.ByteString.copyFrom(damaged),
        io.s2j.runtime.objectstore.PutCondition.NONE));
    Outcome<ReadResult> got = cell.run(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(0), true, new ReadEnd(2L, null, null, 0L)));
    assertEquals(ErrorCode.STORAGE, assertInstanceOf(Outcome.Failed.class, got).error().code(), "a damaged block: " + got);
  }

  @Test
  void case163_anAppendAfterTheTerminalTrimIsDeletionPending() {
    cell.startBgTask(Simulator.SECOND / 5);
    stream(StreamConfigSpec.EMPTY);
    ack(AppendRecord.of("x")); // the frontend now has the stream cached for 1 s
    var deletion = cell.start(f -> f.catalog().deleteStream(BASIN, STREAM));
    runFor(Simulator.SECOND * 6 / 10); // bgtask appended the terminal trim; the cache entry is still fresh
    Outcome<AppendResult> late = append(AppendRecord.of("late"));
    Outcome.Failed<AppendResult> failed = assertInstanceOf(Outcome.Failed.class, late);
    assertEquals(ErrorCode.STREAM_DELETION_PENDING, failed.error().code());
    runFor(2 * Simulator.SECOND);
    assertTrue(deletion.isDone());
  }

  @Test
  void section12_2_aDeletedStreamIsFinalisedItsDataPurgedAndItsNameFreeForANewStream() {
    cell.startBgTask(Simulator.SECOND);
    stream(StreamConfigSpec.EMPTY);
    appendN(30);
    runFor(5 * Simulator.SECOND);
    assertTrue(!segmentObjects().isEmpty());
    cell.run(f -> f.catalog().deleteStream(BASIN, STREAM)).orThrow();
    Outcome<?> pending = cell.run(f -> f.catalog().getStreamConfig(BASIN, STREAM));
    assertEquals(ErrorCode.STREAM_DELETION_PENDING, ((Outcome.Failed<?>) pending).error().code());
    runFor(15 * Simulator.SECOND);
    Outcome<?> gone = cell.run(f -> f.catalog().getStreamConfig(BASIN, STREAM));
    assertEquals(ErrorCode.STREAM_NOT_FOUND, ((Outcome.Failed<?>) gone).error().code());
    assertEquals(List.of(), segmentObjects(), "the old incarnation's segments are purged: " + cell.bgTask.counters()
        + " " + cell.world.metadata().entries().stream().map(e -> io.s2j.metadata.MetaKey.typeOf(e.key()).toString()).toList());
    assertTrue(cell.bgTask.counters().streamsPurged() >= 1, cell.bgTask.counters().toString());
    // The name is free: a fresh stream starting at seq 0 that sees nothing of the old one.
    cell.run(f -> f.catalog().createStream(BASIN, STREAM, StreamConfigSpec.EMPTY, null)).orThrow();
    assertEquals(0, cell.run(f -> f.data().checkTail(BASIN, STREAM)).orThrow().seqNum());
    assertEquals(0, ack(AppendRecord.of("new")).start().seqNum());
    List<SequencedRecord> records = read(0, 100);
    assertEquals(1, records.size());
    assertEquals("new", records.get(0).body().toStringUtf8());
  }

  @Test
  void section12_3_aDeletedBasinIsFinalisedOnceItsStreamsAre() {
    cell.startBgTask(Simulator.SECOND);
    stream(StreamConfigSpec.EMPTY);
    cell.run(f -> f.catalog().createStream(BASIN, new StreamName("t"), StreamConfigSpec.EMPTY, null)).orThrow();
    ack(AppendRecord.of("x"));
    cell.run(f -> f.catalog().deleteBasin(BASIN)).orThrow();
    runFor(20 * Simulator.SECOND);
    Outcome<?> gone = cell.run(f -> f.catalog().getBasinConfig(BASIN));
    assertEquals(ErrorCode.BASIN_NOT_FOUND, ((Outcome.Failed<?>) gone).error().code());
    assertEquals(1, cell.bgTask.counters().basinsFinalised());
    // The name is free again.
    cell.run(f -> f.catalog().createBasin(BASIN, BasinConfig.DEFAULT, null)).orThrow();
  }

  @Test
  void section12_4_aStreamEmptyForMinAgeIsDeletedAndOneWithRecordsIsNot() {
    cell.startBgTask(Simulator.SECOND);
    StreamConfigSpec doe = new StreamConfigSpec(null, null, null, null, 3L);
    stream(doe);
    StreamName kept = new StreamName("kept");
    cell.run(f -> f.catalog().createStream(BASIN, kept, doe, null)).orThrow();
    ack(AppendRecord.of("a"));
    ack(Command.toRecord(new Command.Trim(2))); // seq 1: P = 2, nothing left
    AppendInput keep = new AppendInput(AppendBatch.validate(List.of(AppendRecord.of("k"))).orThrow(), null, null);
    cell.run(f -> f.data().append(BASIN, kept, keep)).orThrow();
    runFor(2 * Simulator.SECOND);
    cell.run(f -> f.catalog().getStreamConfig(BASIN, STREAM)).orThrow(); // younger than min_age: still there
    runFor(20 * Simulator.SECOND);
    Outcome<?> gone = cell.run(f -> f.catalog().getStreamConfig(BASIN, STREAM));
    assertEquals(ErrorCode.STREAM_NOT_FOUND, ((Outcome.Failed<?>) gone).error().code());
    cell.run(f -> f.catalog().getStreamConfig(BASIN, kept)).orThrow();
    assertTrue(cell.bgTask.counters().deletesOnEmpty() >= 1);
  }

  @Test
  void section7_5_ageRetentionTrimsExpiredSegmentsAndCollectsThem() {
    cell.startBgTask(Simulator.SECOND);
    stream(new StreamConfigSpec(null, RetentionPolicy.ageSeconds(3), null, null, null));
    appendN(20);
    runFor(Simulator.SECOND);
    assertEquals(20, read(0, 100).size(), "not expired yet");
    runFor(20 * Simulator.SECOND);
    assertEquals(List.of(), read(0, 100), "every record expired");
    assertTrue(cell.bgTask.counters().retentionTrims() >= 1);
    assertEquals(List.of(), segmentObjects());
    assertEquals(20, ack(AppendRecord.of("fresh")).start().seqNum());
    assertEquals(List.of(20L), seqs(read(0, 100)));
  }
}
