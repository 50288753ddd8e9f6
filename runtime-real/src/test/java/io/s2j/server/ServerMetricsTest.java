package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The default server (auth off, as s2-lite): tokens are ignored but can be managed, Prometheus
 * {@code /metrics} in the text format, and S2's metrics API from what the server counted. No
 * behaviour case of S2-BEHAVIOUR-CASES.md covers these (lite answers 501), so tests are named by
 * what they check.
 */
class ServerMetricsTest extends ServerFixture {

  // ---------------------------------------------------------------- auth off

  @Test
  void authIsOffByDefaultAndTokensAreIgnored() {
    assertFalse(server.config().auth());
    get("/v1/basins").assertStatus(200);
    get("/v1/basins", "authorization", "Bearer not-a-token").assertStatus(200);
    // tokens can still be issued, listed and revoked; they are simply not required
    String id = "metrics-test/" + freshBasin();
    Resp issued = call("POST", "/v1/access-tokens", "{\"id\":" + quote(id) + ",\"scope\":{\"ops\":[\"list-basins\"]}}");
    issued.assertStatus(201);
    String token = issued.json().path("access_token").asText();
    // a token limited to list-basins does not limit anything with auth off
    call("POST", "/v1/basins", "{\"basin\":\"" + freshBasin() + "\"}", "authorization", "Bearer " + token).assertStatus(201);
    assertEquals(id, get("/v1/access-tokens?prefix=" + enc(id)).json().path("access_tokens").get(0).path("id").asText());
    assertEquals(204, call("DELETE", "/v1/access-tokens/" + enc(id), null).status());
  }

  // ---------------------------------------------------------------- Prometheus

  /** One sample line: name, labels, value. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)( \\d+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Parses the text exposition format; fails on any line that is neither a comment nor a sample. */
  static List<Sample> scrape() {
    Resp r = get("/metrics").assertStatus(200);
    assertTrue(r.header("content-type").startsWith("text/plain; version=0.0.4"), r.header("content-type"));
    List<Sample> out = new ArrayList<>();
    for (String line : r.text().split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        assertTrue(line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE "), line);
        continue;
      }
      Matcher m = LINE.matcher(line);
      assertTrue(m.matches(), () -> "not a sample line: " + line);
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
    }
    return out;
  }

  /** The sum of the samples named {@code name} whose labels include {@code labels} (pairs). */
  static double value(List<Sample> samples, String name, String... labels) {
    double sum = 0;
    for (Sample s : samples) {
      if (!s.name().equals(name)) {
        continue;
      }
      boolean match = true;
      for (int i = 0; i < labels.length; i += 2) {
        match &= labels[i + 1].equals(s.labels().get(labels[i]));
      }
      if (match) {
        sum += s.value();
      }
    }
    return sum;
  }

  @Test
  void prometheusCountersMoveWithAppendsAndReads() throws Exception {
    String b = basin(null);
    stream(b, "s", null);
    List<Sample> before = scrape();
    appendBodies(b, "s", "abc", "de");
    appendBodies(b, "s", "f");
    read(b, "s", "seq_num=0").assertStatus(200);
    List<Sample> after = scrape();
    assertEquals(3, value(after, "s2j_append_records_total") - value(before, "s2j_append_records_total"));
    // metered: 8 + body per record without headers
    assertEquals((8 + 3) + (8 + 2) + (8 + 1), value(after, "s2j_append_bytes_total") - value(before, "s2j_append_bytes_total"));
    assertEquals(2, value(after, "s2j_append_acks_total", "transport", "unary") - value(before, "s2j_append_acks_total", "transport", "unary"));
    assertEquals(3, value(after, "s2j_read_records_total", "transport", "unary") - value(before, "s2j_read_records_total", "transport", "unary"));
    assertEquals(30, value(after, "s2j_read_bytes_total", "transport", "unary") - value(before, "s2j_read_bytes_total", "transport", "unary"));
    assertEquals(2, value(after, "s2j_http_requests_total", "operation", "append", "status", "200")
        - value(before, "s2j_http_requests_total", "operation", "append", "status", "200"));
    assertEquals(1, value(after, "s2j_http_requests_total", "operation", "read", "status", "200")
        - value(before, "s2j_http_requests_total", "operation", "read", "status", "200"));
    assertEquals(2, value(after, "s2j_append_ack_latency_seconds_count") - value(before, "s2j_append_ack_latency_seconds_count"));
    // the appends were made durable by chunk writes to the write-ahead log
    assertTrue(value(after, "s2j_object_store_requests_total", "op", "put", "class", "wal", "outcome", "ok")
        > value(before, "s2j_object_store_requests_total", "op", "put", "class", "wal", "outcome", "ok"));
    assertTrue(value(after, "s2j_object_store_written_bytes_total", "class", "wal")
        > value(before, "s2j_object_store_written_bytes_total", "class", "wal"));

    get("/v1/nothing-here");
    call("GET", "/v1/streams/s", null, "s2-basin", "bad basin").assertStatus(400);
    List<Sample> later = scrape();
    assertEquals(1, value(later, "s2j_http_requests_total", "operation", "none", "status", "404")
        - value(after, "s2j_http_requests_total", "operation", "none", "status", "404"));
    assertEquals(1, value(later, "s2j_http_requests_total", "operation", "get-stream-config", "status", "400")
        - value(after, "s2j_http_requests_total", "operation", "get-stream-config", "status", "400"));
  }

  @Test
  void activeSessionsGaugeFollowsAnOpenReadSession() throws Exception {
    String b = basin(null);
    stream(b, "s", null);
    appendBodies(b, "s", "first");
    double before = value(scrape(), "s2j_active_sessions", "kind", "read-sse");
    HttpResponse<InputStream> r = http.send(req("/v1/streams/s/records?seq_num=0&wait=30")
        .header("s2-basin", b).header("accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    String line;
    do {
      line = lines.readLine();
    } while (line != null && !line.startsWith("event: batch"));
    assertTrue(line != null, "a batch arrives");
    assertEquals(before + 1, value(scrape(), "s2j_active_sessions", "kind", "read-sse"));
    r.body().close();
    long deadline = System.nanoTime() + 10_000_000_000L;
    double now;
    do {
      Thread.sleep(50);
      now = value(scrape(), "s2j_active_sessions", "kind", "read-sse");
    } while (now != before && System.nanoTime() < deadline);
    assertEquals(before, now, "the session ends when the client goes away");
  }

  // ---------------------------------------------------------------- the metrics API

  static JsonNode metric(JsonNode response, String kind, String name) {
    for (JsonNode v : response.path("values")) {
      if (v.has(kind) && v.path(kind).path("name").asText().equals(name)) {
        return v.path(kind);
      }
    }
    throw new AssertionError("no " + kind + " named " + name + " in " + response);
  }

  static double total(JsonNode series) {
    double sum = 0;
    for (JsonNode p : series.path("values")) {
      assertEquals(2, p.size());
      sum += p.get(1).asDouble();
    }
    return sum;
  }

  @Test
  void basinSeriesCountWhatThisBasinDid() {
    String b = basin(null);
    stream(b, "s", null);
    appendBodies(b, "s", "abc", "de");
    appendBodies(b, "s", "f");
    read(b, "s", "seq_num=0").assertStatus(200);
    read(b, "s", "seq_num=2").assertStatus(200);

    JsonNode ops = get("/v1/metrics/" + b + "?set=append-ops&interval=minute").assertStatus(200).json();
    JsonNode appendOps = metric(ops, "accumulation", "append-ops");
    assertEquals("operations", appendOps.path("unit").asText());
    assertEquals("minute", appendOps.path("interval").asText());
    assertEquals(2, total(appendOps));
    for (JsonNode p : appendOps.path("values")) {
      assertEquals(0, p.get(0).asLong() % 60, "minute buckets start on the minute");
    }
    JsonNode throughput = metric(get("/v1/metrics/" + b + "?set=append-throughput").json(), "accumulation", "append-throughput");
    assertEquals("bytes", throughput.path("unit").asText());
    assertEquals("hour", throughput.path("interval").asText(), "hour is the default interval");
    assertEquals(30, total(throughput));
    assertEquals(2, total(metric(get("/v1/metrics/" + b + "?set=read-ops").json(), "accumulation", "read-ops")));
    assertEquals(30 + 9, total(metric(get("/v1/metrics/" + b + "?set=read-throughput").json(), "accumulation", "read-throughput")));
    JsonNode basinOps = get("/v1/metrics/" + b + "?set=basin-ops&interval=day").json();
    assertEquals(1, total(metric(basinOps, "accumulation", "create-stream")));
    assertEquals(2, total(metric(basinOps, "accumulation", "append")));
    assertEquals(2, total(metric(basinOps, "accumulation", "read")));

    JsonNode account = get("/v1/metrics?set=account-ops").assertStatus(200).json();
    assertTrue(total(metric(account, "accumulation", "append")) >= 2);
    JsonNode active = metric(get("/v1/metrics?set=active-basins").json(), "label", "active-basins");
    List<String> names = new ArrayList<>();
    active.path("values").forEach(n -> names.add(n.asText()));
    assertTrue(names.contains(b), active::toString);

    // a range this process knows nothing about has no points (not zeros)
    assertEquals(0, metric(get("/v1/metrics/" + b + "?set=append-ops&start=0&end=3600").json(), "accumulation", "append-ops")
        .path("values").size());
  }

  @Test
  void storageCountsSegmentBytesOnceSegmentsAreWritten() throws Exception {
    String b = basin(null);
    stream(b, "empty", null);
    stream(b, "s", null);
    JsonNode empty = metric(get("/v1/metrics/" + b + "/empty?set=storage").assertStatus(200).json(), "gauge", "storage");
    assertEquals("bytes", empty.path("unit").asText());
    assertEquals(1, empty.path("values").size());
    assertEquals(0, empty.path("values").get(0).get(1).asDouble());
    appendBodies(b, "s", "x".repeat(10_000));
    // a small streamlet's segment is cut once its records are segmentAgeMaxMs old, at the next
    // segment round (20 s + 5 s for memory); until then the records are only in the write-ahead
    // log, which storage does not count
    long deadline = System.nanoTime() + 60_000_000_000L;
    double bytes = 0;
    while (bytes == 0 && System.nanoTime() < deadline) {
      Thread.sleep(200);
      bytes = metric(get("/v1/metrics/" + b + "/s?set=storage").json(), "gauge", "storage").path("values").get(0).get(1).asDouble();
    }
    assertTrue(bytes >= 10_000, "segment bytes: " + bytes);
    double basinBytes = metric(get("/v1/metrics/" + b + "?set=storage").json(), "gauge", "storage").path("values").get(0).get(1).asDouble();
    assertEquals(bytes, basinBytes, "the basin holds one non-empty stream");
    // no history: a past range has no point
    assertEquals(0, metric(get("/v1/metrics/" + b + "/s?set=storage&start=0&end=10").json(), "gauge", "storage").path("values").size());
  }

  @Test
  void metricsApiValidation() {
    String b = basin(null);
    get("/v1/metrics").assertError(400, "bad_query");
    get("/v1/metrics?set=storage").assertError(400, "bad_query");
    get("/v1/metrics/" + b + "?set=active-basins").assertError(400, "bad_query");
    get("/v1/metrics/" + b + "/s?set=append-ops").assertError(400, "bad_query");
    get("/v1/metrics/" + b + "?set=append-ops&interval=week").assertError(400, "bad_query");
    get("/v1/metrics/" + b + "?set=append-ops&start=-1").assertError(400, "bad_query");
    get("/v1/metrics/" + b + "?set=append-ops&start=20&end=10").assertError(422, "invalid");
    get("/v1/metrics/" + b + "?set=append-ops&interval=minute&start=0&end=4000000000").assertError(422, "invalid");
    get("/v1/metrics/NOT_A_BASIN?set=append-ops").assertError(400, "bad_path");
    get("/v1/metrics/" + freshBasin() + "?set=append-ops").assertError(404, "basin_not_found");
    get("/v1/metrics/" + freshBasin() + "?set=storage").assertError(404, "basin_not_found");
    get("/v1/metrics/" + b + "/missing?set=storage").assertError(404, "stream_not_found");
    assertEquals(405, call("POST", "/v1/metrics?set=account-ops", "{}").status());
  }
}
