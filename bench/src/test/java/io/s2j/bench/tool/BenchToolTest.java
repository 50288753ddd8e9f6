package io.s2j.bench.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.s2j.server.Server;
import io.s2j.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The load generator against an in-process s2j server (in memory, ephemeral port): a short run
 * produces the JSON line with every key and a clean integrity verdict, pacing holds its target,
 * and a record slipped into the stream by someone else is reported as an integrity failure.
 */
class BenchToolTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static Server server;

  @BeforeAll
  static void startServer() {
    server = Server.start(ServerConfig.inMemory(0).withHost("127.0.0.1"));
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  private static List<String> args(String basin, String... more) {
    List<String> a = new ArrayList<>(List.of("--endpoint", "http://127.0.0.1:" + server.port(), "--basin", basin,
        "--catchup-delay", "200ms", "--drain-timeout", "30s"));
    a.addAll(List.of(more));
    return a;
  }

  private record Run(JsonNode result, String progress) {}

  private static Run run(List<String> args) throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    JsonNode result;
    try (PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      result = JSON.readTree(new Bench(BenchOptions.parse(args.toArray(String[]::new)), ps).run().toString());
    }
    return new Run(result, err.toString(StandardCharsets.UTF_8));
  }

  private static void assertLatencyObject(JsonNode o, String key) {
    JsonNode l = o.path(key);
    assertTrue(l.isObject(), key + " missing: " + o);
    double prev = 0;
    for (String q : List.of("min", "p50", "p90", "p99", "max")) {
      assertTrue(l.path(q).isNumber(), key + "." + q + " missing: " + l);
      double v = l.path(q).asDouble();
      assertTrue(v >= prev, key + " not monotone at " + q + ": " + l);
      prev = v;
    }
    assertTrue(l.path("max").asDouble() > 0, key + ": " + l);
  }

  @Test
  void aShortUnthrottledRunReportsEveryKeyAndVerifiesIntegrity() throws Exception {
    Run run = run(args("bench-tool-a", "--stream", "s", "--streams", "2", "--readers", "2", "--record-bytes", "256",
        "--batch-records", "20", "--duration", "3s", "--storage-class", "express"));
    JsonNode r = run.result();
    assertEquals("ok", r.path("integrity").asText(), r::toString);
    assertTrue(r.path("write_mibps").asDouble() > 0, r::toString);
    assertTrue(r.path("write_records_per_s").asDouble() > 0, r::toString);
    assertTrue(r.path("catchup_mibps").asDouble() > 0, r::toString);
    assertLatencyObject(r, "ack_ms");
    assertLatencyObject(r, "e2e_ms");
    long written = r.path("records_written").asLong();
    assertTrue(written > 0, r::toString);
    assertEquals(0, written % 20, "whole batches: " + r);
    assertEquals(2 * written, r.path("tailing_records_verified").asLong(), "two tailing readers per stream saw every record");
    assertEquals(written, r.path("catchup_records_verified").asLong());
    assertEquals(written, r.path("e2e_ms").path("count").asLong() / 2);
    assertTrue(run.progress().contains("write") && run.progress().contains("MiB/s"), run.progress());

    // A second run on the same streams starts at their tails and verifies only its own records,
    // here with every read session bounded to 500 records (tailing ones reopened as they end).
    JsonNode again = run(args("bench-tool-a", "--stream", "s", "--streams", "2", "--readers", "1", "--record-bytes", "256",
        "--batch-records", "20", "--duration", "1s", "--session-records", "500")).result();
    assertEquals("ok", again.path("integrity").asText(), again::toString);
    long again0 = again.path("records_written").asLong();
    assertEquals(again0, again.path("catchup_records_verified").asLong());
    assertTrue(again.path("read_sessions").asLong() >= 2 * 2 * (again0 / 2 / 500), again::toString);
  }

  @Test
  void aTargetRateIsHeld() throws Exception {
    JsonNode r = run(args("bench-tool-b", "--stream", "paced", "--record-bytes", "1024", "--batch-records", "16",
        "--target-mibps", "1", "--duration", "3s", "--readers", "1")).result();
    assertEquals("ok", r.path("integrity").asText(), r::toString);
    double mibps = r.path("write_mibps").asDouble();
    assertTrue(mibps > 0.7 && mibps < 1.3, "1 MiB/s target, wrote " + r);
  }

  @Test
  void manyStreamsAndReadersShareFewConnectionsAtRecordsPerSecondPacing() throws Exception {
    JsonNode r = run(args("bench-tool-d", "--stream", "many", "--streams", "20", "--readers", "3", "--record-bytes", "128",
        "--batch-records", "1", "--target-records-per-s", "10", "--duration", "2s", "--connections", "2")).result();
    assertEquals("ok", r.path("integrity").asText(), r::toString);
    long written = r.path("records_written").asLong();
    // 20 streams x 10 records/s x 2 s = 400 records (phases spread over the first 100 ms interval).
    assertTrue(written >= 360 && written <= 420, "paced at 10 records/s per stream: " + r);
    assertEquals(3 * written, r.path("tailing_records_verified").asLong(), "three tailing readers per stream saw every record");
    assertEquals(written, r.path("catchup_records_verified").asLong());
    assertEquals(2, r.path("connections").asInt());
    assertEquals(10.0, r.path("target_records_per_s").asDouble());
  }

  @Test
  void aRecordAppendedBySomeoneElseIsAnIntegrityFailure() throws Exception {
    String basin = "bench-tool-c";
    List<String> a = args(basin, "--stream", "victim", "--record-bytes", "64", "--batch-records", "10",
        "--target-mibps", "0.2", "--duration", "3s", "--readers", "1");
    CompletableFuture<Run> running = CompletableFuture.supplyAsync(() -> {
      try {
        return run(a);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    // Once the bench is writing, a foreign record of the same size lands in the middle of its chain.
    HttpClient http = HttpClient.newHttpClient();
    String body = "{\"records\":[{\"body\":\"" + "x".repeat(64) + "\"}]}";
    int status = 0;
    for (int i = 0; i < 50 && status != 200; i++) {
      Thread.sleep(100);
      HttpResponse<String> resp = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.port() + "/v1/streams/victim/records"))
          .header("content-type", "application/json").header("s2-basin", basin)
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      status = resp.statusCode();
    }
    assertEquals(200, status, "the foreign append");
    JsonNode r = running.get().result();
    String integrity = r.path("integrity").asText();
    assertNotEquals("ok", integrity, r::toString);
    assertTrue(integrity.contains("hash chain broken at seq_num"), integrity);
    assertTrue(integrity.contains("writer victim: ack ["), integrity);
  }
}
