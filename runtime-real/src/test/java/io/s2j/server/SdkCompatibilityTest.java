package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the official S2 TypeScript SDK ({@code @s2-dev/streamstore} 0.27.0, pinned with a
 * package-lock.json in {@code src/test/sdk}) against an in-process server: control plane, unary
 * appends and reads in JSON and protobuf, the 412/416 error types, and append and read sessions
 * over both the S2S (h2c) and the fetch (SSE) transports. Needs {@code node} on the PATH and
 * {@code npm ci} run in {@code src/test/sdk}; skipped, saying so, when either is missing.
 */
class SdkCompatibilityTest extends ServerFixture {
  static final Path SDK_DIR = Path.of("src", "test", "sdk");

  @Test
  void officialTypeScriptSdkPassesItsScenario() throws Exception {
    runSdkSuite(base(), "in memory");
  }

  /** Runs {@code sdk-test.mjs} with {@code node --test} against {@code endpoint}; skips when node or the SDK is missing. */
  static void runSdkSuite(String endpoint, String what) throws Exception {
    assumeSdk();
    Path log = Files.createTempFile("s2j-sdk-test", ".log");
    ProcessBuilder pb = new ProcessBuilder(List.of("node", "--test", "--test-reporter=spec", "sdk-test.mjs"))
        .directory(SDK_DIR.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("S2J_ENDPOINT", endpoint);
    Process p = pb.start();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    if (!done) {
      p.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    System.out.println("---- SDK test output (" + what + ") ----\n" + output);
    assertEquals(true, done, "the SDK test did not finish within 5 minutes (" + what + "):\n" + output);
    assertEquals(0, p.exitValue(), "the SDK test failed (" + what + "):\n" + output);
  }

  /** Skips the calling test, saying why, unless {@code node} and the SDK's node_modules are there. */
  static void assumeSdk() {
    assumeTrue(Files.isDirectory(SDK_DIR.resolve("node_modules").resolve("@s2-dev").resolve("streamstore")),
        "SDK test skipped: run `npm ci` in runtime-real/src/test/sdk first (node_modules is missing)");
    assumeTrue(nodeAvailable(), "SDK test skipped: `node` is not on the PATH");
  }

  private static boolean nodeAvailable() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
