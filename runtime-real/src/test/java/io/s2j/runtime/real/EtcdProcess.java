package io.s2j.runtime.real;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A single-member etcd in a child process, on free loopback ports, with a fresh data directory:
 * the real etcd for the metadata contract suite, the lease and election tests. The binary is
 * {@code $S2J_ETCD}, else {@code etcd} on the PATH (Debian: {@code apt-get install etcd-server});
 * without one, {@link #startOrSkip} skips the calling test with a message saying so.
 */
public final class EtcdProcess implements AutoCloseable {
  private static final long START_TIMEOUT_MILLIS = 30_000;
  private static final String SKIP_MESSAGE =
      "SKIPPED: no etcd binary (set S2J_ETCD, or install Debian's etcd-server: apt-get install -y etcd-server)";

  private final Process process;
  private final URI clientUrl;
  private final Path log;
  private final Path dataDir;

  private EtcdProcess(Process process, URI clientUrl, Path log, Path dataDir) {
    this.process = process;
    this.clientUrl = clientUrl;
    this.log = log;
    this.dataDir = dataDir;
  }

  /** The etcd binary, if there is one. */
  public static Optional<Path> binary() {
    String explicit = System.getenv("S2J_ETCD");
    if (explicit != null && !explicit.isBlank()) {
      Path p = Path.of(explicit);
      return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "/usr/bin:/usr/local/bin" : path).split(":")) {
      Path p = Path.of(dir, "etcd");
      if (!dir.isEmpty() && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Starts etcd, or skips the test (JUnit assumption) when no etcd binary is installed. */
  public static EtcdProcess startOrSkip() throws IOException, InterruptedException {
    Optional<Path> bin = binary();
    if (bin.isEmpty()) {
      // Surefire counts a class skipped in @BeforeAll as 0 tests run, without the reason: say it here.
      System.err.println("[etcd] " + SKIP_MESSAGE);
    }
    Assumptions.assumeTrue(bin.isPresent(), SKIP_MESSAGE);
    return start(bin.get());
  }

  public static EtcdProcess start(Path binary) throws IOException, InterruptedException {
    Path work = Files.createDirectories(Path.of("target", "etcd"));
    Path data = Files.createTempDirectory(work, "data-");
    int clientPort = freePort();
    int peerPort = freePort();
    URI client = URI.create("http://127.0.0.1:" + clientPort);
    String peer = "http://127.0.0.1:" + peerPort;
    Path log = data.resolveSibling(data.getFileName() + ".log");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(),
        "--name", "s2j-test",
        "--data-dir", data.toString(),
        "--listen-client-urls", client.toString(),
        "--advertise-client-urls", client.toString(),
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "s2j-test=" + peer,
        "--initial-cluster-state", "new",
        // A transaction without puts also writes the revision marker: 128 mutations + 1 (etcd's default is 128).
        "--max-txn-ops", "256",
        "--logger", "zap",
        "--log-level", "warn"));
    Process process = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    EtcdProcess etcd = new EtcdProcess(process, client, log, data);
    try {
      etcd.awaitHealthy();
    } catch (IOException | InterruptedException | RuntimeException e) {
      etcd.close();
      throw e;
    }
    return etcd;
  }

  public URI clientUrl() {
    return clientUrl;
  }

  public Process process() {
    return process;
  }

  private void awaitHealthy() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest health = HttpRequest.newBuilder(clientUrl.resolve("/health")).timeout(Duration.ofSeconds(2)).build();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("etcd exited with " + process.exitValue() + ": " + tail());
      }
      try {
        HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("\"true\"")) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("etcd not healthy within " + START_TIMEOUT_MILLIS + " ms: " + tail());
      }
      Thread.sleep(100);
    }
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteQuietly(dataDir);
  }

  private static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory under target/ is harmless
    }
  }
}
