package io.s2j.checker.s2;

import static io.s2j.checker.s2.S2StreamModelTest.append;
import static io.s2j.checker.s2.S2StreamModelTest.body;
import static io.s2j.checker.s2.S2StreamModelTest.fence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.checker.Operation;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * {@link S2StreamModel} under the project's checker ({@link io.s2j.checker.Linearizability}),
 * cross-checked on every history against an exhaustive search ({@link BruteForceLinearizability}).
 */
class S2StreamLinearizabilityTest {
  private static final S2StreamModel MODEL = new S2StreamModel();

  static boolean linearizable(List<Operation> history) {
    io.s2j.checker.CheckResult result = io.s2j.checker.Linearizability.check(MODEL, history);
    org.junit.jupiter.api.Assertions.assertNotEquals(io.s2j.checker.Verdict.UNKNOWN, result.verdict());
    boolean found = result.verdict() == io.s2j.checker.Verdict.LINEARIZABLE;
    org.junit.jupiter.api.Assertions.assertEquals(BruteForceLinearizability.check(MODEL, history), found,
        "the checker and the exhaustive search disagree: " + result.explanation());
    return found;
  }

  /** Through the file format, as a real run's history would go. */
  private static List<Operation> viaJsonl(List<S2Event> events) {
    return S2Jsonl.operations(S2Jsonl.parse(S2Jsonl.toBytes(events)));
  }

  // ------------------------------------------------------------ generated histories

  @Property(tries = 400)
  void historiesOfACorrectStreamAreLinearizable(@ForAll long seed) {
    List<S2Event> events = StreamWorkload.generate(seed, 8);
    assertEquals(events, S2Jsonl.parse(S2Jsonl.toBytes(events)));
    List<Operation> ops = viaJsonl(events);
    assertTrue(linearizable(ops), () -> "seed " + seed + ":\n" + describe(ops));
  }

  @Property(tries = 400)
  void aReadWithACorruptedHashIsNotLinearizable(@ForAll long seed) {
    List<Operation> ops = viaJsonl(StreamWorkload.generate(seed, 8));
    List<Operation> corrupted = new ArrayList<>(ops);
    int last = lastRead(ops);
    Operation read = ops.get(last);
    ReadOutput seen = (ReadOutput) read.output();
    corrupted.set(last, new Operation(read.id(), read.process(), read.invokeTime(), read.completeTime(),
        read.input(), new ReadOutput(seen.tail(), seen.streamHash() ^ (1L << (seed & 63))), false));
    assertTrue(linearizable(ops), () -> "seed " + seed);
    assertFalse(linearizable(corrupted), () -> "seed " + seed + ":\n" + describe(corrupted));
  }

  @Property(tries = 200)
  void aReadMissingTheLastRecordOfItsStreamIsNotLinearizable(@ForAll long seed) {
    // the same tail with a hash of fewer records (a lost record, then something else in its place)
    List<Operation> ops = viaJsonl(StreamWorkload.generate(seed, 8));
    int last = lastRead(ops);
    Operation read = ops.get(last);
    ReadOutput seen = (ReadOutput) read.output();
    net.jqwik.api.Assume.that(seen.tail() > 0);
    List<Operation> corrupted = new ArrayList<>(ops);
    corrupted.set(last, new Operation(read.id(), read.process(), read.invokeTime(), read.completeTime(),
        read.input(), new ReadOutput(seen.tail(), StreamHash.chain(seen.streamHash(), body("intruder"))), false));
    assertFalse(linearizable(corrupted), () -> "seed " + seed + ":\n" + describe(corrupted));
  }

  /** The generated histories are not trivially sequential: the properties above test something. */
  @Test
  void theWorkloadCoversConcurrencyIndefiniteAppendsAndConditions() {
    int concurrent = 0;
    int indefinite = 0;
    int conditional = 0;
    int fences = 0;
    int seeds = 200;
    for (long seed = 0; seed < seeds; seed++) {
      List<Operation> ops = viaJsonl(StreamWorkload.generate(seed, 8));
      concurrent += hasOverlap(ops) ? 1 : 0;
      indefinite += ops.stream().anyMatch(Operation::indefinite) ? 1 : 0;
      conditional += ops.stream().anyMatch(o -> !o.indefinite() && o.input() instanceof AppendInput a
          && (a.matchSeqNum() != null || a.fencingToken() != null)) ? 1 : 0;
      fences += ops.stream().anyMatch(o -> !o.indefinite() && o.input() instanceof AppendInput a
          && a.setFencingToken() != null) ? 1 : 0;
    }
    assertTrue(concurrent > seeds / 2, "concurrent " + concurrent);
    assertTrue(indefinite > seeds / 4, "indefinite " + indefinite);
    assertTrue(conditional > seeds / 4, "acknowledged conditional appends " + conditional);
    assertTrue(fences > seeds / 10, "acknowledged fences " + fences);
  }

  private static int lastRead(List<Operation> ops) {
    for (int i = ops.size() - 1; i >= 0; i--) {
      if (ops.get(i).output() instanceof ReadOutput) {
        return i;
      }
    }
    throw new AssertionError("the workload ends with a successful read");
  }

  private static boolean hasOverlap(List<Operation> ops) {
    for (Operation a : ops) {
      for (Operation b : ops) {
        if (a != b && a.invokeTime() < b.invokeTime() && b.invokeTime() < a.completeTime()) {
          return true;
        }
      }
    }
    return false;
  }

  private static String describe(List<Operation> ops) {
    StringBuilder s = new StringBuilder();
    for (Operation op : ops) {
      s.append("  [").append(op.invokeTime()).append(", ")
          .append(op.completeTime() == Long.MAX_VALUE ? "∞" : Long.toString(op.completeTime())).append("] ")
          .append(MODEL.describe(op)).append('\n');
    }
    return s.toString();
  }

  // ------------------------------------------------------------ hand-made histories

  @Test
  void theBruteForceRespectsRealTime() {
    // two one-record appends acknowledged with ends 2 and 1: fine if they overlap, not if in sequence
    AppendInput a = append(List.of("a"), null, null, null);
    AppendInput b = append(List.of("b"), null, null, null);
    S2HistoryRecorder overlapping = new S2HistoryRecorder();
    overlapping.start(1, a);
    overlapping.start(2, b);
    overlapping.finish(1, new AppendOutput(2));
    overlapping.finish(2, new AppendOutput(1));
    assertTrue(linearizable(viaJsonl(overlapping.events())));
    S2HistoryRecorder sequential = new S2HistoryRecorder();
    sequential.start(1, a);
    sequential.finish(1, new AppendOutput(2));
    sequential.start(2, b);
    sequential.finish(2, new AppendOutput(1));
    assertFalse(linearizable(viaJsonl(sequential.events())));
  }

  @Test
  void anAppendWithAStaleFencingTokenIsNotLinearizable() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    r.start(1, fence("a", 0L));
    r.finish(1, new AppendOutput(1));
    r.start(2, append(List.of("x"), null, "b", null));
    r.finish(2, new AppendOutput(2));
    assertFalse(linearizable(viaJsonl(r.events())));

    // superseded writer: its token was replaced before its append started
    S2HistoryRecorder s = new S2HistoryRecorder();
    s.start(1, fence("a", null));
    s.finish(1, new AppendOutput(1));
    s.start(2, fence("b", null));
    s.finish(2, new AppendOutput(2));
    s.start(1, append(List.of("x"), null, "a", null));
    s.finish(1, new AppendOutput(3));
    assertFalse(linearizable(viaJsonl(s.events())));
  }

  @Test
  void fencingTokensAgainstAConcurrentFence() {
    // the append may go after the fence: its token must be the new one
    for (String token : List.of("a", "")) {
      S2HistoryRecorder r = new S2HistoryRecorder();
      r.start(1, fence("a", null));
      r.start(2, append(List.of("x"), null, token, null));
      r.finish(1, new AppendOutput(token.isEmpty() ? 2 : 1));
      r.finish(2, new AppendOutput(token.isEmpty() ? 1 : 2));
      // "a": append after the fence; "": before it (the initial token is "" in S2)
      assertTrue(linearizable(viaJsonl(r.events())), token);
    }
    S2HistoryRecorder wrongOrder = new S2HistoryRecorder();
    wrongOrder.start(1, fence("a", null));
    wrongOrder.start(2, append(List.of("x"), null, "a", null));
    wrongOrder.finish(1, new AppendOutput(2)); // fence second...
    wrongOrder.finish(2, new AppendOutput(1)); // ...so the append saw token "", not "a"
    assertFalse(linearizable(viaJsonl(wrongOrder.events())));
  }

  @Test
  void anIndefiniteAppendThatTookEffectLateIsLinearizable() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    AppendInput late = append(List.of("late1", "late2"), null, null, null);
    r.start(1, late);
    r.fail(1, false);                  // client 1 gives up...
    r.start(2, CheckTailInput.INSTANCE);
    r.finish(2, new CheckTailOutput(0)); // ...nothing there yet...
    r.start(3, ReadInput.INSTANCE);
    long hash = StreamHash.fold(0, late.recordHashes());
    r.finish(3, new ReadOutput(2, hash)); // ...then it landed
    r.start(2, append(List.of("next"), 2L, null, null));
    r.finish(2, new AppendOutput(3));
    List<Operation> ops = viaJsonl(r.events());
    assertTrue(ops.get(0).indefinite());
    assertTrue(linearizable(ops));

    // and one that never took effect is fine too
    S2HistoryRecorder never = new S2HistoryRecorder();
    never.start(1, late);
    never.fail(1, false);
    never.start(2, ReadInput.INSTANCE);
    never.finish(2, new ReadOutput(0, 0));
    assertTrue(linearizable(viaJsonl(never.events())));
  }

  @Test
  void anIndefiniteAppendCannotTakeEffectAgainstItsConditions() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    AppendInput guarded = append(List.of("g"), 5L, null, null); // tail is never 5
    r.start(1, guarded);
    r.fail(1, false);
    r.start(2, ReadInput.INSTANCE);
    r.finish(2, new ReadOutput(1, StreamHash.chain(0, body("g"))));
    assertFalse(linearizable(viaJsonl(r.events())));
  }

  @Test
  void aDefinitelyFailedAppendMustNotBeSeen() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    AppendInput a = append(List.of("ghost"), null, null, null);
    r.start(1, a);
    r.fail(1, true);
    r.start(1, ReadInput.INSTANCE);
    r.finish(1, new ReadOutput(1, StreamHash.chain(0, body("ghost"))));
    assertFalse(linearizable(viaJsonl(r.events())));
  }

  @Test
  void anAppendWithAStaleMatchSeqNumCannotSucceed() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    r.start(1, append(List.of("a"), 0L, null, null));
    r.start(2, append(List.of("b"), 0L, null, null));
    r.finish(1, new AppendOutput(1));
    r.finish(2, new AppendOutput(2)); // both matched 0: one of them must have been rejected
    assertFalse(linearizable(viaJsonl(r.events())));
    S2HistoryRecorder ok = new S2HistoryRecorder();
    ok.start(1, append(List.of("a"), 0L, null, null));
    ok.start(2, append(List.of("b"), 0L, null, null));
    ok.finish(1, new AppendOutput(1));
    ok.fail(2, true);
    assertTrue(linearizable(viaJsonl(ok.events())));
  }

  @Test
  void aStaleTailAfterAnAcknowledgedAppendIsNotLinearizable() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    r.start(1, append(List.of("a"), null, null, null));
    r.finish(1, new AppendOutput(1));
    r.start(2, CheckTailInput.INSTANCE);
    r.finish(2, new CheckTailOutput(0));
    assertFalse(linearizable(viaJsonl(r.events())));
  }
}
