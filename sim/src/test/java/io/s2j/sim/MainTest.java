package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The command line's contract: its last lines and exit codes. */
class MainTest {
  private record Result(int exit, String out, String err) {
    String lastLine() {
      String[] lines = out.strip().split("\n");
      return lines[lines.length - 1];
    }
  }

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void runEndsWithTheSummaryLineAndExitsZeroOnPass() {
    Result r = run("run", "--seed", "7");
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.lastLine().matches("seed=7 result=PASS trace=[0-9a-f]{16} events=\\d+ simulated_ms=\\d+ wall_ms=\\d+"), r.lastLine());
  }

  @Test
  void aFailingRunExitsOneAndPrintsHowToReproduce() {
    Result r = run("run", "--seed", "1", "--scenario", "counter", "--bug", "ack-before-durable");
    assertEquals(1, r.exit());
    assertTrue(r.lastLine().startsWith("seed=1 result=FAIL trace="), r.lastLine());
    assertTrue(r.out().contains("reproduce with: java -jar sim/target/s2j-sim.jar run --seed 1 --scenario counter --bug ack-before-durable"), r.out());
  }

  @Test
  void sweepEndsWithCountsAndListsFailingSeeds() {
    Result ok = run("sweep", "--seeds", "1..4", "--scenario", "counter", "--jobs", "1");
    assertEquals(0, ok.exit());
    assertEquals("seeds=4 passed=4 failed=0", ok.lastLine());

    Result bad = run("sweep", "--seeds", "1..3", "--scenario", "counter", "--bug", "ack-before-durable", "--jobs", "2");
    assertEquals(1, bad.exit());
    assertEquals("seeds=3 passed=0 failed=3", bad.lastLine());
    assertTrue(bad.out().contains("FAILED seed=2 reproduce: java -jar sim/target/s2j-sim.jar run --seed 2 --scenario counter --bug ack-before-durable"));
  }

  @Test
  void badArgumentsExitTwoWithUsage() {
    assertEquals(2, run().exit());
    Result r = run("run", "--seed", "x");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--seed takes a number"));
    assertEquals(2, run("run", "--seed", "1", "--scenario", "nope").exit());
    assertEquals(2, run("sweep", "--seeds", "5..1").exit());
  }
}
