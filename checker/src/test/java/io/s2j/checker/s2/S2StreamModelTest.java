package io.s2j.checker.s2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.checker.Operation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class S2StreamModelTest {
  private final S2StreamModel model = new S2StreamModel();

  static long body(String s) {
    return StreamHash.ofBody(s.getBytes(StandardCharsets.UTF_8));
  }

  static AppendInput append(List<String> bodies, Long matchSeqNum, String fencingToken, String setFencingToken) {
    return new AppendInput(bodies.stream().map(S2StreamModelTest::body).toList(), matchSeqNum, fencingToken, setFencingToken);
  }

  static AppendInput fence(String token, Long matchSeqNum) {
    return append(List.of(token), matchSeqNum, null, token);
  }

  static Operation done(S2Call input, S2Finish output) {
    return new Operation(0, 1, 0, 1, input, output, false);
  }

  static Operation indefinite(S2Call input) {
    return new Operation(0, 1, 0, Long.MAX_VALUE, input, null, true);
  }

  @Test
  void startsEmptyWithTheEmptyToken() {
    assertEquals(new S2StreamModel.State(0, 0, ""), model.init());
  }

  @Test
  void appendAdvancesTailAndChainsHash() {
    S2StreamModel.State s = model.step(model.init(), done(append(List.of("foo", "bar"), null, null, null), new AppendOutput(2)));
    assertEquals(new S2StreamModel.State(2, StreamHash.fold(0, List.of(body("foo"), body("bar"))), ""), s);
    // the ack's end must be the new tail
    assertNull(model.step(model.init(), done(append(List.of("foo", "bar"), null, null, null), new AppendOutput(1))));
    assertNull(model.step(model.init(), done(append(List.of("foo", "bar"), null, null, null), new AppendOutput(3))));
  }

  @Test
  void matchSeqNumIsAgainstTheTail() {
    S2StreamModel.State one = new S2StreamModel.State(1, StreamHash.chain(0, body("a")), "");
    assertEquals(2, model.step(one, done(append(List.of("b"), 1L, null, null), new AppendOutput(2))).tail());
    assertNull(model.step(one, done(append(List.of("b"), 0L, null, null), new AppendOutput(2))));
    assertNull(model.step(one, done(append(List.of("b"), 2L, null, null), new AppendOutput(3))));
  }

  @Test
  void fencingTokenIsComparedAsAString() {
    S2StreamModel.State fenced = model.step(model.init(), done(fence("tok", 0L), new AppendOutput(1)));
    assertEquals("tok", fenced.fencingToken());
    assertEquals(1, fenced.tail());
    assertEquals(StreamHash.chain(0, body("tok")), fenced.streamHash());
    assertEquals(2, model.step(fenced, done(append(List.of("x"), null, "tok", null), new AppendOutput(2))).tail());
    assertEquals(2, model.step(fenced, done(append(List.of("x"), null, null, null), new AppendOutput(2))).tail(),
        "no token: no check (fencing is cooperative)");
    assertNull(model.step(fenced, done(append(List.of("x"), null, "other", null), new AppendOutput(2))));
    assertNull(model.step(fenced, done(append(List.of("x"), null, "", null), new AppendOutput(2))));
    assertNull(model.step(fenced, done(append(List.of("x"), null, "TOK", null), new AppendOutput(2))));
  }

  @Test
  void theInitialTokenIsEmpty() {
    // S2-API §7.4; the Go model differs here (S2-VERIFICATION-FORMAT.md §7)
    assertEquals(1, model.step(model.init(), done(append(List.of("x"), null, "", null), new AppendOutput(1))).tail());
    assertNull(model.step(model.init(), done(append(List.of("x"), null, "a", null), new AppendOutput(1))));
  }

  @Test
  void conditionsAreCheckedAgainstTheStateBeforeTheBatch() {
    S2StreamModel.State fenced = model.step(model.init(), done(fence("old", null), new AppendOutput(1)));
    // a fence batch presents the old token; the new one applies to later batches
    S2StreamModel.State refenced = model.step(fenced, done(append(List.of("new"), 1L, "old", "new"), new AppendOutput(2)));
    assertEquals("new", refenced.fencingToken());
    assertNull(model.step(fenced, done(append(List.of("new"), 1L, "new", "new"), new AppendOutput(2))));
    // an empty set_fencing_token resets the token to ""
    assertEquals("", model.step(refenced, done(fence("", null), new AppendOutput(3))).fencingToken());
  }

  @Test
  void indefiniteAppendTakesEffectOnlyWhenItsConditionsHold() {
    S2StreamModel.State s0 = model.init();
    assertEquals(2, model.step(s0, indefinite(append(List.of("a", "b"), 0L, null, null))).tail());
    assertEquals(s0, model.step(s0, indefinite(append(List.of("a", "b"), 5L, null, null))));
    assertEquals(s0, model.step(s0, indefinite(append(List.of("a"), null, "t", null))));
    assertEquals("t", model.step(s0, indefinite(fence("t", null))).fencingToken());
  }

  @Test
  void readsMustSeeTailAndHashExactly() {
    S2StreamModel.State s = model.step(model.init(), done(append(List.of("foo", "bar", "baz"), null, null, null), new AppendOutput(3)));
    long h3 = 0x732ee99abc5002ffL; // s2-verification's vector for foo, bar, baz
    assertEquals(s, model.step(s, done(ReadInput.INSTANCE, new ReadOutput(3, h3))));
    assertNull(model.step(s, done(ReadInput.INSTANCE, new ReadOutput(3, h3 ^ 1))));
    assertNull(model.step(s, done(ReadInput.INSTANCE, new ReadOutput(2, h3))));
    assertEquals(model.init(), model.step(model.init(), done(ReadInput.INSTANCE, new ReadOutput(0, 0))));
    assertEquals(s, model.step(s, done(CheckTailInput.INSTANCE, new CheckTailOutput(3))));
    assertNull(model.step(s, done(CheckTailInput.INSTANCE, new CheckTailOutput(4))));
    assertEquals(s, model.step(s, indefinite(ReadInput.INSTANCE)));
    assertEquals(s, model.step(s, indefinite(CheckTailInput.INSTANCE)));
  }

  @Test
  void describesOperations() {
    String d = model.describe(done(append(List.of("a"), 4L, "t", null), new AppendOutput(5)));
    assertTrue(d.contains("append 1") && d.contains("match_seq_num=4") && d.contains("fencing_token=\"t\"") && d.contains("tail 5"), d);
    assertTrue(model.describe(indefinite(fence("z", null))).endsWith("fence=\"z\" -> ?"));
  }

  @Test
  void partitionKeepsTheHistoryWhole() {
    List<Operation> h = List.of(done(CheckTailInput.INSTANCE, new CheckTailOutput(0)));
    assertEquals(List.of(h), model.partition(h));
  }
}
