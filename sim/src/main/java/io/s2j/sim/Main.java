package io.s2j.sim;

import io.s2j.runtime.NonDeterministic;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code s2j-sim} command line.
 *
 * <pre>
 * run   --seed N [--scenario NAME] [--bug NAME] [--verbose] [--history-dir DIR]
 *                                                            one seed; exit 0 only on PASS; writes the
 *                                                            run's histories (JSONL per stream, EDN) to DIR
 * sweep --seeds A..B [--scenario NAME] [--bug NAME] [--jobs J] many seeds; exit 0 only if all pass
 *       [--no-speculation]                                   (run, sweep) migrations without speculation, to compare
 * list                                                       the scenarios and their planted bugs
 * bugs                                                       every planted bug, what it does, where it runs
 * </pre>
 */
@NonDeterministic("the command line: parses arguments, prints, and runs independent seeds on worker threads")
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0) {
      usage(err);
      return 2;
    }
    try {
      Args a = Args.parse(args);
      return switch (a.command) {
        case "run" -> runOne(a, out);
        case "sweep" -> sweep(a, out);
        case "list" -> {
          Scenarios.all().forEach(s -> out.println(s.name() + "  planted bugs: " + String.join(", ", s.bugs())));
          yield 0;
        }
        case "bugs" -> {
          bugs(out);
          yield 0;
        }
        default -> {
          err.println("unknown command: " + a.command);
          usage(err);
          yield 2;
        }
      };
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      usage(err);
      return 2;
    }
  }

  /** Every planted bug with what it does and the scenarios that can plant it. */
  private static void bugs(PrintStream out) {
    java.util.TreeMap<String, List<String>> where = new java.util.TreeMap<>();
    for (Scenario s : Scenarios.all()) {
      for (String bug : s.bugs()) {
        where.computeIfAbsent(bug, b -> new java.util.ArrayList<>()).add(s.name());
      }
    }
    java.util.Map<String, String> described = new java.util.TreeMap<>();
    for (io.s2j.channel.PlantedBug b : io.s2j.channel.PlantedBug.values()) {
      described.put(b.cliName(), b.description());
    }
    where.forEach((bug, scenarios) -> out.printf(java.util.Locale.ROOT, "%-32s %s [scenarios: %s]%n", bug,
        described.getOrDefault(bug, "counter scaffold bug"), String.join(", ", scenarios)));
  }

  private static void usage(PrintStream err) {
    err.println("usage: java -jar sim/target/s2j-sim.jar run --seed N [--scenario NAME] [--bug NAME] [--verbose] [--history-dir DIR]");
    err.println("       java -jar sim/target/s2j-sim.jar sweep --seeds A..B [--scenario NAME] [--bug NAME] [--jobs J] [--no-speculation]");
    err.println("       java -jar sim/target/s2j-sim.jar list | bugs");
    err.println("scenarios: " + String.join(", ", Scenarios.all().stream().map(Scenario::name).toList())
        + " (default " + Scenarios.DEFAULT + ")");
  }

  private static int runOne(Args a, PrintStream out) {
    if (a.seed == null) {
      throw new IllegalArgumentException("run needs --seed N");
    }
    Scenario scenario = Scenarios.byName(a.scenario).withSpeculation(a.speculation);
    Scenario planted = a.bug == null ? scenario : scenario.withBug(a.bug);
    java.util.List<Scenario.Outcome> outcome = new java.util.ArrayList<>(1);
    RunReport report = Runner.run(new Scenario() {
      @Override
      public String name() {
        return scenario.name();
      }

      @Override
      public Scenario.Outcome run(long seed) {
        outcome.add(planted.run(seed));
        return outcome.get(0);
      }

      @Override
      public java.util.List<String> bugs() {
        return scenario.bugs();
      }

      @Override
      public Scenario withBug(String bug) {
        return this;
      }
    }, a.bug, a.seed);
    if (a.historyDir != null) {
      if (outcome.get(0).historyWriter() == null) {
        throw new IllegalArgumentException("scenario " + scenario.name() + " records no client histories");
      }
      java.nio.file.Path dir = java.nio.file.Path.of(a.historyDir);
      outcome.get(0).historyWriter().accept(dir);
      out.println("histories written to " + dir.toAbsolutePath());
    }
    if (!report.passed()) {
      out.print(report.failureDetails());
    } else if (a.verbose) {
      out.print(report.description());
    }
    out.println(report.summaryLine());
    return report.passed() ? 0 : 1;
  }

  private static int sweep(Args a, PrintStream out) {
    if (a.seedFrom == null) {
      throw new IllegalArgumentException("sweep needs --seeds A..B");
    }
    Scenario scenario = Scenarios.byName(a.scenario).withSpeculation(a.speculation);
    long from = a.seedFrom;
    long to = a.seedTo;
    int total = (int) (to - from + 1);
    int jobs = Math.max(1, Math.min(a.jobs, total));
    RunReport[] reports = new RunReport[total];
    long start = System.nanoTime();
    long[] nextIndex = {0};
    Object lock = new Object();
    int[] finished = {0};
    int[] failed = {0};
    long[] events = {0};
    long[] simulatedMs = {0};
    long[] lastProgress = {start};
    List<Thread> workers = new ArrayList<>();
    for (int j = 0; j < jobs; j++) {
      Thread t = new Thread(() -> {
        while (true) {
          int i;
          synchronized (lock) {
            if (nextIndex[0] >= total) {
              return;
            }
            i = (int) nextIndex[0]++;
          }
          RunReport r = Runner.run(scenario, a.bug, from + i);
          synchronized (lock) {
            reports[i] = r;
            finished[0]++;
            events[0] += r.events();
            simulatedMs[0] += r.simulatedMs();
            if (!r.passed()) {
              failed[0]++;
              out.print(r.failureDetails());
              out.println(r.summaryLine());
            }
            long now = System.nanoTime();
            if (now - lastProgress[0] > 5_000_000_000L || finished[0] == total) {
              lastProgress[0] = now;
              double minutes = (now - start) / 60e9;
              out.printf(Locale.ROOT, "[sweep] %d/%d seeds done, %d failed, %.1f seeds/min, %.0f events/s%n",
                  finished[0], total, failed[0], finished[0] / minutes, events[0] / (minutes * 60));
            }
          }
        }
      }, "sweep-" + j);
      workers.add(t);
      t.start();
    }
    for (Thread t : workers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    int passed = 0;
    List<RunReport> failures = new ArrayList<>();
    for (RunReport r : reports) {
      if (r.passed()) {
        passed++;
      } else {
        failures.add(r);
      }
    }
    double minutes = (System.nanoTime() - start) / 60e9;
    // Simulated time per wall second is over all jobs together (each job is one thread).
    out.printf(Locale.ROOT, "scenario=%s jobs=%d wall_s=%.1f seeds_per_min=%.1f events_per_s=%.0f simulated_s_per_wall_s=%.1f%n",
        scenario.name(), jobs, minutes * 60, total / minutes, events[0] / (minutes * 60), simulatedMs[0] / 1000.0 / (minutes * 60));
    for (RunReport r : failures) {
      out.println("FAILED seed=" + r.seed() + " reproduce: " + r.reproduceCommand());
    }
    printMigrationPauses(reports, out);
    printFaultCounts(reports, out);
    out.println("seeds=" + total + " passed=" + passed + " failed=" + failures.size());
    return failures.isEmpty() ? 0 : 1;
  }

  /**
   * Pools the migration pauses the runs measured (the cell scenario's {@code migration_pauses_ms:}
   * line) and prints their p50/p99/max, in virtual milliseconds.
   */
  static void printMigrationPauses(RunReport[] reports, PrintStream out) {
    List<Double> pauses = new ArrayList<>();
    for (RunReport r : reports) {
      if (r == null || r.description() == null) {
        continue;
      }
      for (String line : r.description().split("\n")) {
        if (line.startsWith("migration_pauses_ms:")) {
          for (String v : line.substring("migration_pauses_ms:".length()).trim().split(",")) {
            if (!v.isBlank()) {
              pauses.add(Double.parseDouble(v));
            }
          }
        }
      }
    }
    if (pauses.isEmpty()) {
      return;
    }
    java.util.Collections.sort(pauses);
    out.printf(Locale.ROOT, "migration pauses (virtual ms, %d migrations with a waiting append): p50=%.1f p99=%.1f max=%.1f%n",
        pauses.size(), pauses.get((int) Math.min(pauses.size() - 1, Math.ceil(pauses.size() * 0.50) - 1)),
        pauses.get((int) Math.min(pauses.size() - 1, Math.ceil(pauses.size() * 0.99) - 1)), pauses.get(pauses.size() - 1));
    List<Double> handover = pooled(reports, "handover_append_latencies_ms:");
    if (!handover.isEmpty()) {
      out.printf(Locale.ROOT, "appends caught in a hand-over (virtual ms, %d appends acknowledged on the new link): p50=%.1f p99=%.1f max=%.1f%n",
          handover.size(), handover.get((int) Math.min(handover.size() - 1, Math.ceil(handover.size() * 0.50) - 1)),
          handover.get((int) Math.min(handover.size() - 1, Math.ceil(handover.size() * 0.99) - 1)), handover.get(handover.size() - 1));
    }
  }

  /** The values of every report's description line starting with {@code prefix}, sorted. */
  private static List<Double> pooled(RunReport[] reports, String prefix) {
    List<Double> values = new ArrayList<>();
    for (RunReport r : reports) {
      if (r == null || r.description() == null) {
        continue;
      }
      for (String line : r.description().split("\n")) {
        if (line.startsWith(prefix)) {
          for (String v : line.substring(prefix.length()).trim().split(",")) {
            if (!v.isBlank()) {
              values.add(Double.parseDouble(v));
            }
          }
        }
      }
    }
    java.util.Collections.sort(values);
    return values;
  }

  /**
   * Sums the {@code fault_counts:} lines of the runs (the deployment scenario's: pauses, leader
   * changes, take-overs, metadata outages) over the seeds, each with the number of seeds in which
   * it was not zero.
   */
  static void printFaultCounts(RunReport[] reports, PrintStream out) {
    java.util.TreeMap<String, long[]> sums = new java.util.TreeMap<>();
    for (RunReport r : reports) {
      if (r == null || r.description() == null) {
        continue;
      }
      for (String line : r.description().split("\n")) {
        if (line.startsWith("fault_counts:")) {
          for (String kv : line.substring("fault_counts:".length()).trim().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
              long v = Long.parseLong(kv.substring(eq + 1));
              long[] sum = sums.computeIfAbsent(kv.substring(0, eq), k -> new long[2]);
              sum[0] += v;
              sum[1] += v > 0 ? 1 : 0;
            }
          }
        }
      }
    }
    if (sums.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder("fault counts (total, in how many seeds):");
    sums.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v[0]).append(" (").append(v[1]).append(')'));
    out.println(sb);
  }

  /** Parsed command-line arguments. */
  private static final class Args {
    String command;
    Long seed;
    Long seedFrom;
    long seedTo;
    String scenario = Scenarios.DEFAULT;
    String bug;
    int jobs = Runtime.getRuntime().availableProcessors();
    boolean verbose;
    boolean speculation = true;
    String historyDir;

    static Args parse(String[] args) {
      Args a = new Args();
      a.command = args[0];
      for (int i = 1; i < args.length; i++) {
        String flag = args[i];
        switch (flag) {
          case "--seed" -> a.seed = parseLong(value(args, ++i, flag), flag);
          case "--seeds" -> {
            String v = value(args, ++i, flag);
            int dots = v.indexOf("..");
            if (dots < 0) {
              throw new IllegalArgumentException("--seeds takes A..B, got " + v);
            }
            a.seedFrom = parseLong(v.substring(0, dots), flag);
            a.seedTo = parseLong(v.substring(dots + 2), flag);
            if (a.seedTo < a.seedFrom || a.seedTo - a.seedFrom >= 10_000_000) {
              throw new IllegalArgumentException("--seeds range " + v + " is empty or too large");
            }
          }
          case "--scenario" -> a.scenario = value(args, ++i, flag);
          case "--bug" -> a.bug = value(args, ++i, flag);
          case "--jobs" -> a.jobs = (int) parseLong(value(args, ++i, flag), flag);
          case "--verbose", "-v" -> a.verbose = true;
          case "--no-speculation" -> a.speculation = false;
          case "--history-dir" -> a.historyDir = value(args, ++i, flag);
          default -> throw new IllegalArgumentException("unknown option " + flag);
        }
      }
      Scenario s = Scenarios.byName(a.scenario);
      if (a.bug != null && !s.bugs().contains(a.bug)) {
        throw new IllegalArgumentException("unknown bug '" + a.bug + "' for " + a.scenario + "; known: " + String.join(", ", s.bugs()));
      }
      return a;
    }

    private static String value(String[] args, int i, String flag) {
      if (i >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      return args[i];
    }

    private static long parseLong(String s, String flag) {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + " takes a number, got " + s);
      }
    }
  }
}
