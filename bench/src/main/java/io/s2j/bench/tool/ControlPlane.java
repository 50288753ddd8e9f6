package io.s2j.bench.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The few control-plane calls the bench makes, as JSON over HTTP/1.1 (S2-API §5, §6): basin and
 * stream creation when missing, and the stream's tail. Basin-scoped calls carry {@code s2-basin},
 * as the SDKs send it to s2-lite-style endpoints (one host for account and basin APIs).
 */
final class ControlPlane {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10))
      .build();
  private final URI endpoint;
  private final String accessToken;

  ControlPlane(URI endpoint, String accessToken) {
    this.endpoint = endpoint;
    this.accessToken = accessToken;
  }

  /** Creates the basin unless it exists; returns "created" or "exists". */
  String ensureBasin(String basin) {
    ObjectNode body = JSON.createObjectNode().put("basin", basin);
    Resp r = send("POST", "/v1/basins", null, body);
    return createdOrExists(r, "basin " + basin);
  }

  /** Creates the stream (with the storage class, if given) unless it exists; "created" or "exists". */
  String ensureStream(String basin, String stream, String storageClass) {
    ObjectNode body = JSON.createObjectNode().put("stream", stream);
    if (storageClass != null) {
      body.putObject("config").put("storage_class", storageClass);
    }
    Resp r = send("POST", "/v1/streams", basin, body);
    return createdOrExists(r, "stream " + stream);
  }

  /** The stream's tail: the seq_num its next record will get. */
  long tailSeqNum(String basin, String stream) {
    Resp r = send("GET", "/v1/streams/" + pathSegment(stream) + "/records/tail", basin, null);
    if (r.status != 200) {
      throw new IllegalStateException("check tail of " + stream + ": HTTP " + r.status + " " + r.body);
    }
    try {
      JsonNode tail = JSON.readTree(r.body).path("tail").path("seq_num");
      if (!tail.canConvertToLong()) {
        throw new IllegalStateException("check tail of " + stream + ": no tail.seq_num in " + r.body);
      }
      return tail.asLong();
    } catch (IOException e) {
      throw new IllegalStateException("check tail of " + stream + ": not JSON: " + r.body, e);
    }
  }

  static String pathSegment(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String createdOrExists(Resp r, String what) {
    if (r.status == 200 || r.status == 201) {
      return "created";
    }
    if (r.status == 409 && r.body.contains("resource_already_exists")) {
      return "exists";
    }
    throw new IllegalStateException("create " + what + ": HTTP " + r.status + " " + r.body);
  }

  private record Resp(int status, String body) {}

  private Resp send(String method, String path, String basin, JsonNode body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(Duration.ofSeconds(30));
    if (body != null) {
      b.header("content-type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    if (basin != null) {
      b.header("s2-basin", basin);
    }
    if (accessToken != null) {
      b.header("authorization", "Bearer " + accessToken);
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Resp(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + endpoint + path + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
