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
import io.s2j.cachey.CacheyKnobs;
import io.s2j.channel.ChannelKnobs;
import io.s2j.record.AppendRecord;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The frontend's segment reads through cachey nodes: same records, fewer GETs, and a fallback. */
class SegmentReadsThroughCacheyTest {
  static final BasinName BASIN = new BasinName("test-basin-cachey");
  static final StreamName STREAM = new StreamName("s");

  /** Small pages, but memory for every segment of the test (1 MiB), so a second pass misses nothing. */
  private final SimCell cell = new SimCell(ChannelKnobs.SMALL, 2, new CacheyKnobs(4096, 1 << 20, 64, 1 << 20, 64, 50, 60_000));

  private List<String> writeSegments() {
    cell.run(f -> f.catalog().createBasin(BASIN, BasinConfig.DEFAULT, null)).orThrow();
    cell.run(f -> f.catalog().createStream(BASIN, STREAM, StreamConfigSpec.EMPTY, null)).orThrow();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      List<AppendRecord> batch = new ArrayList<>();
      for (int j = 0; j < 10; j++) {
        String body = "r" + (i * 10 + j) + "-" + "x".repeat(200);
        expected.add(body);
        batch.add(AppendRecord.of(body));
      }
      AppendInput input = new AppendInput(AppendBatch.validate(batch).orThrow(), null, null);
      assertInstanceOf(AppendAck.class, cell.run(f -> f.data().append(BASIN, STREAM, input)).orThrow());
    }
    cell.world.simulator().runFor(10 * Simulator.SECOND);
    return expected;
  }

  private List<String> readAll(int count) {
    List<String> all = new ArrayList<>();
    long next = 0;
    while (next < count) {
      long from = next;
      ReadResult.Batch b = assertInstanceOf(ReadResult.Batch.class,
          cell.run(f -> f.data().read(BASIN, STREAM, new ReadFrom.SeqNum(from), false, new ReadEnd(null, null, null, 0L))).orThrow());
      assertTrue(!b.records().isEmpty(), "read from " + next + " made progress");
      for (SequencedRecord r : b.records()) {
        assertEquals(next++, r.seqNum());
        all.add(r.body().toStringUtf8());
      }
    }
    return all;
  }

  private long cacheyRequests() {
    return cell.caches.stream().mapToLong(c -> c.counters().requests()).sum();
  }

  @Test
  void segmentsAreReadThroughCacheyAndASecondPassHitsItsPages() {
    List<String> expected = writeSegments();
    assertEquals(expected, readAll(expected.size()));
    long requests = cacheyRequests();
    assertTrue(requests > 0, "segment reads went through cachey");
    long misses = cell.caches.stream().mapToLong(c -> c.counters().pageMisses()).sum();
    long hits = cell.caches.stream().mapToLong(c -> c.counters().pageHits()).sum();
    long gets = cell.world.bucket().getsApplied();

    // The frontend caches block indexes itself; the second pass re-reads blocks, now from pages.
    assertEquals(expected, readAll(expected.size()));
    assertTrue(cacheyRequests() > requests);
    assertEquals(misses, cell.caches.stream().mapToLong(c -> c.counters().pageMisses()).sum(), "no new page misses");
    assertTrue(cell.caches.stream().mapToLong(c -> c.counters().pageHits()).sum() > hits);
    assertEquals(gets, cell.world.bucket().getsApplied(), "the second pass read nothing from the bucket");
    assertEquals(0, cell.frontend().data().objects().direct());
  }

  @Test
  void withEveryCacheyNodeDownSegmentsAreReadFromTheBucket() {
    List<String> expected = writeSegments();
    for (SimProcess p : cell.world.processes()) {
      if (p.id().value().startsWith("cachey-")) {
        p.crash();
      }
    }
    assertEquals(expected, readAll(expected.size()));
    assertTrue(cell.frontend().data().objects().direct() > 0);
    assertTrue(cell.frontend().data().objects().failovers() >= 2 * cell.frontend().data().objects().direct());
  }
}
