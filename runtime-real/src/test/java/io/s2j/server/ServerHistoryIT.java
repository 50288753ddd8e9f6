package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.s2j.checker.CheckResult;
import io.s2j.checker.Linearizability;
import io.s2j.checker.Operation;
import io.s2j.checker.Verdict;
import io.s2j.checker.s2.AppendInput;
import io.s2j.checker.s2.AppendOutput;
import io.s2j.checker.s2.CheckTailInput;
import io.s2j.checker.s2.CheckTailOutput;
import io.s2j.checker.s2.ReadInput;
import io.s2j.checker.s2.ReadOutput;
import io.s2j.checker.s2.S2Call;
import io.s2j.checker.s2.S2Event;
import io.s2j.checker.s2.S2HistoryRecorder;
import io.s2j.checker.s2.S2Jsonl;
import io.s2j.checker.s2.S2StreamModel;
import io.s2j.checker.s2.StreamHash;
import io.s2j.runtime.real.S3ProxyProcess;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Histories of the real server checked for linearizability: several concurrent clients of the
 * official TypeScript SDK ({@code src/test/sdk/history.mjs}) append (some with
 * {@code match_seq_num}, fencing tokens, fence commands), read whole streams (check-tail, then
 * everything below it, hashed with XXH3 as s2-verification does) and check tails against
 * {@code s2j-server.jar} on {@code --local-root}; the event log they write is turned into an
 * s2-verification history with {@link S2HistoryRecorder}, written as JSON lines with
 * {@link S2Jsonl} (kept in {@code target/histories/}), read back and checked with
 * {@link Linearizability} and {@link S2StreamModel}. One run kills the server with SIGKILL twice
 * and restarts it on the same directory and port while the clients keep going (appends cut off by
 * the kill are indefinite failures, reads definite ones); another does the same once on a bucket of
 * s3proxy ({@code --bucket}, configured through the AWS environment variables). A negative control shows that corrupted
 * versions of a real history are flagged.
 */
class ServerHistoryIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SDK_DIR = SdkCompatibilityTest.SDK_DIR;
  private static final String BASIN = "history-basin";
  private static final String STREAM = "s";

  /**
   * A recorded run of one stream: the history's events, counts of how operations ended, the
   * acknowledged records (seq num → XXH3 body hash) and when each append was acknowledged (the
   * Node side's wall clock, ms since the epoch).
   */
  record Run(List<S2Event> events, long appendsAcked, long readsOk, long indefinite, long definite, long notConditionFailures,
      TreeMap<Long, Long> ackedHashes, List<Long> ackAtMs) {}

  @Test
  void concurrentSdkClientsProduceALinearizableHistory(@TempDir Path root) throws Exception {
    Run run = record("plain", root, 4, 4000, 0);
    assertTrue(run.appendsAcked() >= 50 && run.readsOk() >= 10, "a history worth checking: " + run);
    assertEquals(Verdict.LINEARIZABLE, check(run.events()).verdict());
  }

  @Test
  void aHistoryAcrossKillNineAndRestartIsLinearizable(@TempDir Path root) throws Exception {
    Run run = record("kill-9", root, 6, 9000, 2);
    assertTrue(run.appendsAcked() >= 50 && run.readsOk() >= 10, "a history worth checking: " + run);
    assertTrue(run.notConditionFailures() > 0, "the clients saw the kill (failures other than 412): " + run);
    CheckResult result = check(run.events());
    assertEquals(Verdict.LINEARIZABLE, result.verdict(), result.explanation());
  }

  /** Negative control: the same checking flags a real history once it is corrupted. */
  @Test
  void corruptedHistoriesAreFlagged(@TempDir Path root) throws Exception {
    Run run = record("control", root, 3, 2500, 0);
    List<S2Event> events = run.events();
    assertEquals(Verdict.LINEARIZABLE, check(events).verdict());

    // 1. A read reporting a hash one bit off (a record's body changed).
    int read = lastIndex(events, f -> f instanceof ReadOutput r && r.tail() > 0);
    ReadOutput r = (ReadOutput) ((S2Event.Finish) events.get(read)).finish();
    assertEquals(Verdict.NOT_LINEARIZABLE, check(replace(events, read, new ReadOutput(r.tail(), r.streamHash() ^ 1))).verdict(),
        "a wrong stream hash must be flagged");

    // 2. An acknowledged append whose ack claims one more record than it wrote (a duplicate).
    int append = lastIndex(events, f -> f instanceof AppendOutput);
    AppendOutput a = (AppendOutput) ((S2Event.Finish) events.get(append)).finish();
    assertEquals(Verdict.NOT_LINEARIZABLE, check(replace(events, append, new AppendOutput(a.tail() + 1))).verdict(),
        "an ack at the wrong position must be flagged");

    // 3. An acknowledged append vanishing from a stream that later reads show it in (a lost write
    //    reported as never having been attempted): drop the first acked append's start and finish.
    int first = firstIndex(events, f -> f instanceof AppendOutput);
    S2Event.Finish fin = (S2Event.Finish) events.get(first);
    List<S2Event> dropped = new ArrayList<>(events);
    dropped.removeIf(e -> e.opId() == fin.opId());
    assertEquals(Verdict.NOT_LINEARIZABLE, check(dropped).verdict(), "records no operation wrote must be flagged");
  }

  // ---- recording ----

  @Test
  void aHistoryOnAnS3BucketAcrossKillNineIsLinearizable() throws Exception {
    SdkCompatibilityTest.assumeSdk();
    try (S3ProxyProcess proxy = S3ProxyProcess.start("filesystem")) {
      proxy.createBucket("s2j-history");
      Run run = record("s3-kill-9", List.of("--bucket", "s2j-history", "--path", "cell/"), proxy.awsEnvironment(), 4, 7000, 1);
      assertTrue(run.appendsAcked() >= 30 && run.readsOk() >= 10, "a history worth checking: " + run);
      assertTrue(run.notConditionFailures() > 0, "the clients saw the kill (failures other than 412): " + run);
      CheckResult result = check(run.events());
      assertEquals(Verdict.LINEARIZABLE, result.verdict(), result.explanation());
    }
  }

  private Run record(String name, Path root, int clients, long durationMs, int kills) throws Exception {
    return record(name, List.of("--local-root", root.toString()), Map.of(), clients, durationMs, kills);
  }

  private Run record(String name, List<String> storage, Map<String, String> env, int clients, long durationMs, int kills)
      throws Exception {
    SdkCompatibilityTest.assumeSdk();
    assumeTrue(Files.isDirectory(SDK_DIR.resolve("node_modules").resolve("@node-rs").resolve("xxhash")),
        "history test skipped: run `npm ci` in runtime-real/src/test/sdk first (@node-rs/xxhash is missing)");
    Path dir = Files.createDirectories(Path.of("target", "histories"));
    Path serverLog = dir.resolve(name + ".server.log");
    Path nodeEvents = dir.resolve(name + ".events.jsonl");
    Path nodeLog = dir.resolve(name + ".node.log");
    Files.deleteIfExists(serverLog);
    int port = ServerProcess.freePort();
    ServerProcess server = ServerProcess.start(port, storage, env, serverLog);
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      send(http, server.base(), BASIN, "PUT", "/v1/basins/" + BASIN, 201);
      send(http, server.base(), BASIN, "PUT", "/v1/streams/" + STREAM, 201);
      Process node = startHistoryClients(Map.of("S2J_ENDPOINT", server.base(), "S2J_BASIN", BASIN, "S2J_STREAM", STREAM,
          "S2J_OUT", nodeEvents.toAbsolutePath().toString(), "S2J_CLIENTS", Integer.toString(clients),
          "S2J_DURATION_MS", Long.toString(durationMs), "S2J_SEED", Long.toString(System.nanoTime() & 0xffffffffL)), nodeLog);
      for (int k = 1; k <= kills; k++) {
        Thread.sleep(durationMs / (kills + 1));
        server.kill();
        System.out.println("[history " + name + "] kill " + k + " (SIGKILL); restarting on the same storage and port");
        server = ServerProcess.start(port, storage, env, serverLog);
      }
      boolean done = node.waitFor(durationMs + 120_000, TimeUnit.MILLISECONDS);
      if (!done) {
        node.destroyForcibly();
      }
      String nodeOut = Files.readString(nodeLog, StandardCharsets.UTF_8);
      assertTrue(done && node.exitValue() == 0, "history.mjs failed:\n" + nodeOut);
      System.out.println("[history " + name + "] node: " + nodeOut.strip());

      Run run = convert(Files.readAllLines(nodeEvents, StandardCharsets.UTF_8));
      // The Node side's XXH3 (@node-rs/xxhash) against hash4j: its last whole-stream read (after
      // every client stopped) must match the hash Java computes from the same records over HTTP.
      ReadOutput last = (ReadOutput) run.events().stream()
          .filter(e -> e instanceof S2Event.Finish f && f.finish() instanceof ReadOutput)
          .map(e -> ((S2Event.Finish) e).finish()).reduce((x, y) -> y).orElseThrow();
      assertEquals(last.streamHash(), javaStreamHash(http, server.base(), last.tail()),
          "XXH3 stream hash of Node and of hash4j over the first " + last.tail() + " records");

      Path history = dir.resolve(name + ".history.jsonl");
      try (OutputStream out = Files.newOutputStream(history)) {
        S2Jsonl.write(run.events(), out);
      }
      System.out.printf("[history %s] %d events (%d acknowledged appends, %d reads, %d indefinite and %d definite failures,"
          + " %d of them not 412s), tail %d: %s%n", name, run.events().size(), run.appendsAcked(), run.readsOk(), run.indefinite(),
          run.definite(), run.notConditionFailures(), last.tail(), history);
      return new Run(S2Jsonl.parse(Files.readAllBytes(history)), run.appendsAcked(), run.readsOk(), run.indefinite(), run.definite(),
          run.notConditionFailures(), run.ackedHashes(), run.ackAtMs());
    } finally {
      server.close();
    }
  }

  /** Starts {@code history.mjs} (its environment: the script's header) with its output in {@code log}. */
  static Process startHistoryClients(Map<String, String> env, Path log) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(List.of("node", "history.mjs"))
        .directory(SDK_DIR.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  /** The lines of a Node event log of several streams, by stream (in the order they first appear). */
  static Map<String, List<String>> byStream(List<String> lines) throws Exception {
    Map<String, List<String>> out = new java.util.LinkedHashMap<>();
    for (String line : lines) {
      if (!line.isBlank()) {
        out.computeIfAbsent(JSON.readTree(line).path("stream").asText(), k -> new ArrayList<>()).add(line);
      }
    }
    return out;
  }

  /** The Node event log of one stream as an s2-verification history, through {@link S2HistoryRecorder}. */
  static Run convert(List<String> lines) throws Exception {
    S2HistoryRecorder recorder = new S2HistoryRecorder();
    Map<Long, S2Call> running = new TreeMap<>();
    TreeMap<Long, Long> ackedHashes = new TreeMap<>();
    List<Long> ackAtMs = new ArrayList<>();
    long appendsAcked = 0;
    long readsOk = 0;
    long indefinite = 0;
    long definite = 0;
    long notConditionFailures = 0;
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode e = JSON.readTree(line);
      long client = e.path("client").asLong();
      switch (e.path("t").asText()) {
        case "start" -> {
          S2Call call = switch (e.path("op").asText()) {
            case "append" -> {
              List<Long> hashes = new ArrayList<>();
              e.path("hashes").forEach(h -> hashes.add(Long.parseUnsignedLong(h.asText())));
              yield new AppendInput(hashes, e.path("match").isNull() ? null : e.path("match").asLong(),
                  e.path("token").isNull() ? null : e.path("token").asText(), e.path("set").isNull() ? null : e.path("set").asText());
            }
            case "read" -> ReadInput.INSTANCE;
            case "check_tail" -> CheckTailInput.INSTANCE;
            default -> throw new IllegalArgumentException("unknown op in " + line);
          };
          running.put(client, call);
          recorder.start(client, call);
        }
        case "ok" -> {
          S2Call call = running.remove(client);
          long tail = e.path("tail").asLong();
          switch (call) {
            case AppendInput a -> {
              recorder.finish(client, new AppendOutput(tail));
              appendsAcked++;
              for (int i = 0; i < a.recordHashes().size(); i++) {
                ackedHashes.put(tail - a.recordHashes().size() + i, a.recordHashes().get(i));
              }
              ackAtMs.add(e.path("at").asLong());
            }
            case ReadInput r -> {
              recorder.finish(client, new ReadOutput(tail, Long.parseUnsignedLong(e.path("hash").asText())));
              readsOk++;
            }
            case CheckTailInput c -> recorder.finish(client, new CheckTailOutput(tail));
          }
        }
        case "fail" -> {
          running.remove(client);
          boolean d = e.path("definite").asBoolean();
          recorder.fail(client, d);
          if (!e.path("error").asText().contains(" 412 ")) {
            notConditionFailures++;
          }
          if (d) {
            definite++;
          } else {
            indefinite++;
          }
        }
        default -> throw new IllegalArgumentException("unknown event " + line);
      }
    }
    return new Run(recorder.events(), appendsAcked, readsOk, indefinite, definite, notConditionFailures, ackedHashes, ackAtMs);
  }

  static CheckResult check(List<S2Event> events) throws Exception {
    List<Operation> ops = S2Jsonl.read(new ByteArrayInputStream(S2Jsonl.toBytes(events)));
    return Linearizability.check(new S2StreamModel(), ops);
  }

  private static long javaStreamHash(HttpClient http, String base, long tail) throws Exception {
    long hash = StreamHash.EMPTY;
    long next = 0;
    while (next < tail) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/" + STREAM + "/records?seq_num=" + next
          + "&count=" + Math.min(1000, tail - next) + "&wait=0")).header("s2-basin", BASIN).header("s2-format", "base64")
          .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      JsonNode records = JSON.readTree(r.body()).path("records");
      assertTrue(records.size() > 0, r.body());
      for (JsonNode rec : records) {
        if (next < tail) {
          hash = StreamHash.chain(hash, StreamHash.ofBody(Base64.getDecoder().decode(rec.path("body").asText(""))));
          next++;
        }
      }
    }
    return hash;
  }

  /** A control-plane request with an empty JSON body in {@code basin}, which must answer {@code status}. */
  static void send(HttpClient http, String base, String basin, String method, String path, int status) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).header("s2-basin", basin)
        .header("content-type", "application/json").method(method, HttpRequest.BodyPublishers.ofString("{}"))
        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(status, r.statusCode(), method + " " + path + ": " + r.body());
  }

  private static int lastIndex(List<S2Event> events, java.util.function.Predicate<Object> finish) {
    for (int i = events.size() - 1; i >= 0; i--) {
      if (events.get(i) instanceof S2Event.Finish f && finish.test(f.finish())) {
        return i;
      }
    }
    throw new AssertionError("no such event in the history");
  }

  private static int firstIndex(List<S2Event> events, java.util.function.Predicate<Object> finish) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i) instanceof S2Event.Finish f && finish.test(f.finish())) {
        return i;
      }
    }
    throw new AssertionError("no such event in the history");
  }

  private static List<S2Event> replace(List<S2Event> events, int index, io.s2j.checker.s2.S2Finish finish) {
    List<S2Event> out = new ArrayList<>(events);
    S2Event.Finish f = (S2Event.Finish) events.get(index);
    out.set(index, new S2Event.Finish(f.clientId(), f.opId(), finish));
    return out;
  }
}
