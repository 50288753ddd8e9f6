package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A server started in-process on an ephemeral port (in memory) for the whole test class, and an
 * HTTP/1.1 client for it. Every test makes its own basin, so tests do not see each other.
 */
abstract class ServerFixture {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger BASINS = new AtomicInteger();

  static Server server;
  static HttpClient http;

  @BeforeAll
  static void startServer() {
    server = Server.start(ServerConfig.inMemory(0).withHost("127.0.0.1"));
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
      if (server.firstTaskFailure().isPresent()) {
        throw new AssertionError("a task threw on a node", server.firstTaskFailure().get());
      }
    }
  }

  static String base() {
    return "http://127.0.0.1:" + server.port();
  }

  /** A fresh basin name. */
  static String freshBasin() {
    return String.format("basin-%04d-%06d", BASINS.incrementAndGet(), ProcessHandle.current().pid() % 1_000_000);
  }

  record Resp(int status, java.net.http.HttpHeaders headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + text(), e);
      }
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    Resp assertStatus(int expected) {
      assertEquals(expected, status, () -> "body: " + text());
      return this;
    }

    /** Asserts an S2 error body with this status and code. */
    Resp assertError(int expectedStatus, String code) {
      assertEquals(expectedStatus, status, () -> "body: " + text());
      assertEquals(code, json().path("code").asText(), () -> "body: " + text());
      assertEquals(true, json().path("message").isTextual(), () -> "body: " + text());
      return this;
    }
  }

  static Resp send(HttpRequest.Builder b) {
    try {
      HttpResponse<byte[]> r = http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Resp(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(base() + path));
  }

  static HttpRequest.BodyPublisher json(String body) {
    return HttpRequest.BodyPublishers.ofString(body);
  }

  static Resp get(String path, String... headers) {
    HttpRequest.Builder b = req(path).GET();
    addHeaders(b, headers);
    return send(b);
  }

  static Resp call(String method, String path, String jsonBody, String... headers) {
    HttpRequest.Builder b = req(path).method(method,
        jsonBody == null ? HttpRequest.BodyPublishers.noBody() : json(jsonBody));
    if (jsonBody != null) {
      b.header("content-type", "application/json");
    }
    addHeaders(b, headers);
    return send(b);
  }

  static void addHeaders(HttpRequest.Builder b, String... headers) {
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
  }

  /** Creates a basin (optionally with a config JSON) and returns its name. */
  static String basin(String configJson) {
    String name = freshBasin();
    Resp r = call("POST", "/v1/basins", "{\"basin\":\"" + name + "\"" + (configJson == null ? "" : ",\"config\":" + configJson) + "}");
    assertEquals(201, r.status(), r::text);
    return name;
  }

  static void stream(String basin, String stream, String configJson) {
    Resp r = call("POST", "/v1/streams", "{\"stream\":" + quote(stream) + (configJson == null ? "" : ",\"config\":" + configJson) + "}",
        "s2-basin", basin);
    assertEquals(201, r.status(), r::text);
  }

  /** A JSON string literal. */
  static String quote(String s) {
    return JSON.getNodeFactory().textNode(s).toString();
  }

  static String enc(String stream) {
    return java.net.URLEncoder.encode(stream, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static Resp append(String basin, String stream, String inputJson, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "s2-basin";
    all[1] = basin;
    System.arraycopy(headers, 0, all, 2, headers.length);
    return call("POST", "/v1/streams/" + enc(stream) + "/records", inputJson, all);
  }

  /** Appends records with these bodies as one batch; returns the ack. */
  static JsonNode appendBodies(String basin, String stream, String... bodies) {
    StringBuilder sb = new StringBuilder("{\"records\":[");
    for (int i = 0; i < bodies.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"body\":").append(quote(bodies[i])).append('}');
    }
    Resp r = append(basin, stream, sb.append("]}").toString());
    assertEquals(200, r.status(), r::text);
    return r.json();
  }

  static Resp read(String basin, String stream, String query, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "s2-basin";
    all[1] = basin;
    System.arraycopy(headers, 0, all, 2, headers.length);
    return get("/v1/streams/" + enc(stream) + "/records" + (query.isEmpty() ? "" : "?" + query), all);
  }

  static java.util.List<String> bodies(JsonNode readBatch) {
    java.util.List<String> out = new java.util.ArrayList<>();
    readBatch.path("records").forEach(r -> out.add(r.path("body").asText("")));
    return out;
  }

  static Resp tail(String basin, String stream) {
    return get("/v1/streams/" + enc(stream) + "/records/tail", "s2-basin", basin);
  }
}
