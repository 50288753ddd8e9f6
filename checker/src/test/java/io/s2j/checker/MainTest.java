package io.s2j.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Path history(Path dir, String edn) throws IOException {
    Path file = dir.resolve("h.edn");
    Files.writeString(file, edn);
    return file;
  }

  @Test
  void linearizableExitsZero(@TempDir Path dir) throws IOException {
    Path file = history(dir, """
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        """);
    Run r = run("check", "--format", "edn", file.toString(), "--model", "cas-register");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("linearizable: true\n"), r.out());
  }

  @Test
  void notLinearizableExitsOneWithTheExplanation(@TempDir Path dir) throws IOException {
    Path file = history(dir, """
        [{:process 0, :type :invoke, :f :put, :key "k", :value "v"}
         {:process 0, :type :ok, :f :put, :key "k", :value "v"}
         {:process 1, :type :invoke, :f :get, :key "k", :value nil}
         {:process 1, :type :ok, :f :get, :key "k", :value ""}]
        """);
    Run r = run("check", "--model", "kv", "--format", "edn", file.toString());
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.out().startsWith("linearizable: false\n"), r.out());
    assertTrue(r.out().contains("op 2 (process 1) :get \"k\" nil -> \"\""), r.out());
  }

  @Test
  void anExhaustedBudgetExitsTwo(@TempDir Path dir) throws IOException {
    Path file = history(dir, """
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 0, :type :invoke, :f :write, :value 2}
        {:process 0, :type :ok, :f :write, :value 2}
        """);
    Run r = run("check", "--format", "edn", file.toString(), "--model", "cas-register", "--states-max", "1");
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.out().startsWith("linearizable: unknown\n"), r.out());
  }

  @Test
  void usageAndInputErrorsExitThree(@TempDir Path dir) throws IOException {
    assertEquals(3, run().exit());
    assertEquals(3, run("check", "--format", "edn", "--model", "kv").exit());
    assertEquals(3, run("check", "--format", "edn", dir.resolve("missing.edn").toString(), "--model", "kv").exit());
    Path file = history(dir, "{:process 0, :type :invoke, :f :read, :value nil}\n");
    assertEquals(3, run("check", "--format", "xml", file.toString(), "--model", "kv").exit());
    assertEquals(3, run("check", "--format", "edn", file.toString(), "--model", "bank").exit());
    Run s2 = run("check", "--format", "s2-jsonl", file.toString(), "--model", "s2-stream");
    assertEquals(3, s2.exit(), "an EDN file is not JSONL");
    Path broken = dir.resolve("broken.edn");
    Files.writeString(broken, "{:process 0, :type :invoke");
    Run r = run("check", "--format", "edn", broken.toString(), "--model", "kv");
    assertEquals(3, r.exit());
    assertTrue(r.err().startsWith("error: "), r.err());
  }

  @Test
  void s2JsonlHistoriesAreChecked(@TempDir Path dir) throws IOException {
    byte[] golden;
    try (java.io.InputStream in = MainTest.class.getResourceAsStream("/io/s2j/checker/s2/golden-history.jsonl")) {
      golden = in.readAllBytes();
    }
    Path good = dir.resolve("good.jsonl");
    Files.write(good, golden);
    Run ok = run("check", "--format", "s2-jsonl", good.toString(), "--model", "s2-stream");
    assertEquals(0, ok.exit(), ok.err());
    assertTrue(ok.out().contains("linearizable: true"), ok.out());
    String text = new String(golden, java.nio.charset.StandardCharsets.UTF_8);
    String corrupted = text.replace("\"stream_hash\":14895292538701761678", "\"stream_hash\":14895292538701761679");
    assertTrue(!corrupted.equals(text));
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, corrupted);
    Run no = run("check", "--format", "s2-jsonl", bad.toString(), "--model", "s2-stream");
    assertEquals(1, no.exit());
    assertTrue(no.out().contains("linearizable: false"), no.out());
  }
}
