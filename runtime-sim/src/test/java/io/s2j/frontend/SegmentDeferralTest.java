package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.channel.Channel;
import io.s2j.channel.ChannelKnobs;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.ChannelMeta;
import io.s2j.record.AppendRecord;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Many small streams (issue 7, 10,000 streams): a streamlet below {@code segmentBytesMin} waits
 * for {@code segmentAgeMaxMs} before it gets a segment, the segment commits of a round share
 * metadata transactions, and {@code walLiveBytesMax} bounds the live WAL that deferred streamlets pin.
 */
class SegmentDeferralTest {
  static final BasinName BASIN = new BasinName("test-basin-defer");
  static final int STREAMS = 60;

  private static StreamName stream(int i) {
    return new StreamName("s-" + i);
  }

  private static void create(SimCell cell) {
    cell.run(f -> f.catalog().createBasin(BASIN, BasinConfig.DEFAULT, null)).orThrow();
    for (int i = 0; i < STREAMS; i++) {
      StreamName name = stream(i);
      cell.run(f -> f.catalog().createStream(BASIN, name, StreamConfigSpec.EMPTY, null)).orThrow();
    }
  }

  /** One record of about {@code bytes} to every stream, each acknowledged. */
  private static void appendToEach(SimCell cell, String tag, int bytes) {
    for (int i = 0; i < STREAMS; i++) {
      StreamName name = stream(i);
      AppendInput input = new AppendInput(AppendBatch.validate(List.of(AppendRecord.of(tag + "-" + i + "-" + "x".repeat(bytes))))
          .orThrow(), null, null);
      assertInstanceOf(AppendAck.class, cell.run(f -> f.data().append(BASIN, name, input)).orThrow());
    }
  }

  private static long segmentObjects(SimCell cell) {
    return cell.world.bucket().keys().stream().filter(k -> k.value().startsWith("seg/")).count();
  }

  private static long walObjects(SimCell cell) {
    return cell.world.bucket().keys().stream().filter(k -> k.value().startsWith(Channel.walPrefix("ch-1"))).count();
  }

  private static long firstLiveChunk(SimCell cell) throws Exception {
    return ChannelMeta.parseFrom(cell.world.metadata().peek(MetaKey.channel("ch-1")).orElseThrow().value()).getFirstLiveChunk();
  }

  private static List<String> readAll(SimCell cell, StreamName name) {
    ReadResult.Batch b = assertInstanceOf(ReadResult.Batch.class,
        cell.run(f -> f.data().read(BASIN, name, new ReadFrom.SeqNum(0), false, new ReadEnd(null, null, null, 0L))).orThrow());
    List<String> bodies = new ArrayList<>();
    b.records().forEach(r -> bodies.add(r.body().toStringUtf8().substring(0, r.body().toStringUtf8().indexOf("-x"))));
    return bodies;
  }

  @Test
  void withoutAnAgeBoundEveryStreamletGetsItsOwnSegmentAndCommitEachRound() {
    SimCell cell = new SimCell(ChannelKnobs.SMALL); // segmentAgeMaxMs 0: a segment per streamlet per 2 s round
    create(cell);
    appendToEach(cell, "a", 100);
    cell.world.simulator().runFor(5 * Simulator.SECOND);
    assertEquals(STREAMS, segmentObjects(cell));
  }

  @Test
  void smallStreamletsWaitForTheAgeBoundAndTheirCommitsShareTransactions() throws Exception {
    SimCell cell = new SimCell(ChannelKnobs.SMALL.withSegmentDeferral(10_000, Long.MAX_VALUE, 64));
    create(cell);
    appendToEach(cell, "a", 100);
    cell.world.simulator().runFor(5 * Simulator.SECOND);
    assertEquals(0, segmentObjects(cell), "younger than segmentAgeMaxMs: no segment yet");
    appendToEach(cell, "b", 100);
    long revision = cell.world.metadata().revision();
    cell.world.simulator().runFor(10 * Simulator.SECOND);
    assertEquals(STREAMS, segmentObjects(cell), "one segment per streamlet, holding both records");
    long transactions = cell.world.metadata().revision() - revision;
    assertTrue(transactions <= 6, STREAMS + " segment commits (and WAL collection) took " + transactions + " transactions");
    assertTrue(firstLiveChunk(cell) > 0, "the WAL they pinned was collected");
    for (int i = 0; i < STREAMS; i++) {
      assertEquals(List.of("a-" + i, "b-" + i), readAll(cell, stream(i)));
    }
  }

  @Test
  void theLiveWalBoundSegmentsTheStreamletsPinningItWhateverTheirAge() throws Exception {
    SimCell bounded = new SimCell(ChannelKnobs.SMALL.withSegmentDeferral(3_600_000, 16 << 10, 4));
    SimCell unbounded = new SimCell(ChannelKnobs.SMALL.withSegmentDeferral(3_600_000, Long.MAX_VALUE, 4));
    for (SimCell cell : List.of(bounded, unbounded)) {
      create(cell);
      for (int round = 0; round < 3; round++) {
        appendToEach(cell, "r" + round, 1000);
      }
      cell.world.simulator().runFor(10 * Simulator.SECOND);
    }
    // 180 KiB of records in the log: without the bound an hour's age keeps all of it live.
    assertEquals(0, segmentObjects(unbounded));
    // There only the chunks before the first append (read barriers, no records) were collected.
    long unboundedFirst = firstLiveChunk(unbounded);
    assertTrue(segmentObjects(bounded) >= STREAMS, "segments: " + segmentObjects(bounded));
    assertTrue(firstLiveChunk(bounded) > unboundedFirst + STREAMS,
        "first live chunk bounded " + firstLiveChunk(bounded) + ", unbounded " + unboundedFirst);
    assertTrue(walObjects(bounded) < walObjects(unbounded),
        "live WAL objects bounded " + walObjects(bounded) + ", unbounded " + walObjects(unbounded));
    for (int i = 0; i < STREAMS; i += 7) {
      assertEquals(List.of("r0-" + i, "r1-" + i, "r2-" + i), readAll(bounded, stream(i)));
    }
  }
}
