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
    int peerPort = freePort();
    EtcdProcess etcd = launch(binary, "s2j-test", freePort(), peerPort, "s2j-test=http://127.0.0.1:" + peerPort);
    try {
      etcd.awaitHealthy();
    } catch (IOException | InterruptedException | RuntimeException e) {
      etcd.close();
      throw e;
    }
    return etcd;
  }

  /** Starts a cluster of {@code members} etcd processes on loopback, or skips the test without a binary. */
  public static List<EtcdProcess> startClusterOrSkip(int members) throws IOException, InterruptedException {
    Optional<Path> bin = binary();
    if (bin.isEmpty()) {
      System.err.println("[etcd] " + SKIP_MESSAGE);
    }
    Assumptions.assumeTrue(bin.isPresent(), SKIP_MESSAGE);
    int[] clientPorts = new int[members];
    int[] peerPorts = new int[members];
    List<String> initial = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      clientPorts[i] = freePort();
      peerPorts[i] = freePort();
      initial.add("m" + i + "=http://127.0.0.1:" + peerPorts[i]);
    }
    List<EtcdProcess> cluster = new ArrayList<>();
    try {
      for (int i = 0; i < members; i++) {
        cluster.add(launch(bin.get(), "m" + i, clientPorts[i], peerPorts[i], String.join(",", initial)));
      }
      for (EtcdProcess m : cluster) {
        m.awaitHealthy();
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.forEach(EtcdProcess::close);
      throw e;
    }
    return cluster;
  }

  private static EtcdProcess launch(Path binary, String name, int clientPort, int peerPort, String initialCluster)
      throws IOException {
    Path work = Files.createDirectories(Path.of("target", "etcd"));
    Path data = Files.createTempDirectory(work, "data-" + name + "-");
    URI client = URI.create("http://127.0.0.1:" + clientPort);
    String peer = "http://127.0.0.1:" + peerPort;
    Path log = data.resolveSibling(data.getFileName() + ".log");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(),
        "--name", name,
        "--data-dir", data.toString(),
        "--listen-client-urls", client.toString(),
        "--advertise-client-urls", client.toString(),
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", "new",
        // A transaction without puts also writes the revision marker: 128 mutations + 1 (etcd's default is 128).
        "--max-txn-ops", "256",
        "--logger", "zap",
        "--log-level", "warn"));
    Process process = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    return new EtcdProcess(process, client, log, data);
  }

  /** True if this member is the raft leader now (etcd's JSON gateway, /v3/maintenance/status). */
  public boolean isLeader() throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest status = HttpRequest.newBuilder(clientUrl.resolve("/v3/maintenance/status"))
        .timeout(Duration.ofSeconds(2)).POST(HttpRequest.BodyPublishers.ofString("{}")).build();
    String body = http.send(status, HttpResponse.BodyHandlers.ofString()).body();
    com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    String self = json.path("header").path("member_id").asText("");
    return !self.isEmpty() && self.equals(json.path("leader").asText());
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
