package io.s2j.bench;

import io.s2j.checker.CheckResult;
import io.s2j.checker.Linearizability;
import io.s2j.checker.Model;
import io.s2j.checker.Operation;
import io.s2j.checker.Verdict;
import io.s2j.checker.jepsen.CasRegisterModel;
import io.s2j.checker.jepsen.JepsenEdn;
import io.s2j.checker.jepsen.JepsenHistory;
import io.s2j.checker.jepsen.KvModel;
import io.s2j.checker.s2.S2Jsonl;
import io.s2j.checker.s2.S2StreamModel;
import io.s2j.sim.Scenario;
import io.s2j.sim.Scenarios;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The linearizability checker on long histories: one check per invocation, so operations checked
 * per second = (operations in the history) / (seconds per check); the setup prints the count.
 *
 * <ul>
 *   <li>{@code s2-cell-seed-4}: the longest stream history of {@code cell} seed 4 (a simulated run
 *       with faults, appends, append sessions, reads and tails), S2 stream model;
 *   <li>{@code etcd_070}: the largest history of the corpus (Jepsen etcd, CAS register; its
 *       published verdict is "not linearizable", so this times a refutation);
 *   <li>{@code kv-c50-ok}: Porcupine's hardest kv history of the corpus.
 * </ul>
 *
 * <p>{@code java -jar bench/target/s2j-jmh.jar CheckerBenchmark} from the repository root (the
 * corpus is read from {@code checker/src/test/corpus}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CheckerBenchmark {
  @Param({"s2-cell-seed-4", "etcd_070", "kv-c50-ok"})
  public String history;

  private Model<?> model;
  private List<Operation> ops;

  @Setup(Level.Trial)
  public void load() throws IOException {
    Path corpus = Path.of(System.getProperty("s2j.checkerCorpus", "checker/src/test/corpus"));
    switch (history) {
      case "s2-cell-seed-4" -> {
        Path dir = Files.createTempDirectory("s2j-bench-history");
        Scenario.Outcome outcome = Scenarios.byName("cell").run(4);
        outcome.historyWriter().accept(dir);
        Path longest;
        try (Stream<Path> files = Files.list(dir)) {
          longest = files.filter(p -> p.toString().endsWith(".jsonl")).max(Comparator.comparingLong(CheckerBenchmark::size)).orElseThrow();
        }
        try (InputStream in = Files.newInputStream(longest)) {
          ops = S2Jsonl.read(in);
        }
        model = new S2StreamModel();
      }
      case "etcd_070" -> {
        ops = JepsenHistory.operations(JepsenEdn.read(corpus.resolve("etcd-register/etcd_070.edn")));
        model = new CasRegisterModel();
      }
      case "kv-c50-ok" -> {
        ops = JepsenHistory.operations(JepsenEdn.read(corpus.resolve("kv/c50-ok.edn")));
        model = new KvModel();
      }
      default -> throw new IllegalArgumentException(history);
    }
    CheckResult r = Linearizability.check(model, ops);
    // etcd_070's published verdict is "not linearizable"; the other two are linearizable.
    Verdict expected = history.equals("etcd_070") ? Verdict.NOT_LINEARIZABLE : Verdict.LINEARIZABLE;
    if (r.verdict() != expected) {
      throw new IllegalStateException(history + ": expected " + expected + ", got " + r.verdict() + ": " + r.explanation());
    }
    System.out.printf("%n[checker-bench] %s: %d operations, %s%n", history, ops.size(), r.verdict());
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Benchmark
  @SuppressWarnings({"unchecked", "rawtypes"})
  public CheckResult check() {
    return Linearizability.check((Model) model, ops);
  }
}
