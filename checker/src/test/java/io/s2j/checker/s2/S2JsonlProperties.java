package io.s2j.checker.s2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Write → read round trips of arbitrary histories (JSONL is the persisted format, STYLE rule 11). */
class S2JsonlProperties {
  private static final String CHARS = "aZ0-_ \"\\/\b\t\n\f\r\u0000\u0001\u001f\u007f\u0080éß€\u2028😀𝄞";

  @Property(tries = 500)
  void writeThenReadGivesTheSameEventsAndOperations(@ForAll long seed) {
    List<S2Event> events = arbitraryHistory(new Random(seed));
    byte[] bytes = S2Jsonl.toBytes(events);
    List<S2Event> read = S2Jsonl.parse(bytes);
    assertEquals(events, read);
    assertArrayEquals(bytes, S2Jsonl.toBytes(read));
    assertEquals(S2Jsonl.operations(events), S2Jsonl.operations(read));
  }

  /** Arbitrary calls and outcomes (not necessarily linearizable), with extreme numbers and tokens. */
  static List<S2Event> arbitraryHistory(Random random) {
    S2HistoryRecorder recorder = new S2HistoryRecorder();
    List<Long> clients = new ArrayList<>();
    long nextClient = random.nextBoolean() ? 0 : Long.MAX_VALUE - 3; // also ids ≥ 2^63 below
    int clientCount = 1 + random.nextInt(4);
    for (int i = 0; i < clientCount; i++) {
      clients.add(nextClient++);
    }
    int steps = random.nextInt(40);
    for (int i = 0; i < steps; i++) {
      int slot = random.nextInt(clients.size());
      long client = clients.get(slot);
      if (!recorder.isRunning(client)) {
        recorder.start(client, arbitraryCall(random));
        continue;
      }
      if (random.nextInt(4) == 0) {
        recorder.fail(client, random.nextBoolean());
        if (recorder.isRetired(client)) {
          clients.set(slot, nextClient++);
        }
        continue;
      }
      // the recorder knows the running call's kind; try the matching success
      for (S2Finish finish : List.<S2Finish>of(
          new AppendOutput(u64(random)), new ReadOutput(u64(random), u64(random)), new CheckTailOutput(u64(random)))) {
        try {
          recorder.finish(client, finish);
          break;
        } catch (IllegalArgumentException wrongKind) {
          // next
        }
      }
    }
    return recorder.events();
  }

  private static S2Call arbitraryCall(Random random) {
    return switch (random.nextInt(3)) {
      case 0 -> ReadInput.INSTANCE;
      case 1 -> CheckTailInput.INSTANCE;
      default -> {
        List<Long> hashes = new ArrayList<>();
        int n = random.nextInt(5);
        for (int i = 0; i < n; i++) {
          hashes.add(u64(random));
        }
        yield new AppendInput(hashes, random.nextBoolean() ? u64(random) : null,
            random.nextBoolean() ? token(random) : null, random.nextBoolean() ? token(random) : null);
      }
    };
  }

  private static long u64(Random random) {
    return switch (random.nextInt(4)) {
      case 0 -> random.nextInt(1000);
      case 1 -> -1L - random.nextInt(3); // near 2^64
      case 2 -> Long.MIN_VALUE + random.nextInt(3); // around 2^63
      default -> random.nextLong();
    };
  }

  private static String token(Random random) {
    StringBuilder s = new StringBuilder();
    int n = random.nextInt(8);
    int[] codePoints = CHARS.codePoints().toArray();
    for (int i = 0; i < n; i++) {
      s.appendCodePoint(codePoints[random.nextInt(codePoints.length)]);
    }
    return s.toString();
  }
}
