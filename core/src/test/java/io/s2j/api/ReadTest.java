package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.record.AppendRecord;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ReadTest {
  private static final long NOW_MS = 1_000_000;
  private static final ResolvedStreamConfig REQUIRE =
      new StreamConfigSpec(null, null, TimestampingMode.CLIENT_REQUIRE, null, null).resolve(StreamConfigSpec.EMPTY);

  /** A stream built by single-record appends with the given timestamps and bodies. */
  private record Stream(List<SequencedRecord> records, StreamPosition tail) {
    static Stream of(long[] timestampsMs, String... bodies) {
      StreamState s = StreamState.INITIAL;
      List<SequencedRecord> out = new ArrayList<>();
      for (int i = 0; i < bodies.length; i++) {
        AppendRecord r = new AppendRecord(timestampsMs[i], List.of(), ByteString.copyFromUtf8(bodies[i]));
        AppendStep.Sequenced step = (AppendStep.Sequenced) s.append(
            AppendInput.of(AppendBatch.validate(List.of(r)).orThrow()), REQUIRE, null, NOW_MS);
        out.addAll(step.records());
        s = step.next();
      }
      return new Stream(List.copyOf(out), s.tail());
    }

    ReadRules.TimestampIndex index() {
      return t -> records.stream().filter(r -> r.timestamp() >= t).mapToLong(SequencedRecord::seqNum).findFirst();
    }

    StartResolution start(ReadFrom from, boolean clamp, ReadEnd end) {
      return ReadRules.resolveStart(from, clamp, tail, end.mayFollow(), index());
    }

    /** The bodies a catch-up read from {@code from} delivers under {@code end}. */
    List<String> read(ReadFrom from, ReadEnd end) {
      long start = assertInstanceOf(StartResolution.Start.class, start(from, false, end)).seqNum();
      List<SequencedRecord> rest = records.subList((int) start, records.size());
      return ReadBudget.of(end).take(rest).delivered().stream().map(r -> r.body().toStringUtf8()).toList();
    }
  }

  private static long[] ts(long... t) {
    return t;
  }

  private static long m(String body) {
    return 8 + body.length();
  }

  private static final ReadEnd WAIT_0 = new ReadEnd(null, null, null, 0L);

  @Test
  void case146_startValidation() {
    assertEquals(Checked.invalid(ReadRules.TIMESTAMP_NOT_BEFORE_UNTIL), ReadRules.validateStart(null, 5L, null, 5L));
    assertEquals("start `timestamp` exceeds or equal to `until`", ReadRules.TIMESTAMP_NOT_BEFORE_UNTIL);
    assertEquals(Checked.invalid("only one of seq_num, timestamp, or tail_offset can be provided"),
        ReadRules.validateStart(1L, null, 2L, null));
    assertEquals(Checked.invalid(ReadRules.ONE_START_ONLY), ReadRules.validateStart(1L, 2L, null, null));
    assertEquals(Checked.ok(ReadFrom.TAIL), ReadRules.validateStart(null, null, null, null));
    assertEquals(Checked.ok(new ReadFrom.Timestamp(4)), ReadRules.validateStart(null, 4L, null, 5L));
    // until is a u64: 2^64 - 1 is above every timestamp
    assertEquals(Checked.ok(new ReadFrom.Timestamp(2001)), ReadRules.validateStart(null, 2001L, null, -1L));
  }

  @Test
  void section8_3_mayFollow() {
    assertTrue(ReadEnd.UNBOUNDED.mayFollow());
    assertTrue(WAIT_0.mayFollow()); // no bounds: follows (and ends at once)
    assertEquals(false, new ReadEnd(10L, null, null, null).mayFollow());
    assertEquals(false, new ReadEnd(null, null, 5L, 0L).mayFollow());
    assertTrue(new ReadEnd(10L, null, null, 1L).mayFollow());
    // unary reads always have bounds, so they follow only with a wait
    assertEquals(false, ReadEnd.UNBOUNDED.forUnary().mayFollow());
    assertTrue(new ReadEnd(null, null, null, 1L).forUnary().mayFollow());
  }

  @Test
  void section8_4_unaryCaps() {
    assertEquals(new ReadEnd(1000L, 1024L * 1024, null, null), ReadEnd.UNBOUNDED.forUnary());
    assertEquals(new ReadEnd(5L, 100L, 7L, 60L), new ReadEnd(5L, 100L, 7L, 3600L).forUnary());
    assertEquals(new ReadEnd(1000L, 1024L * 1024, null, 0L), new ReadEnd(-1L, 2_000_000L, null, 0L).forUnary());
  }

  @Test
  void case91and93_catchUpFromZero() {
    Stream s = Stream.of(ts(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
        "record-0", "record-1", "record-2", "record-3", "record-4", "record-5", "record-6", "record-7", "record-8", "record-9");
    assertEquals(10, s.read(new ReadFrom.SeqNum(0), WAIT_0).size());
    assertEquals(List.of("record-0", "record-1", "record-2", "record-3", "record-4"),
        s.read(new ReadFrom.SeqNum(0), new ReadEnd(5L, null, null, null)));
  }

  @Test
  void case94and95_beyondTheTail() {
    Stream s = Stream.of(ts(1), "x");
    assertEquals(new StartResolution.Unsatisfiable(s.tail()), s.start(new ReadFrom.SeqNum(100), false, ReadEnd.UNBOUNDED));
    assertEquals(new StartResolution.Start(1), s.start(new ReadFrom.SeqNum(100), true, WAIT_0));
    // a u64 above 2^63 - 1 is beyond any tail too
    assertEquals(new StartResolution.Unsatisfiable(s.tail()), s.start(new ReadFrom.SeqNum(-1L), false, ReadEnd.UNBOUNDED));
  }

  @Test
  void case96to99_atTheTailWithoutFollowingIs416EvenWithClamp() {
    Stream s = Stream.of(ts(1000, 2000), "a", "b");
    StartResolution.Unsatisfiable at416 = new StartResolution.Unsatisfiable(new StreamPosition(2, 2000));
    ReadEnd count10 = new ReadEnd(10L, null, null, null);
    assertEquals(at416, s.start(ReadFrom.TAIL, false, count10)); // 96
    assertEquals(at416, s.start(new ReadFrom.SeqNum(2), false, new ReadEnd(10L, null, null, 0L))); // 97
    assertEquals(at416, s.start(new ReadFrom.Timestamp(2001), false, new ReadEnd(null, null, -1L, null))); // 98
    assertEquals(at416, s.start(new ReadFrom.Timestamp(2001), true, count10)); // 99
    assertEquals(at416, s.start(new ReadFrom.SeqNum(100), true, count10));
    // with a wait it may follow, so it starts at the tail
    assertEquals(new StartResolution.Start(2), s.start(new ReadFrom.Timestamp(2001), true, new ReadEnd(10L, null, null, 1L)));
  }

  @Test
  void timestampStartFoundAtTheTailBySearchIsNot416() {
    Stream s = Stream.of(ts(1000, 2000), "a", "b");
    ReadRules.TimestampIndex none = t -> OptionalLong.empty();
    assertEquals(new StartResolution.Start(2),
        ReadRules.resolveStart(new ReadFrom.Timestamp(2000), false, s.tail(), false, none));
    assertEquals(new StartResolution.Start(1), s.start(new ReadFrom.Timestamp(1500), false, new ReadEnd(1L, null, null, null)));
    // empty stream, timestamp 0: resolves to the tail by search
    assertEquals(new StartResolution.Start(0),
        ReadRules.resolveStart(new ReadFrom.Timestamp(0), false, StreamPosition.ZERO, false, none));
  }

  @Test
  void case100_tailOffset() {
    Stream s = Stream.of(ts(1, 2, 3, 4, 5), "record 1", "record 2", "record 3", "record 4", "record 5");
    assertEquals(List.of("record 4", "record 5"), s.read(new ReadFrom.TailOffset(2), WAIT_0));
    assertEquals(5, s.read(new ReadFrom.TailOffset(99), WAIT_0).size()); // saturates at 0
    assertEquals(5, s.read(new ReadFrom.TailOffset(-1L), WAIT_0).size()); // u64 max
  }

  @Test
  void case101_equalTimestamps() {
    Stream s = Stream.of(ts(1000, 1000, 1000), "dup-1", "dup-2", "dup-3");
    assertEquals(List.of("dup-1", "dup-2", "dup-3"), s.read(new ReadFrom.Timestamp(1000), WAIT_0));
  }

  @Test
  void case104to107_bytesAndCountLimits() {
    Stream s = Stream.of(ts(1, 2, 3), "record-1", "record-2", "record-3");
    assertEquals(List.of("record-1", "record-2"),
        s.read(new ReadFrom.SeqNum(0), new ReadEnd(null, m("record-1") + m("record-2"), null, null))); // 104
    Stream o = Stream.of(ts(1), "oversized");
    assertEquals(List.of(), o.read(new ReadFrom.SeqNum(0), new ReadEnd(null, m("oversized") - 1, null, null))); // 105
    long[] t20 = new long[20];
    String[] b20 = new String[20];
    for (int i = 0; i < 20; i++) {
      t20[i] = i;
      b20[i] = "r-" + i;
    }
    assertEquals(5, Stream.of(t20, b20).read(new ReadFrom.SeqNum(0), new ReadEnd(5L, 1_000_000L, null, null)).size()); // 106
    Stream slots = Stream.of(ts(1, 2, 3, 4, 5), "slot-0", "slot-1", "slot-2", "slot-3", "slot-4");
    assertEquals(List.of("slot-0", "slot-1", "slot-2"),
        slots.read(new ReadFrom.SeqNum(0), new ReadEnd(100L, 3 * m("slot-0"), null, null))); // 107
  }

  @Test
  void countZeroDeliversNothing() {
    Stream s = Stream.of(ts(1), "a");
    ReadBudget.Taken t = ReadBudget.of(new ReadEnd(0L, null, null, null)).take(s.records());
    assertEquals(List.of(), t.delivered());
    assertTrue(t.ended());
    assertEquals(List.of(), ReadBudget.of(new ReadEnd(null, 0L, null, null)).take(s.records()).delivered());
  }

  @Test
  void case108to110_untilIsExclusive() {
    Stream s = Stream.of(ts(1000, 2000, 2000, 3000), "ts-1000", "ts-2000-a", "ts-2000-b", "ts-3000");
    assertEquals(List.of(), s.read(new ReadFrom.SeqNum(0), new ReadEnd(null, null, 500L, null)));
    assertEquals(List.of("ts-1000"), s.read(new ReadFrom.SeqNum(0), new ReadEnd(null, null, 2000L, null)));
    assertEquals(4, s.read(new ReadFrom.SeqNum(0), new ReadEnd(null, null, 5000L, null)).size());
  }

  @Test
  void case111to114_untilWithCountAndBytes() {
    Stream s = Stream.of(ts(1000, 2000, 3000, 4000, 5000), "ts-1000", "ts-2000", "ts-3000", "ts-4000", "ts-5000");
    ReadFrom zero = new ReadFrom.SeqNum(0);
    long m = m("ts-1000");
    assertEquals(List.of("ts-1000", "ts-2000"), s.read(zero, new ReadEnd(2L, null, 5000L, null)));
    assertEquals(List.of("ts-1000", "ts-2000", "ts-3000"), s.read(zero, new ReadEnd(10L, null, 3500L, null)));
    assertEquals(List.of("ts-1000", "ts-2000"), s.read(zero, new ReadEnd(null, 2 * m, 5000L, null)));
    assertEquals(List.of("ts-1000", "ts-2000", "ts-3000"), s.read(zero, new ReadEnd(null, 100 * m, 3500L, null)));
  }

  @Test
  void case115_timestampRange() {
    Stream s = Stream.of(ts(500, 2000, 2000, 2500, 3500, 4500, 5500),
        "ts-500", "ts-2000-a", "ts-2000-b", "ts-2500", "ts-3500", "ts-4500", "ts-5500");
    assertEquals(List.of("ts-2000-a", "ts-2000-b", "ts-2500", "ts-3500"),
        s.read(new ReadFrom.Timestamp(2000), new ReadEnd(null, null, 4500L, null)));
  }

  @Test
  void budgetCarriesOverTheWholeSession() {
    // case 124: count 3, one record caught up, then a live batch of three is truncated to two
    Stream s = Stream.of(ts(1, 2, 3, 4), "initial", "follow-1", "follow-2", "follow-3");
    ReadBudget.Taken first = ReadBudget.of(new ReadEnd(3L, null, null, 3L)).take(s.records().subList(0, 1));
    assertEquals(false, first.ended());
    ReadBudget.Taken live = first.left().take(s.records().subList(1, 4));
    assertEquals(List.of("follow-1", "follow-2"), live.delivered().stream().map(r -> r.body().toStringUtf8()).toList());
    assertTrue(live.ended());
    // case 128: a bytes bound below the next record ends the session with nothing delivered
    ReadBudget.Taken none = ReadBudget.of(new ReadEnd(null, m("item-01") - 1, null, 2L)).take(s.records().subList(1, 2));
    assertEquals(List.of(), none.delivered());
    assertTrue(none.ended());
  }

  @Test
  void batchesHoldAtMost1000RecordsAnd1MiB() {
    List<SequencedRecord> small = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      small.add(new SequencedRecord(i, 0, List.of(), ByteString.EMPTY));
    }
    assertEquals(List.of(1000, 1000, 500), ReadRules.splitBatches(small).stream().map(List::size).toList());
    ByteString half = ByteString.copyFrom(new byte[512 * 1024]);
    List<SequencedRecord> big = List.of(
        new SequencedRecord(0, 0, List.of(), half), new SequencedRecord(1, 0, List.of(), half),
        new SequencedRecord(2, 0, List.of(), ByteString.copyFrom(new byte[1024 * 1024 - 8])));
    assertEquals(List.of(1, 1, 1), ReadRules.splitBatches(big).stream().map(List::size).toList());
    assertEquals(List.of(), ReadRules.splitBatches(List.of()));
  }
}
