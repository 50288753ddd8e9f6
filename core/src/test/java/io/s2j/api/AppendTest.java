package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.Header;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AppendTest {
  private static final ResolvedStreamConfig PREFER = ResolvedStreamConfig.SYSTEM_DEFAULTS;
  private static final ResolvedStreamConfig REQUIRE = config(TimestampingMode.CLIENT_REQUIRE, false);
  private static final long NOW_MS = 1_000_000;

  private static ResolvedStreamConfig config(TimestampingMode mode, boolean uncapped) {
    return new StreamConfigSpec(null, null, mode, uncapped, null).resolve(StreamConfigSpec.EMPTY);
  }

  private static AppendRecord rec(String body) {
    return AppendRecord.of(body);
  }

  private static AppendRecord rec(Long timestampMs, String body) {
    return new AppendRecord(timestampMs, List.of(), ByteString.copyFromUtf8(body));
  }

  private static AppendInput input(Long matchSeqNum, String token, AppendRecord... records) {
    return new AppendInput(AppendBatch.validate(List.of(records)).orThrow(), matchSeqNum, token);
  }

  private static String invalid(List<AppendRecord> records) {
    return assertInstanceOf(Checked.Invalid.class, AppendBatch.validate(records)).message();
  }

  /** Appends and returns the sequenced step, failing the test on a rejection. */
  private static AppendStep.Sequenced ok(StreamState s, AppendInput in, ResolvedStreamConfig c) {
    return assertInstanceOf(AppendStep.Sequenced.class, s.append(in, c, null, NOW_MS));
  }

  @Test
  void case66_threeRecordsAckZeroToThree() {
    AppendStep.Sequenced s = ok(StreamState.INITIAL, input(null, null, rec("record 1"), rec("record 2"), rec("record 3")), PREFER);
    AppendAck ack = s.ack(s.next().tail());
    assertEquals(0, ack.start().seqNum());
    assertEquals(3, ack.end().seqNum());
    assertEquals(3, ack.tail().seqNum());
    assertEquals(List.of(0L, 1L, 2L), s.records().stream().map(SequencedRecord::seqNum).toList());
  }

  @Test
  void case68to71_fencingSequence() {
    StreamState s0 = StreamState.INITIAL;
    AppendStep.Sequenced a = ok(s0, input(null, "", rec("matched token")), PREFER);
    assertEquals(new StreamPosition(0, a.start().timestamp()), a.start());
    assertEquals(1, a.end().seqNum());
    AppendStep.Sequenced b = ok(a.next(), input(1L, "", Command.toRecord(new Command.Fence("updated-token"))), PREFER);
    assertEquals(1, b.start().seqNum());
    assertEquals(2, b.end().seqNum());
    assertEquals("updated-token", b.next().fencingToken());
    assertEquals(new AppendResult.FencingTokenMismatch("updated-token"),
        b.next().append(input(2L, "", rec("mismatched token")), PREFER, null, NOW_MS));
    AppendStep.Sequenced d = ok(b.next(), input(2L, "updated-token", rec("updated token accepted")), PREFER);
    assertEquals(2, d.start().seqNum());
    assertEquals(3, d.end().seqNum());
  }

  @Test
  void case73_fenceAsFirstAppendAppliesToLaterBatches() {
    AppendStep.Sequenced a = ok(StreamState.INITIAL, input(null, "", Command.toRecord(new Command.Fence("updated-token"))), PREFER);
    assertEquals(0, a.start().seqNum());
    assertEquals(new AppendResult.FencingTokenMismatch("updated-token"),
        a.next().append(input(1L, "", rec("x")), PREFER, null, NOW_MS));
    assertEquals(1, ok(a.next(), input(1L, "updated-token", rec("x")), PREFER).start().seqNum());
  }

  @Test
  void conditionsAreCheckedAgainstTheStateBeforeTheBatch() {
    // a batch that fences must still present the old token; its later records do not see the new one
    AppendStep.Sequenced a = ok(StreamState.INITIAL,
        input(null, "", Command.toRecord(new Command.Fence("new")), rec("after fence")), PREFER);
    assertEquals("new", a.next().fencingToken());
    assertEquals(2, a.records().size());
    // fencing is checked before match_seq_num
    assertEquals(new AppendResult.FencingTokenMismatch("new"), a.next().append(input(7L, "old", rec("x")), PREFER, null, NOW_MS));
    // an empty fence clears the token
    AppendStep.Sequenced c = ok(a.next(), input(null, "new", Command.toRecord(new Command.Fence(""))), PREFER);
    assertEquals("", c.next().fencingToken());
    // absent token: no check
    ok(c.next(), input(null, null, rec("x")), PREFER);
  }

  @Test
  void case74and75_clientRequireRejectsWholeBatchWithoutConsumingSeqNums() {
    AppendStep r = StreamState.INITIAL.append(input(null, null, rec("no timestamp")), REQUIRE, null, NOW_MS);
    assertEquals(new AppendResult.Failed(S2Error.invalid("record timestamp was required but was missing")), r);
    // even if only one of several records lacks one
    assertInstanceOf(AppendResult.Failed.class,
        StreamState.INITIAL.append(input(null, null, rec(1L, "a"), rec("b")), REQUIRE, null, NOW_MS));
    AppendStep.Sequenced ok = ok(StreamState.INITIAL, input(null, null, rec(123L, "with")), REQUIRE);
    assertEquals(0, ok.start().seqNum());
    assertEquals(1, ok.end().seqNum());
    assertEquals(123, ok.start().timestamp());
  }

  @Test
  void case76and77_matchSeqNum() {
    AppendStep.Sequenced a = ok(StreamState.INITIAL, input(0L, null, rec("a")), PREFER);
    assertEquals(0, a.start().seqNum());
    AppendStep.Sequenced b = ok(a.next(), input(1L, null, rec("b")), PREFER);
    assertEquals(1, b.start().seqNum());
    assertEquals(new AppendResult.SeqNumMismatch(2), b.next().append(input(0L, null, rec("c")), PREFER, null, NOW_MS));
    // a u64 above 2^63 - 1 never matches
    assertEquals(new AppendResult.SeqNumMismatch(2), b.next().append(input(-1L, null, rec("c")), PREFER, null, NOW_MS));
    StreamState one = ok(StreamState.INITIAL, input(null, null, rec("x")), PREFER).next();
    assertEquals(new AppendResult.SeqNumMismatch(1), one.append(input(0L, null, rec("y")), PREFER, null, NOW_MS));
  }

  @Test
  void case152_clientTimestampsAtSeq100() {
    StreamState s = new StreamState(new StreamPosition(100, 0), "", 0);
    AppendStep.Sequenced r = ok(s, input(null, null, rec(900L, "a"), rec(950L, "b")), PREFER);
    assertEquals(List.of(new StreamPosition(100, 900), new StreamPosition(101, 950)),
        r.records().stream().map(x -> new StreamPosition(x.seqNum(), x.timestamp())).toList());
  }

  @Test
  void case153and155_arrivalTimeFillsIn() {
    AppendStep.Sequenced prefer = ok(StreamState.INITIAL, input(null, null, rec("a"), rec("b")), PREFER);
    assertEquals(List.of(NOW_MS, NOW_MS), prefer.records().stream().map(SequencedRecord::timestamp).toList());
    AppendStep.Sequenced arrival = ok(StreamState.INITIAL,
        input(null, null, rec(900L, "a"), rec(950L, "b")), config(TimestampingMode.ARRIVAL, false));
    assertEquals(List.of(NOW_MS, NOW_MS), arrival.records().stream().map(SequencedRecord::timestamp).toList());
  }

  @Test
  void section7_3_examples() {
    // case 156: 1000, 900, 1100 in one batch
    assertEquals(List.of(1000L, 1000L, 1100L),
        Timestamps.assign(List.of(rec(1000L, ""), rec(900L, ""), rec(1100L, "")), TimestampingMode.CLIENT_PREFER, false, NOW_MS, 0).orThrow());
    // case 157: 500, 600 after a record stamped 1000
    StreamState after1000 = ok(StreamState.INITIAL, input(null, null, rec(1000L, "x")), PREFER).next();
    AppendStep.Sequenced r = ok(after1000, input(null, null, rec(500L, "a"), rec(600L, "b")), PREFER);
    assertEquals(List.of(1000L, 1000L), r.records().stream().map(SequencedRecord::timestamp).toList());
    // case 158: capped to now
    assertEquals(List.of(NOW_MS),
        Timestamps.assign(List.of(rec(NOW_MS + 10_000, "")), TimestampingMode.CLIENT_PREFER, false, NOW_MS, 0).orThrow());
    // case 159 and the far future: verbatim when uncapped, then it floors later records
    ResolvedStreamConfig uncapped = config(TimestampingMode.CLIENT_PREFER, true);
    long farMs = NOW_MS * 1000;
    AppendStep.Sequenced far = ok(StreamState.INITIAL, input(null, null, rec(farMs, "far"), rec("now")), uncapped);
    assertEquals(List.of(farMs, farMs), far.records().stream().map(SequencedRecord::timestamp).toList());
    assertEquals(farMs, ok(far.next(), input(null, null, rec(5L, "later")), uncapped).start().timestamp());
  }

  @Test
  void case160_seqNumsFrom42() {
    StreamState s = new StreamState(new StreamPosition(42, 0), "", 0);
    AppendStep.Sequenced r = ok(s, input(null, null, rec("a"), rec("b"), rec("c")), PREFER);
    assertEquals(List.of(42L, 43L, 44L), r.records().stream().map(SequencedRecord::seqNum).toList());
    assertEquals(new StreamPosition(45, NOW_MS), r.next().tail());
  }

  @Test
  void case161_aesGcmSeqNumLimitExemptsCommands() {
    long max = StreamCipher.AES_256_GCM_SEQ_NUM_MAX;
    StreamState atLimit = new StreamState(new StreamPosition(max + 1, 0), "", 0);
    AppendStep r = atLimit.append(input(null, null, rec("secret")), PREFER, StreamCipher.AES_256_GCM, NOW_MS);
    AppendResult.SeqNumLimitExceeded e = assertInstanceOf(AppendResult.SeqNumLimitExceeded.class, r);
    assertEquals("max assignable sequence number is 4294967295; attempted 4294967296", e.toError().message());
    ok(atLimit, input(null, null, Command.toRecord(new Command.Fence("t"))), PREFER);
    assertInstanceOf(AppendStep.Sequenced.class,
        atLimit.append(input(null, null, Command.toRecord(new Command.Fence("t"))), PREFER, StreamCipher.AES_256_GCM, NOW_MS));
    assertInstanceOf(AppendStep.Sequenced.class,
        atLimit.append(input(null, null, rec("x")), PREFER, StreamCipher.AEGIS_256, NOW_MS));
    StreamState below = new StreamState(new StreamPosition(max, 0), "", 0);
    assertInstanceOf(AppendStep.Sequenced.class,
        below.append(input(null, null, rec("x")), PREFER, StreamCipher.AES_256_GCM, NOW_MS));
  }

  @Test
  void section7_5_trimFormula() {
    assertEquals(5, StreamState.trimPointAfter(0, 5, 10)); // below itself
    assertEquals(11, StreamState.trimPointAfter(0, 100, 10)); // may remove itself, nothing after
    assertEquals(7, StreamState.trimPointAfter(7, 3, 10)); // never backwards
    assertEquals(11, StreamState.trimPointAfter(0, -1L, 10)); // u64 max payload
    assertEquals(0, StreamState.trimPointAfter(0, 0, 0));
    // through append: a trim to 42 at seq 1 trims to 2; then a trim to 1 leaves 2
    AppendStep.Sequenced a = ok(StreamState.INITIAL, input(null, null, rec("a"), Command.toRecord(new Command.Trim(42))), PREFER);
    assertEquals(2, a.next().trimPoint());
    assertEquals(2, ok(a.next(), input(null, null, Command.toRecord(new Command.Trim(1))), PREFER).next().trimPoint());
    assertEquals(new StreamPosition(2, NOW_MS), a.next().tail()); // the tail is not affected
  }

  @Test
  void case167_and170_batchValidationMessages() {
    assertEquals("record batch must not be empty", invalid(List.of()));
    List<AppendRecord> many = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      many.add(rec(""));
    }
    assertEquals("record batch must not exceed 1000 records", invalid(many));
    assertInstanceOf(Checked.Ok.class, AppendBatch.validate(many.subList(0, 1000)));
    AppendRecord exactlyMiB = rec("x".repeat(1024 * 1024 - 8));
    assertEquals(1024 * 1024, exactlyMiB.meteredBytes());
    assertInstanceOf(Checked.Ok.class, AppendBatch.validate(List.of(exactlyMiB)));
    assertEquals("record must have metered size less than 1 MiB", invalid(List.of(rec("x".repeat(1024 * 1024 - 7)))));
    assertEquals("record batch must not exceed a metered size of 1 MiB", invalid(List.of(exactlyMiB, rec(""))));
    ByteString empty = ByteString.EMPTY;
    assertEquals("unknown command", invalid(List.of(new AppendRecord(null, List.of(Header.of("", "hi")), empty))));
    assertEquals("invalid header: empty name",
        invalid(List.of(new AppendRecord(null, List.of(Header.of("", "fence"), Header.of("a", "b")), empty))));
    assertEquals("earliest sequence number to trim to was 4 bytes, must be 8",
        invalid(List.of(new AppendRecord(null, List.of(Header.of("", "trim")), ByteString.copyFrom(new byte[4])))));
    assertTrue(invalid(List.of(new AppendRecord(null, List.of(Header.of("", "fence")),
        ByteString.copyFromUtf8("x".repeat(40))))).contains("fencing token"));
  }

  @Test
  void recordsAreCheckedBeforeTheBatch() {
    // a malformed record is reported even in a batch that is also too big
    List<AppendRecord> many = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      many.add(rec(""));
    }
    many.set(500, new AppendRecord(null, List.of(Header.of("", "hi")), ByteString.EMPTY));
    assertEquals("unknown command", invalid(many));
  }

  @Test
  void ackTailIsAtLeastEnd() {
    AppendStep.Sequenced a = ok(StreamState.INITIAL, input(null, null, rec("a")), PREFER);
    AppendAck ack = a.ack(new StreamPosition(5, NOW_MS));
    assertEquals(new StreamPosition(5, NOW_MS), ack.tail());
    assertTrue(ack.definite());
    assertEquals(false, new AppendResult.Failed(S2Error.streamerMissingInAction()).definite());
    assertEquals(true, new AppendResult.Failed(S2Error.invalid("x")).definite());
  }
}
