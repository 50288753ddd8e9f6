package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The part of the determinism bans that bytecode signatures cannot express: the {@code
 * synchronized} and {@code volatile} keywords in the deterministic modules (forbiddenapis checks
 * calls and types, see build/deterministic.signatures). A type annotated {@code @NonDeterministic}
 * is exempt, as it is from the signatures.
 */
class DeterminismRulesTest {
  static final List<String> DETERMINISTIC_MODULES = List.of("core", "runtime-sim", "sim", "checker");
  private static final Pattern BANNED = Pattern.compile("\\b(synchronized|volatile)\\b");
  private static final Pattern COMMENTS_AND_STRINGS =
      Pattern.compile("//[^\\n]*|/\\*.*?\\*/|\"(?:\\\\.|[^\"\\\\])*\"", Pattern.DOTALL);

  static List<String> violations(Path root) throws IOException {
    List<String> found = new ArrayList<>();
    for (String module : DETERMINISTIC_MODULES) {
      Path src = root.resolve(module).resolve("src/main/java");
      if (!Files.isDirectory(src)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(src)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
          String code = COMMENTS_AND_STRINGS.matcher(Files.readString(f)).replaceAll(" ");
          if (code.matches("(?s).*@NonDeterministic\\([^)]*\\)\\s*(public\\s+)?(final\\s+)?(class|interface|record|enum)\\b.*")) {
            continue;
          }
          Matcher m = BANNED.matcher(code);
          while (m.find()) {
            found.add(root.relativize(f) + ": uses '" + m.group(1) + "'");
          }
        }
      }
    }
    return found;
  }

  @Test
  void deterministicModulesUseNoLocksOrVolatiles() throws IOException {
    Path root = Path.of("").toAbsolutePath().getParent();
    assertTrue(Files.isDirectory(root.resolve("core")), "run from the sim module directory: " + root);
    List<String> found = violations(root);
    assertTrue(found.isEmpty(), "single-threaded ownership is broken:\n" + String.join("\n", found));
  }

  @Test
  void theScanFindsTheKeywords(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
    Path src = tmp.resolve("core/src/main/java/x");
    Files.createDirectories(src);
    Files.writeString(src.resolve("Bad.java"), "class Bad { // synchronized in a comment is fine\n private volatile int x; }\n");
    Files.writeString(src.resolve("Ok.java"), "class Ok { String s = \"synchronized\"; }\n");
    List<String> found = violations(tmp);
    assertTrue(found.size() == 1 && found.get(0).contains("Bad.java") && found.get(0).contains("volatile"), found.toString());
  }
}
