package io.s2j.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.s2j.checker.jepsen.CasRegisterModel;
import io.s2j.checker.jepsen.JepsenEdn;
import io.s2j.checker.jepsen.JepsenHistory;
import io.s2j.checker.jepsen.KvModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every history of the shared corpus ({@code shared/checker-corpus}: Jepsen etcd register
 * histories and Porcupine key-value histories) gets its published verdict; UNKNOWN fails.
 *
 * <p>The corpus is found through the system property {@code s2j.checkerCorpus}, which the checker
 * pom sets to {@code ../shared/checker-corpus} beside the repository; a missing corpus fails.
 */
class CheckerCorpusTest {
  /**
   * Generous but bounded: every corpus history is decided within 178,000 explored states (the
   * most: kv/c50-ok.edn over its 10 keys; the hardest etcd history, etcd_002.edn, ~17,000).
   */
  static final long STATES_MAX = 2_000_000L;

  private static long checkNanosTotal;
  private static long statesTotal;

  record Row(String file, String model, boolean linearizable) {}

  static Path corpus() {
    String dir = System.getProperty("s2j.checkerCorpus");
    if (dir == null || dir.isBlank()) {
      fail("system property s2j.checkerCorpus is not set: run through Maven (checker/pom.xml sets it) or pass"
          + " -Ds2j.checkerCorpus=DIR pointing at shared/checker-corpus");
    }
    Path path = Path.of(dir).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path.resolve("verdicts.tsv"))) {
      fail("checker corpus not found at " + path + " (no verdicts.tsv): it is shared/checker-corpus beside the"
          + " repository checkout; pass -Ds2j.checkerCorpus=DIR to point elsewhere");
    }
    return path;
  }

  static List<Row> rows() throws IOException {
    List<Row> rows = new ArrayList<>();
    List<String> lines = Files.readAllLines(corpus().resolve("verdicts.tsv"), StandardCharsets.UTF_8);
    assertEquals("file\tmodel\tlinearizable", lines.get(0), "verdicts.tsv header");
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] cols = line.split("\t");
      assertEquals(3, cols.length, "verdicts.tsv line: " + line);
      assertTrue(cols[2].equals("true") || cols[2].equals("false"), "verdicts.tsv line: " + line);
      rows.add(new Row(cols[0], cols[1], Boolean.parseBoolean(cols[2])));
    }
    return rows;
  }

  @Test
  void verdictsListEveryHistoryOfTheCorpus() throws IOException {
    List<String> listed = rows().stream().map(Row::file).sorted().toList();
    List<String> present;
    try (Stream<Path> files = Files.walk(corpus())) {
      present = files.filter(p -> p.toString().endsWith(".edn"))
          .map(p -> corpus().relativize(p).toString().replace('\\', '/')).sorted().toList();
    }
    assertEquals(present, listed);
    assertEquals(108, listed.size(), "102 etcd histories (095 is absent upstream) and 6 kv histories");
  }

  @TestFactory
  Stream<DynamicTest> everyHistoryGetsItsPublishedVerdict() throws IOException {
    Path corpus = corpus();
    return rows().stream().map(row -> DynamicTest.dynamicTest(row.file() + " " + row.model(), () -> {
      List<Operation> history = JepsenHistory.operations(JepsenEdn.read(corpus.resolve(row.file())));
      assertFalse(history.isEmpty(), row.file() + " has operations");
      long start = System.nanoTime();
      CheckResult result = switch (row.model()) {
        case "cas-register" -> Linearizability.check(new CasRegisterModel(), history, STATES_MAX);
        case "kv" -> Linearizability.check(new KvModel(), history, STATES_MAX);
        default -> throw new AssertionError("unknown model " + row.model());
      };
      checkNanosTotal += System.nanoTime() - start;
      assertEquals(row.linearizable() ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE, result.verdict(),
          row.file() + ": " + result.explanation());
      if (result.verdict() == Verdict.NOT_LINEARIZABLE) {
        assertFalse(result.unplaced().isEmpty(), "a non-linearizable verdict names the unplaced operations");
      }
    }));
  }

  @AfterAll
  static void report() {
    System.out.println(String.format(Locale.ROOT, "checker corpus: %.2f s checking (reading excluded)",
        checkNanosTotal / 1e9));
  }
}
