package io.s2j.checker.s2;

import static io.s2j.checker.s2.S2StreamModelTest.body;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.checker.Operation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class S2JsonlTest {
  private static final String GOLDEN = "golden-history.jsonl";

  static byte[] golden() throws IOException {
    try (InputStream in = S2JsonlTest.class.getResourceAsStream(GOLDEN)) {
      return in.readAllBytes();
    }
  }

  private static String line(S2Event event) {
    return new String(S2Jsonl.toBytes(List.of(event)), StandardCharsets.UTF_8);
  }

  private static List<S2Event> parse(String jsonl) {
    return S2Jsonl.parse(jsonl.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The golden file is shaped like a history from s2-verification's collector (written by hand
   * from the format, see S2-VERIFICATION-FORMAT.md): a rectifying append by client 0, op ids
   * taken out of line order, a read overlapping an append, two fences racing on match_seq_num, a
   * fencing-token rejection, and an indefinite append whose finish is deferred to the end after
   * its client (1) was replaced by client 4. Records are the bodies foo | bar baz | tok-a | y, so
   * the reads' hashes are s2-verification's own test vectors.
   */
  @Test
  void goldenHistoryParsesToTheExpectedEvents() throws IOException {
    List<S2Event> events = S2Jsonl.parse(golden());
    List<S2Event> expected = List.of(
        new S2Event.Start(0, 0, new AppendInput(List.of(body("foo")), null, null, null)),
        new S2Event.Finish(0, 0, new AppendOutput(1)),
        new S2Event.Start(1, 2, new AppendInput(List.of(body("bar"), body("baz")), 1L, null, null)),
        new S2Event.Start(2, 1, ReadInput.INSTANCE),
        new S2Event.Start(3, 3, CheckTailInput.INSTANCE),
        new S2Event.Finish(1, 2, new AppendOutput(3)),
        new S2Event.Finish(2, 1, new ReadOutput(1, 0x4d2b003ee417c3a5L)),
        new S2Event.Finish(3, 3, new CheckTailOutput(3)),
        new S2Event.Start(1, 4, new AppendInput(List.of(body("tok-a")), 3L, null, "tok-a")),
        new S2Event.Start(2, 5, new AppendInput(List.of(body("tok-b")), 3L, null, "tok-b")),
        new S2Event.Finish(1, 4, new AppendOutput(4)),
        new S2Event.Finish(2, 5, S2Failure.APPEND_DEFINITE),
        new S2Event.Start(2, 6, new AppendInput(List.of(body("x")), null, "tok-b", null)),
        new S2Event.Finish(2, 6, S2Failure.APPEND_DEFINITE),
        new S2Event.Start(1, 7, new AppendInput(List.of(body("y")), null, "tok-a", null)),
        new S2Event.Start(3, 8, ReadInput.INSTANCE),
        new S2Event.Finish(3, 8, new ReadOutput(5,
            StreamHash.fold(0x732ee99abc5002ffL, List.of(body("tok-a"), body("y"))))),
        new S2Event.Start(4, 9, CheckTailInput.INSTANCE),
        new S2Event.Finish(4, 9, S2Failure.CHECK_TAIL),
        new S2Event.Finish(1, 7, S2Failure.APPEND_INDEFINITE));
    assertEquals(expected, events);
  }

  @Test
  void goldenHistoryIsWrittenBackByteForByte() throws IOException {
    byte[] bytes = golden();
    assertArrayEquals(bytes, S2Jsonl.toBytes(S2Jsonl.parse(bytes)));
  }

  @Test
  void goldenHistoryPairsIntoOperations() throws IOException {
    List<Operation> ops = S2Jsonl.read(new java.io.ByteArrayInputStream(golden()));
    // 10 calls: two definite append failures and a check-tail failure are dropped
    assertEquals(7, ops.size());
    for (int i = 0; i < ops.size(); i++) {
      assertEquals(i, ops.get(i).id());
    }
    Operation read = ops.get(2);
    assertEquals(ReadInput.INSTANCE, read.input());
    assertEquals(3, read.invokeTime());
    assertEquals(6, read.completeTime());
    assertEquals(2, read.process());
    Operation late = ops.get(5);
    assertTrue(late.indefinite());
    assertEquals(14, late.invokeTime());
    assertEquals(Long.MAX_VALUE, late.completeTime());
    assertEquals(null, late.output());
    assertTrue(S2StreamLinearizabilityTest.linearizable(ops));
  }

  @Test
  void goldenHistoryWithACorruptedReadHashIsNotLinearizable() throws IOException {
    String text = new String(golden(), StandardCharsets.UTF_8);
    String corrupted = text.replace("\"stream_hash\":14895292538701761678", "\"stream_hash\":14895292538701761679");
    assertFalse(text.equals(corrupted));
    List<Operation> ops = S2Jsonl.operations(parse(corrupted));
    assertFalse(S2StreamLinearizabilityTest.linearizable(ops));
  }

  @Test
  void writesSerdeShapes() {
    assertEquals("{\"event\":{\"Start\":\"Read\"},\"client_id\":1,\"op_id\":2}\n",
        line(new S2Event.Start(1, 2, ReadInput.INSTANCE)));
    assertEquals("{\"event\":{\"Start\":\"CheckTail\"},\"client_id\":1,\"op_id\":2}\n",
        line(new S2Event.Start(1, 2, CheckTailInput.INSTANCE)));
    assertEquals("{\"event\":{\"Finish\":{\"ReadSuccess\":{\"tail\":7,\"stream_hash\":42}}},\"client_id\":1,\"op_id\":2}\n",
        line(new S2Event.Finish(1, 2, new ReadOutput(7, 42))));
    assertEquals("{\"event\":{\"Finish\":\"ReadFailure\"},\"client_id\":0,\"op_id\":0}\n",
        line(new S2Event.Finish(0, 0, S2Failure.READ)));
    assertEquals("{\"event\":{\"Start\":{\"Append\":{\"num_records\":0,\"record_hashes\":[],\"set_fencing_token\":null,"
            + "\"fencing_token\":\"\",\"match_seq_num\":0}}},\"client_id\":3,\"op_id\":4}\n",
        line(new S2Event.Start(3, 4, new AppendInput(List.of(), 0L, "", null))));
  }

  @Test
  void u64ValuesAreUnsignedDecimals() {
    String written = line(new S2Event.Start(-1L, Long.MIN_VALUE,
        new AppendInput(List.of(-1L, Long.MIN_VALUE, Long.MAX_VALUE, 0L), -2L, null, null)));
    assertEquals("{\"event\":{\"Start\":{\"Append\":{\"num_records\":4,\"record_hashes\":[18446744073709551615,"
        + "9223372036854775808,9223372036854775807,0],\"set_fencing_token\":null,\"fencing_token\":null,"
        + "\"match_seq_num\":18446744073709551614}}},\"client_id\":18446744073709551615,\"op_id\":9223372036854775808}\n", written);
    assertEquals(written, line(parse(written).get(0)));
  }

  /** serde_json's escaping: short escapes, lowercase hex escapes for other controls, the rest raw. */
  @Test
  void stringsAreEscapedAsSerdeJsonDoes() {
    String token = "q\"b\\s/\b\t\n\f\r\u0000\u001f\u007fé😀";
    String written = line(new S2Event.Start(1, 1, new AppendInput(List.of(), null, token, null)));
    String expected = "\"fencing_token\":\"q\\\"b\\\\s/\\b\\t\\n\\f\\r\\u0000\\u001f\u007fé😀\"";
    assertTrue(written.contains(expected), written);
    assertEquals(token, ((AppendInput) ((S2Event.Start) parse(written).get(0)).call()).fencingToken());
    // and the bytes are UTF-8, the emoji as one 4-byte sequence
    byte[] bytes = S2Jsonl.toBytes(List.of(new S2Event.Start(1, 1, new AppendInput(List.of(), null, "😀", null))));
    assertTrue(new String(bytes, StandardCharsets.ISO_8859_1).contains("\"\u00f0\u009f\u0098\u0080\""));
    assertThrows(IllegalArgumentException.class,
        () -> S2Jsonl.toBytes(List.of(new S2Event.Start(1, 1, new AppendInput(List.of(), null, "\ud83d", null)))));
  }

  @Test
  void readsPrettyPrintedValuesLikeTheGoDecoder() {
    String pretty = """
        {
          "event": {
            "Start": {
              "Append": {
                "num_records": 2,
                "record_hashes": [11078887432134085092, 6584568434689709502],
                "set_fencing_token": null,
                "fencing_token": null,
                "match_seq_num": 2733
              }
            }
          },
          "client_id": 2,
          "op_id": 4984
        } {"event":{"Finish":{"AppendSuccess":{"tail":2735}}},"client_id":2,"op_id":4984}
        """;
    List<S2Event> events = parse(pretty);
    assertEquals(new S2Event.Start(2, 4984,
            new AppendInput(List.of(Long.parseUnsignedLong("11078887432134085092"), 6584568434689709502L), 2733L, null, null)),
        events.get(0));
    assertEquals(new S2Event.Finish(2, 4984, new AppendOutput(2735)), events.get(1));
  }

  @Test
  void rejectsMalformedHistories() {
    String ok = "{\"event\":{\"Start\":\"Read\"},\"client_id\":1,\"op_id\":1}";
    assertEquals(1, parse(ok).size());
    List<String> bad = List.of(
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":1,\"op_id\":1",              // truncated (Go test)
        "{\"event\":{\"Start\":\"Write\"},\"client_id\":1,\"op_id\":1}",             // unknown start
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":1}",                          // missing op_id
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":1,\"op_id\":1,\"x\":0}",      // unknown key
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":-1,\"op_id\":1}",             // negative
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":18446744073709551616,\"op_id\":1}", // 2^64
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":1.0,\"op_id\":1}",            // not an integer
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":\"1\",\"op_id\":1}",          // a string
        "{\"event\":{\"Start\":\"Read\",\"Finish\":\"ReadFailure\"},\"client_id\":1,\"op_id\":1}", // both
        "{\"event\":{\"Start\":\"Read\"},\"client_id\":1,\"client_id\":2,\"op_id\":1}", // duplicate key
        "{\"event\":{\"Finish\":\"AppendMaybe\"},\"client_id\":1,\"op_id\":1}",      // unknown finish
        "{\"event\":{\"Finish\":{\"AppendSuccess\":{}}},\"client_id\":1,\"op_id\":1}", // missing tail
        "{\"event\":{\"Start\":{\"Append\":{\"num_records\":2,\"record_hashes\":[1],\"set_fencing_token\":null,"
            + "\"fencing_token\":null,\"match_seq_num\":null}}},\"client_id\":1,\"op_id\":1}", // count mismatch
        "{\"event\":{\"Start\":{\"Append\":{\"num_records\":1,\"record_hashes\":[1],\"set_fencing_token\":null,"
            + "\"fencing_token\":7,\"match_seq_num\":null}}},\"client_id\":1,\"op_id\":1}", // token not a string
        "{\"event\":{\"Start\":{\"Append\":{\"num_records\":1,\"record_hashes\":[1],"
            + "\"fencing_token\":null,\"match_seq_num\":null}}},\"client_id\":1,\"op_id\":1}"); // missing field
    for (String b : bad) {
      assertThrows(S2FormatException.class, () -> parse(b), b);
    }
  }

  @Test
  void pairingRejectsInconsistentHistories() {
    S2Event.Start read = new S2Event.Start(1, 1, ReadInput.INSTANCE);
    assertThrows(S2FormatException.class,
        () -> S2Jsonl.operations(List.of(new S2Event.Finish(1, 1, new ReadOutput(0, 0)))), "finish without start");
    assertThrows(S2FormatException.class,
        () -> S2Jsonl.operations(List.of(read, new S2Event.Finish(2, 1, new ReadOutput(0, 0)))), "other client");
    assertThrows(S2FormatException.class,
        () -> S2Jsonl.operations(List.of(read, new S2Event.Finish(1, 1, new AppendOutput(0)))), "wrong kind");
    assertThrows(S2FormatException.class,
        () -> S2Jsonl.operations(List.of(read, new S2Event.Finish(1, 1, S2Failure.APPEND_INDEFINITE))), "wrong failure");
    assertThrows(S2FormatException.class,
        () -> S2Jsonl.operations(List.of(read, new S2Event.Finish(1, 1, S2Failure.READ), read)), "op_id reused");
  }

  @Test
  void pairingDropsDefiniteFailuresAndMakesTheRestIndefinite() {
    AppendInput a = new AppendInput(List.of(5L), null, null, null);
    List<Operation> ops = S2Jsonl.operations(List.of(
        new S2Event.Start(1, 0, a),
        new S2Event.Start(2, 1, a),
        new S2Event.Start(3, 2, ReadInput.INSTANCE),
        new S2Event.Finish(1, 0, S2Failure.APPEND_INDEFINITE), // mid-file: still open-ended
        new S2Event.Finish(2, 1, S2Failure.APPEND_DEFINITE),
        new S2Event.Finish(3, 2, S2Failure.READ),
        new S2Event.Start(4, 3, a),                             // never finished
        new S2Event.Start(5, 4, CheckTailInput.INSTANCE)));     // never finished
    assertEquals(List.of(
        new Operation(0, 1, 0, Long.MAX_VALUE, a, null, true),
        new Operation(1, 4, 6, Long.MAX_VALUE, a, null, true),
        new Operation(2, 5, 7, Long.MAX_VALUE, CheckTailInput.INSTANCE, null, true)), ops);
  }

  @Test
  void recorderDefersIndefiniteFailuresAndRetiresTheirClient() {
    S2HistoryRecorder r = new S2HistoryRecorder();
    AppendInput a = new AppendInput(List.of(body("a")), null, null, null);
    assertEquals(0, r.start(1, a));
    assertEquals(1, r.start(2, ReadInput.INSTANCE));
    assertThrows(IllegalStateException.class, () -> r.start(2, ReadInput.INSTANCE), "one call at a time");
    assertThrows(IllegalArgumentException.class, () -> r.finish(2, new AppendOutput(1)), "wrong kind");
    r.fail(1, false);
    assertTrue(r.isRetired(1));
    assertThrows(IllegalStateException.class, () -> r.start(1, ReadInput.INSTANCE), "retired");
    r.finish(2, new ReadOutput(1, StreamHash.chain(0, body("a"))));
    assertEquals(2, r.start(3, a));
    assertEquals(3, r.start(4, CheckTailInput.INSTANCE));
    r.fail(4, false); // a check-tail failure has no side effects: definite, written now
    assertFalse(r.isRetired(4));
    assertEquals(4, r.start(4, ReadInput.INSTANCE));
    assertEquals(List.of(
        new S2Event.Start(1, 0, a),
        new S2Event.Start(2, 1, ReadInput.INSTANCE),
        new S2Event.Finish(2, 1, new ReadOutput(1, StreamHash.chain(0, body("a")))),
        new S2Event.Start(3, 2, a),
        new S2Event.Start(4, 3, CheckTailInput.INSTANCE),
        new S2Event.Finish(4, 3, S2Failure.CHECK_TAIL),
        new S2Event.Start(4, 4, ReadInput.INSTANCE),
        new S2Event.Finish(1, 0, S2Failure.APPEND_INDEFINITE), // deferred
        new S2Event.Finish(3, 2, S2Failure.APPEND_INDEFINITE), // still running: closed as indefinite
        new S2Event.Finish(4, 4, S2Failure.READ)),              // still running: a failed read
        r.events());
    assertTrue(r.isRunning(3), "events() does not end the recording");
  }
}
