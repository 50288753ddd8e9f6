package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Basins and streams over HTTP/1.1 (S2-API §4–6): the JSON shapes, status codes, headers and
 * error bodies of the control plane. Test names carry the behaviour case numbers of
 * S2-BEHAVIOUR-CASES.md where they match; the catalog's logic itself is tested in simulation.
 */
class ServerControlPlaneTest extends ServerFixture {

  @Test
  void health() {
    Resp r = get("/health");
    assertEquals(200, r.status());
    assertEquals("OK", r.text());
  }

  @Test
  void unknownPathIs404WithEmptyBodyAndWrongMethodIs405() {
    Resp r = get("/v1/nothing-here");
    assertEquals(404, r.status());
    assertEquals(0, r.body().length);
    Resp m = call("PUT", "/v1/basins", "{}");
    assertEquals(405, m.status());
    call("GET", "/v1/locations", null).assertError(501, "not_implemented");
  }

  @Test
  void case01to04_createBasinWithRequestToken() {
    String b = freshBasin();
    String body = "{\"basin\":\"" + b + "\",\"config\":{\"create_stream_on_append\":true}}";
    Resp created = call("POST", "/v1/basins", body, "s2-request-token", "token-1");
    assertEquals(201, created.status(), created::text);
    assertEquals("created", created.header("s2-provision-result"));
    JsonNode info = created.json();
    assertEquals(b, info.path("name").asText());
    assertTrue(info.path("deleted_at").isNull());
    assertEquals("active", info.path("state").asText());
    assertFalse(Instant.parse(info.path("created_at").asText()).isAfter(Instant.now()));

    Resp replay = call("POST", "/v1/basins", body, "s2-request-token", "token-1");
    assertEquals(201, replay.status(), replay::text);
    assertEquals("noop", replay.header("s2-provision-result"));
    assertEquals(info.path("created_at"), replay.json().path("created_at"));

    call("POST", "/v1/basins", body, "s2-request-token", "token-2").assertError(409, "resource_already_exists");
    call("POST", "/v1/basins", "{\"basin\":\"" + b + "\",\"config\":{\"create_stream_on_append\":false}}",
        "s2-request-token", "token-1").assertError(409, "resource_already_exists");
  }

  @Test
  void requestTokenLongerThan36BytesIsBadHeader() {
    call("POST", "/v1/basins", "{\"basin\":\"" + freshBasin() + "\"}", "s2-request-token", "x".repeat(37))
        .assertError(400, "bad_header");
  }

  @Test
  void case06and07_ensureBasinUpdatesConfig() {
    String b = basin(null);
    Resp put = call("PUT", "/v1/basins/" + b, "{\"config\":{\"create_stream_on_append\":true,\"create_stream_on_read\":true,"
        + "\"default_stream_config\":{\"storage_class\":\"standard\"}}}");
    assertEquals(200, put.status(), put::text);
    assertEquals("updated", put.header("s2-provision-result"));
    JsonNode c = get("/v1/basins/" + b).json();
    assertTrue(c.path("create_stream_on_append").asBoolean());
    assertTrue(c.path("create_stream_on_read").asBoolean());
    assertEquals("standard", c.path("default_stream_config").path("storage_class").asText());
    assertTrue(c.path("default_stream_config").path("retention_policy").isNull());
    assertTrue(c.path("stream_cipher").isNull());
    call("POST", "/v1/basins", "{\"basin\":\"" + b + "\"}").assertError(409, "resource_already_exists");
  }

  @Test
  void ensureBasinWithoutBodyCreatesThenNoop() {
    String b = freshBasin();
    Resp created = call("PUT", "/v1/basins/" + b, null);
    assertEquals(201, created.status(), created::text);
    assertEquals("created", created.header("s2-provision-result"));
    Resp noop = call("PUT", "/v1/basins/" + b, "null");
    assertEquals(200, noop.status(), noop::text);
    assertEquals("noop", noop.header("s2-provision-result"));
    JsonNode c = get("/v1/basins/" + b).json();
    assertTrue(c.path("default_stream_config").isNull(), c::toString);
    assertFalse(c.path("create_stream_on_append").asBoolean());
  }

  @Test
  void case09_explicitZeroDeleteOnEmptyIsKept() {
    String cfg = "{\"default_stream_config\":{\"delete_on_empty\":{\"min_age_secs\":0}}}";
    String b = basin(cfg);
    Resp put = call("PUT", "/v1/basins/" + b, "{\"config\":" + cfg + "}");
    assertEquals(200, put.status(), put::text);
    assertEquals("noop", put.header("s2-provision-result"));
    assertEquals(0, get("/v1/basins/" + b).json().path("default_stream_config").path("delete_on_empty").path("min_age_secs").asInt(-1));
  }

  @Test
  void case10and11_patchBasin() {
    String b = basin("{\"default_stream_config\":{\"storage_class\":\"standard\"}}");
    Resp p = call("PATCH", "/v1/basins/" + b, "{\"default_stream_config\":{\"storage_class\":\"express\","
        + "\"retention_policy\":{\"infinite\":{}},\"timestamping\":{\"mode\":\"arrival\"}},"
        + "\"create_stream_on_append\":true,\"create_stream_on_read\":true}");
    assertEquals(200, p.status(), p::text);
    JsonNode c = p.json();
    assertTrue(c.path("create_stream_on_append").asBoolean());
    assertTrue(c.path("create_stream_on_read").asBoolean());
    assertEquals("express", c.path("default_stream_config").path("storage_class").asText());
    assertTrue(c.path("default_stream_config").path("retention_policy").path("infinite").isObject());
    assertEquals("arrival", c.path("default_stream_config").path("timestamping").path("mode").asText());
    assertEquals(c, get("/v1/basins/" + b).json());
  }

  @Test
  void patchBasinWithNullFlagIsBadJson() {
    String b = basin(null);
    call("PATCH", "/v1/basins/" + b, "{\"create_stream_on_append\":null}").assertError(400, "bad_json");
    call("PATCH", "/v1/basins/" + b, "{\"default_stream_config\":{\"retention_policy\":{\"age\":0}}}").assertError(422, "invalid");
  }

  @Test
  void case12to16_deleteBasin() {
    String b = basin(null);
    Resp d = call("DELETE", "/v1/basins/" + b, null);
    assertEquals(202, d.status(), d::text);
    JsonNode listed = null;
    for (JsonNode x : get("/v1/basins?prefix=" + b).json().path("basins")) {
      if (x.path("name").asText().equals(b)) {
        listed = x;
      }
    }
    assertTrue(listed != null && listed.path("deleted_at").isTextual(), "listed with deleted_at");
    assertEquals("deleting", listed.path("state").asText());
    call("PATCH", "/v1/basins/" + b, "{}").assertError(409, "basin_deletion_pending");
    call("POST", "/v1/basins", "{\"basin\":\"" + b + "\"}").assertError(409, "basin_deletion_pending");
    assertEquals(202, call("DELETE", "/v1/basins/" + b, null).status());
  }

  @Test
  void case17and18_missingBasin() {
    String b = freshBasin();
    get("/v1/basins/" + b).assertError(404, "basin_not_found");
    call("DELETE", "/v1/basins/" + b, null).assertError(404, "basin_not_found");
  }

  @Test
  void invalidBasinNames() {
    get("/v1/basins/Bad_Name").assertError(400, "bad_path");
    call("POST", "/v1/basins", "{\"basin\":\"short\"}").assertError(400, "bad_json");
    get("/v1/basins?prefix=-abc").assertError(400, "bad_query");
    get("/v1/basins?limit=x").assertError(400, "bad_query");
  }

  @Test
  void case21to23_listBasinsPaginated() {
    String prefix = "pg-" + ProcessHandle.current().pid() + "-";
    for (int i = 0; i < 15; i++) {
      assertEquals(201, call("POST", "/v1/basins", "{\"basin\":\"" + prefix + String.format("%02d", i) + "\"}").status());
    }
    JsonNode p1 = get("/v1/basins?prefix=" + prefix + "&limit=5").json();
    assertEquals(names(prefix, 0, 5), names(p1.path("basins")));
    assertTrue(p1.path("has_more").asBoolean());
    JsonNode p2 = get("/v1/basins?prefix=" + prefix + "&limit=5&start_after=" + prefix + "04").json();
    assertEquals(names(prefix, 5, 10), names(p2.path("basins")));
    assertTrue(p2.path("has_more").asBoolean());
    JsonNode p3 = get("/v1/basins?prefix=" + prefix + "&limit=5&start_after=" + prefix + "09").json();
    assertEquals(names(prefix, 10, 15), names(p3.path("basins")));
    assertFalse(p3.path("has_more").asBoolean());
  }

  private static List<String> names(String prefix, int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(prefix + String.format("%02d", i));
    }
    return out;
  }

  private static List<String> names(JsonNode items) {
    List<String> out = new ArrayList<>();
    items.forEach(x -> out.add(x.path("name").asText()));
    return out;
  }

  // ---------------------------------------------------------------- streams

  @Test
  void case28_streamResolvesBasinDefaults() {
    String b = basin("{\"default_stream_config\":{\"storage_class\":\"standard\",\"retention_policy\":{\"infinite\":{}},"
        + "\"timestamping\":{\"mode\":\"client-require\"}}}");
    stream(b, "s", null);
    JsonNode c = get("/v1/streams/s", "s2-basin", b).json();
    assertEquals("standard", c.path("storage_class").asText());
    assertTrue(c.path("retention_policy").path("infinite").isObject());
    assertEquals("client-require", c.path("timestamping").path("mode").asText());
    assertFalse(c.path("timestamping").path("uncapped").asBoolean());
    assertEquals(0, c.path("delete_on_empty").path("min_age_secs").asInt(-1));
  }

  @Test
  void case29_listStreamsShowsInfo() {
    String b = basin(null);
    stream(b, "alpha", null);
    stream(b, "beta/with/slashes", null);
    JsonNode page = get("/v1/streams", "s2-basin", b).json();
    assertEquals(List.of("alpha", "beta/with/slashes"), names(page.path("streams")));
    assertFalse(page.path("has_more").asBoolean());
    JsonNode s = page.path("streams").get(0);
    assertTrue(s.path("cipher").isNull());
    assertTrue(s.path("deleted_at").isNull());
    assertTrue(s.path("created_at").isTextual());
    assertEquals(List.of("beta/with/slashes"), names(get("/v1/streams?prefix=beta", "s2-basin", b).json().path("streams")));
    assertEquals("express", get("/v1/streams/" + enc("beta/with/slashes"), "s2-basin", b).json().path("storage_class").asText());
  }

  @Test
  void case32_missingStream() {
    String b = basin(null);
    get("/v1/streams/nope", "s2-basin", b).assertError(404, "stream_not_found");
  }

  @Test
  void case33to36_createStreamWithRequestToken() {
    String b = basin(null);
    String body = "{\"stream\":\"s\",\"config\":{\"storage_class\":\"express\"}}";
    Resp c = call("POST", "/v1/streams", body, "s2-basin", b, "s2-request-token", "stream-token-1");
    assertEquals(201, c.status(), c::text);
    assertEquals("created", c.header("s2-provision-result"));
    Resp replay = call("POST", "/v1/streams", body, "s2-basin", b, "s2-request-token", "stream-token-1");
    assertEquals(201, replay.status(), replay::text);
    assertEquals("noop", replay.header("s2-provision-result"));
    call("POST", "/v1/streams", body, "s2-basin", b, "s2-request-token", "stream-token-2").assertError(409, "resource_already_exists");
    call("POST", "/v1/streams", "{\"stream\":\"s\",\"config\":{\"storage_class\":\"express\",\"timestamping\":{\"mode\":\"arrival\"}}}",
        "s2-basin", b, "s2-request-token", "stream-token-1").assertError(409, "resource_already_exists");
  }

  @Test
  void case37_ensureStreamReplacesConfig() {
    String b = basin(null);
    stream(b, "s", "{\"storage_class\":\"standard\"}");
    Resp put = call("PUT", "/v1/streams/s", "{\"timestamping\":{\"mode\":\"arrival\"}}", "s2-basin", b);
    assertEquals(200, put.status(), put::text);
    assertEquals("updated", put.header("s2-provision-result"));
    assertEquals("s", put.json().path("name").asText());
    JsonNode c = get("/v1/streams/s", "s2-basin", b).json();
    assertEquals("express", c.path("storage_class").asText());
    assertEquals("arrival", c.path("timestamping").path("mode").asText());
    Resp created = call("PUT", "/v1/streams/other", null, "s2-basin", b);
    assertEquals(201, created.status(), created::text);
    assertEquals("created", created.header("s2-provision-result"));
  }

  @Test
  void case40and41_explicitZeroOverridesBasinDefault() {
    String b = basin("{\"default_stream_config\":{\"delete_on_empty\":{\"min_age_secs\":60}}}");
    stream(b, "s", "{\"delete_on_empty\":{\"min_age_secs\":0}}");
    assertEquals(0, get("/v1/streams/s", "s2-basin", b).json().path("delete_on_empty").path("min_age_secs").asInt(-1));
    Resp put = call("PUT", "/v1/streams/s", "{\"delete_on_empty\":{\"min_age_secs\":0}}", "s2-basin", b);
    assertEquals(200, put.status(), put::text);
    assertEquals("noop", put.header("s2-provision-result"));
  }

  @Test
  void case43and44_patchStream() {
    String b = basin("{\"default_stream_config\":{\"storage_class\":\"standard\"}}");
    stream(b, "s", "{\"retention_policy\":{\"age\":60},\"timestamping\":{\"mode\":\"client-require\"}}");
    Resp p = call("PATCH", "/v1/streams/s", "{\"storage_class\":\"express\",\"retention_policy\":{\"infinite\":{}},"
        + "\"timestamping\":{\"mode\":\"arrival\",\"uncapped\":true}}", "s2-basin", b);
    assertEquals(200, p.status(), p::text);
    JsonNode c = p.json();
    assertEquals("express", c.path("storage_class").asText());
    assertTrue(c.path("retention_policy").path("infinite").isObject());
    assertEquals("arrival", c.path("timestamping").path("mode").asText());
    assertTrue(c.path("timestamping").path("uncapped").asBoolean());
    assertEquals(c, get("/v1/streams/s", "s2-basin", b).json());
  }

  @Test
  void case45and46_patchNullsFallBackToBasinDefaults() {
    String b = basin("{\"default_stream_config\":{\"storage_class\":\"standard\",\"retention_policy\":{\"infinite\":{}},"
        + "\"timestamping\":{\"mode\":\"arrival\",\"uncapped\":true},\"delete_on_empty\":{\"min_age_secs\":300}}}");
    stream(b, "s", "{\"storage_class\":\"express\",\"retention_policy\":{\"age\":60},"
        + "\"timestamping\":{\"mode\":\"client-require\",\"uncapped\":false},\"delete_on_empty\":{\"min_age_secs\":0}}");
    Resp p = call("PATCH", "/v1/streams/s", "{\"storage_class\":null,\"retention_policy\":null,"
        + "\"timestamping\":{\"mode\":null,\"uncapped\":null},\"delete_on_empty\":{\"min_age_secs\":null}}", "s2-basin", b);
    assertEquals(200, p.status(), p::text);
    JsonNode c = p.json();
    assertEquals("standard", c.path("storage_class").asText());
    assertTrue(c.path("retention_policy").path("infinite").isObject());
    assertEquals("arrival", c.path("timestamping").path("mode").asText());
    assertTrue(c.path("timestamping").path("uncapped").asBoolean());
    assertEquals(300, c.path("delete_on_empty").path("min_age_secs").asInt());
    assertEquals(c, get("/v1/streams/s", "s2-basin", b).json());
  }

  @Test
  void case49_createStreamInDeletedBasin() {
    String b = basin(null);
    assertEquals(202, call("DELETE", "/v1/basins/" + b, null).status());
    call("POST", "/v1/streams", "{\"stream\":\"blocked\"}", "s2-basin", b).assertError(409, "basin_deletion_pending");
  }

  @Test
  void case50to53_and55to59_deletedStream() {
    String b = basin(null);
    stream(b, "s", null);
    appendBodies(b, "s", "one");
    assertEquals(202, call("DELETE", "/v1/streams/s", null, "s2-basin", b).status());
    JsonNode listed = get("/v1/streams", "s2-basin", b).json().path("streams").get(0);
    assertEquals("s", listed.path("name").asText());
    assertTrue(listed.path("deleted_at").isTextual());
    call("POST", "/v1/streams", "{\"stream\":\"s\"}", "s2-basin", b).assertError(409, "stream_deletion_pending");
    call("PATCH", "/v1/streams/s", "{}", "s2-basin", b).assertError(409, "stream_deletion_pending");
    assertEquals(202, call("DELETE", "/v1/streams/s", null, "s2-basin", b).status());
    tail(b, "s").assertError(409, "stream_deletion_pending");
    append(b, "s", "{\"records\":[{\"body\":\"x\"}]}").assertError(409, "stream_deletion_pending");
    read(b, "s", "seq_num=0").assertError(409, "stream_deletion_pending");
    get("/v1/streams/s", "s2-basin", b).assertError(409, "stream_deletion_pending");
    call("DELETE", "/v1/streams/missing", null, "s2-basin", b).assertError(404, "stream_not_found");
  }

  @Test
  void section12_2_bgtaskFinalisesADeletedStreamAndItsNameCanBeUsedAgain() throws InterruptedException {
    String b = basin(null);
    stream(b, "s", null);
    appendBodies(b, "s", "one", "two");
    assertEquals(202, call("DELETE", "/v1/streams/s", null, "s2-basin", b).status());
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (get("/v1/streams/s", "s2-basin", b).status() != 404) {
      assertTrue(System.nanoTime() < deadline, "the deleted stream was not finalised within 60 s");
      Thread.sleep(200);
    }
    assertEquals(0, get("/v1/streams", "s2-basin", b).json().path("streams").size());
    stream(b, "s", null);
    assertEquals(0, tail(b, "s").json().path("tail").path("seq_num").asInt());
    appendBodies(b, "s", "fresh");
    JsonNode records = read(b, "s", "seq_num=0").json().path("records");
    assertEquals(1, records.size());
    assertEquals("fresh", records.get(0).path("body").asText());
  }

  @Test
  void streamRoutesNeedTheBasinHeader() {
    Resp r = get("/v1/streams").assertError(400, "bad_header");
    assertTrue(r.json().path("message").asText().contains("s2-basin"));
    get("/v1/streams", "s2-basin", "Not_A_Basin").assertError(400, "bad_header");
    get("/v1/streams/..", "s2-basin", basin(null)).assertError(400, "bad_path");
  }

  @Test
  void jsonBodiesNeedAJsonContentTypeAndValidJson() {
    String b = basin(null);
    Resp wrongType = send(req("/v1/streams").header("s2-basin", b).header("content-type", "text/plain")
        .POST(json("{\"stream\":\"s\"}")));
    wrongType.assertError(400, "bad_json");
    call("POST", "/v1/streams", "{\"stream\":", "s2-basin", b).assertError(400, "bad_json");
    call("POST", "/v1/streams", "{\"stream\":\"s\",\"config\":{\"storage_class\":\"gold\"}}", "s2-basin", b)
        .assertError(400, "bad_json");
    call("POST", "/v1/streams", "{\"stream\":\"s\",\"config\":{\"retention_policy\":{\"age\":0}}}", "s2-basin", b)
        .assertError(422, "invalid");
    call("POST", "/v1/streams", "{}", "s2-basin", b).assertError(400, "bad_json");
  }

  @Test
  void corsPreflightIsAnsweredPermissively() {
    Resp r = send(req("/v1/streams").method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
        .header("origin", "http://example.test").header("access-control-request-method", "POST")
        .header("access-control-request-headers", "s2-basin, content-type"));
    assertEquals(200, r.status(), r::text);
    assertEquals("*", r.header("access-control-allow-origin"));
    assertTrue(r.header("access-control-allow-headers").contains("s2-basin"));
    Resp g = get("/health", "origin", "http://example.test");
    assertEquals("*", g.header("access-control-allow-origin"));
  }
}
