package io.s2j.checker;

import io.s2j.checker.jepsen.CasRegisterModel;
import io.s2j.checker.jepsen.JepsenEdn;
import io.s2j.checker.jepsen.JepsenHistory;
import io.s2j.checker.jepsen.KvModel;
import io.s2j.runtime.NonDeterministic;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code s2j-checker} command line.
 *
 * <pre>
 * check --format edn FILE --model cas-register|kv [--states-max N]
 * </pre>
 *
 * <p>Prints {@code linearizable: true|false|unknown} (and, when false, the operations that could
 * not be placed and why) and exits 0, 1 or 2 accordingly; 3 on a usage or input error.
 */
@NonDeterministic("the command line: prints to stdout/stderr and exits the process")
public final class Main {
  static final int EXIT_LINEARIZABLE = 0;
  static final int EXIT_NOT_LINEARIZABLE = 1;
  static final int EXIT_UNKNOWN = 2;
  static final int EXIT_USAGE = 3;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      if (args.length == 0 || !args[0].equals("check")) {
        throw new IllegalArgumentException(args.length == 0 ? "no command" : "unknown command: " + args[0]);
      }
      String format = null;
      String modelName = null;
      String file = null;
      long statesMax = Linearizability.STATES_MAX_DEFAULT;
      for (int i = 1; i < args.length; i++) {
        switch (args[i]) {
          case "--format" -> format = value(args, ++i, "--format");
          case "--model" -> modelName = value(args, ++i, "--model");
          case "--states-max" -> statesMax = Long.parseLong(value(args, ++i, "--states-max"));
          default -> {
            if (args[i].startsWith("--") || file != null) {
              throw new IllegalArgumentException("unexpected argument: " + args[i]);
            }
            file = args[i];
          }
        }
      }
      if (format == null || modelName == null || file == null) {
        throw new IllegalArgumentException("check needs --format, --model and a FILE");
      }
      Path path = Path.of(file);
      if (!Files.isRegularFile(path)) {
        throw new IllegalArgumentException("no such file: " + file);
      }
      CheckResult result = check(format, modelName, path, statesMax);
      out.println("linearizable: " + switch (result.verdict()) {
        case LINEARIZABLE -> "true";
        case NOT_LINEARIZABLE -> "false";
        case UNKNOWN -> "unknown";
      });
      out.println(result.explanation());
      return switch (result.verdict()) {
        case LINEARIZABLE -> EXIT_LINEARIZABLE;
        case NOT_LINEARIZABLE -> EXIT_NOT_LINEARIZABLE;
        case UNKNOWN -> EXIT_UNKNOWN;
      };
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      usage(err);
      return EXIT_USAGE;
    } catch (RuntimeException e) {
      // an unreadable history (EDN syntax, I/O) is an input error, not a verdict
      err.println("error: " + e);
      return EXIT_USAGE;
    }
  }

  /**
   * Reads {@code file} in {@code format} and checks it against {@code modelName}. The extension
   * point for other history formats and models: add a case to each switch.
   */
  static CheckResult check(String format, String modelName, Path file, long statesMax) {
    List<Operation> history = switch (format) {
      case "edn" -> JepsenHistory.operations(JepsenEdn.read(file));
      case "s2-jsonl" -> readJsonl(file);
      default -> throw new IllegalArgumentException("unknown format: " + format);
    };
    return switch (modelName) {
      case "cas-register" -> Linearizability.check(new CasRegisterModel(), history, statesMax);
      case "kv" -> Linearizability.check(new KvModel(), history, statesMax);
      case "s2-stream" -> Linearizability.check(new io.s2j.checker.s2.S2StreamModel(), history, statesMax);
      default -> throw new IllegalArgumentException("unknown model: " + modelName);
    };
  }

  private static List<Operation> readJsonl(Path file) {
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      return io.s2j.checker.s2.S2Jsonl.read(in);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static void usage(PrintStream err) {
    err.println("usage: java -jar checker/target/s2j-checker.jar check --format edn FILE --model cas-register|kv"
        + " [--states-max N]");
    err.println("       exit 0 linearizable, 1 not linearizable, 2 unknown (budget exhausted), 3 usage or input error");
  }
}
