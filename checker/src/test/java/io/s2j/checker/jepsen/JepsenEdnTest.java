package io.s2j.checker.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.checker.Operation;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JepsenEdnTest {
  static final String LINES = """
      {:process 0, :type :invoke, :f :write, :value 1}
      {:process 1, :type :invoke, :f :cas, :value [1 2]}
      {:process 0, :type :ok, :f :write, :value 1}
      {:process 1, :type :ok, :f :cas, :value [1 2]}
      {:process 2, :type :invoke, :f :read, :value nil}
      {:process 2, :type :ok, :f :read, :value 2}
      """;

  static List<JepsenEvent> read(String edn) {
    return JepsenEdn.read(new StringReader(edn));
  }

  @Test
  void oneMapPerLineAndOneVectorReadTheSame() {
    List<JepsenEvent> lines = read(LINES);
    List<JepsenEvent> vector = read("[\n" + LINES + "]\n");
    assertEquals(6, lines.size());
    assertEquals(lines, vector);
    JepsenEvent cas = lines.get(1);
    assertEquals(new JepsenEvent(1, 1, JepsenEvent.Type.INVOKE, "cas", null, List.of(1L, 2L), null), cas);
  }

  @Test
  void printingGivesBackTheJepsenLines() throws IOException {
    StringWriter out = new StringWriter();
    JepsenEdn.write(read(LINES), out);
    assertEquals(LINES, out.toString());
  }

  @Test
  void corpusFormatRoundTripsThroughAFile(@TempDir Path dir) throws IOException {
    String kv = """
        {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
        {:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
        {:process 3, :type :invoke, :f :get, :key "5", :value nil, :time 17}
        """;
    Path file = dir.resolve("h.edn");
    JepsenEdn.write(read(kv), file);
    assertEquals(kv, Files.readString(file));
    assertEquals(read(kv), JepsenEdn.read(file));
    assertEquals(17L, JepsenEdn.read(file).get(2).time());
  }

  @Test
  void nemesisOpsAndOtherFormsAreIgnoredAndUnknownTagsReadAsTheirValue() {
    List<JepsenEvent> events = read("""
        {:process :nemesis, :type :info, :f :start, :value nil}
        {:some "map"}
        42
        #jepsen.history.Op{:process 0, :type :invoke, :f :read, :value nil}
        {:process 0, :type :ok, :f :read, :value #foo/bar [1]}
        """);
    assertEquals(2, events.size());
    assertEquals(0, events.get(0).position());
    assertEquals(JepsenEvent.Type.OK, events.get(1).type());
    assertEquals(List.of(1L), events.get(1).value());
  }

  @Test
  void invokesPairWithTheNextCompletionOfTheirProcess() {
    List<Operation> ops = JepsenHistory.operations(read("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 1, :type :invoke, :f :write, :value 2}
        {:process 2, :type :invoke, :f :write, :value 3}
        {:process 3, :type :invoke, :f :read, :value nil}
        {:process 1, :type :fail, :f :write, :value 2}
        {:process 0, :type :info, :f :write, :value 1}
        {:process 2, :type :ok, :f :write, :value 3}
        """));
    assertEquals(List.of(0, 2, 3), ops.stream().map(Operation::id).toList(), "the :fail is dropped");
    Operation info = ops.get(0);
    assertTrue(info.indefinite());
    assertEquals(Long.MAX_VALUE, info.completeTime());
    assertNull(info.output());
    Operation ok = ops.get(1);
    assertFalse(ok.indefinite());
    assertEquals(2, ok.invokeTime());
    assertEquals(6, ok.completeTime());
    assertEquals(new JepsenCall("write", null, 3L), ok.input());
    assertEquals(3L, ok.output());
    assertTrue(ops.get(2).indefinite(), "an invocation that never completes is indefinite");
  }

  @Test
  void timeIsUsedWhenEveryOpHasIt() {
    List<Operation> ops = JepsenHistory.operations(read("""
        {:process 0, :type :invoke, :f :read, :value nil, :time 100}
        {:process 0, :type :ok, :f :read, :value nil, :time 250}
        """));
    assertEquals(100, ops.get(0).invokeTime());
    assertEquals(250, ops.get(0).completeTime());
  }

  @Test
  void malformedPairingsAreErrors() {
    assertThrows(IllegalArgumentException.class, () -> JepsenHistory.operations(read("""
        {:process 0, :type :invoke, :f :read, :value nil}
        {:process 0, :type :invoke, :f :read, :value nil}
        """)));
    assertThrows(IllegalArgumentException.class, () -> JepsenHistory.operations(read("""
        {:process 0, :type :ok, :f :read, :value nil}
        """)));
    assertThrows(IllegalArgumentException.class, () -> JepsenHistory.operations(read("""
        {:process 0, :type :invoke, :f :read, :value nil}
        {:process 0, :type :ok, :f :write, :value 1}
        """)));
  }

  @Test
  void operationsWriteBackToAnEquivalentHistory() {
    String edn = """
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 2, :type :invoke, :f :cas, :value [1 2]}
        {:process 1, :type :ok, :f :read, :value 1}
        {:process 2, :type :info, :f :cas, :value [1 2]}
        {:process 3, :type :invoke, :f :read, :value nil}
        """;
    List<Operation> ops = JepsenHistory.operations(read(edn));
    List<Operation> again = JepsenHistory.operations(read(print(JepsenHistory.events(ops))));
    // positions are renumbered; what must survive is each operation and which ones precede which
    assertEquals(ops.size(), again.size());
    for (int i = 0; i < ops.size(); i++) {
      Operation a = ops.get(i);
      Operation b = again.get(i);
      assertEquals(List.of(a.process(), a.input(), a.indefinite()), List.of(b.process(), b.input(), b.indefinite()));
      assertEquals(a.output(), b.output());
      for (int j = 0; j < ops.size(); j++) {
        assertEquals(a.completeTime() < ops.get(j).invokeTime(), b.completeTime() < again.get(j).invokeTime(),
            "precedence of " + i + " and " + j);
      }
    }
  }

  static String print(List<JepsenEvent> events) {
    StringWriter out = new StringWriter();
    try {
      JepsenEdn.write(events, out);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out.toString();
  }
}
