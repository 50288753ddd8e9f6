package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.s2j.wire.proto.AppendAck;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server started with {@code --auth}: bearer tokens, scopes (operations, groups, exact and prefix
 * resources), expiry, auto-prefixing, issue/list/revoke and escalation. No behaviour case of
 * S2-BEHAVIOUR-CASES.md covers access tokens (s2-lite has none), so tests are named by what they
 * check.
 */
class ServerAuthTest extends ServerFixture {
  static final String ADMIN = "admin-secret-for-tests";
  private static final AtomicInteger IDS = new AtomicInteger();
  static H2Client h2;

  /** Hides {@link ServerFixture#startServer()}: this class's server requires tokens. */
  @BeforeAll
  static void startServer() {
    server = Server.start(ServerConfig.inMemory(0).withHost("127.0.0.1").withAuth(ADMIN));
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    try {
      h2 = new H2Client(server.port());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @AfterAll
  static void closeH2() {
    if (h2 != null) {
      h2.close();
    }
  }

  static String[] bearer(String token, String... more) {
    String[] h = new String[more.length + 2];
    h[0] = "authorization";
    h[1] = "Bearer " + token;
    System.arraycopy(more, 0, h, 2, more.length);
    return h;
  }

  static String freshId(String what) {
    return "test/" + what + "-" + IDS.incrementAndGet();
  }

  /** Issues a token (as the admin) with this scope JSON and extra top-level fields; returns it. */
  static String issue(String id, String scopeJson, String... extraFields) {
    StringBuilder body = new StringBuilder("{\"id\":" + quote(id) + ",\"scope\":" + scopeJson);
    for (String f : extraFields) {
      body.append(',').append(f);
    }
    Resp r = call("POST", "/v1/access-tokens", body.append('}').toString(), bearer(ADMIN)).assertStatus(201);
    String token = r.json().path("access_token").asText();
    assertFalse(token.isEmpty());
    return token;
  }

  static String adminBasin() {
    String name = freshBasin();
    call("POST", "/v1/basins", "{\"basin\":\"" + name + "\"}", bearer(ADMIN)).assertStatus(201);
    return name;
  }

  static void adminStream(String basin, String stream) {
    call("POST", "/v1/streams", "{\"stream\":" + quote(stream) + "}", bearer(ADMIN, "s2-basin", basin)).assertStatus(201);
  }

  static Resp appendAs(String token, String basin, String stream, String inputJson) {
    return call("POST", "/v1/streams/" + enc(stream) + "/records", inputJson, bearer(token, "s2-basin", basin));
  }

  static final String ONE_RECORD = "{\"records\":[{\"body\":\"hello\"}]}";

  // ---------------------------------------------------------------- authentication

  @Test
  void requestsWithoutAValidTokenAre401Authn() {
    get("/v1/basins").assertError(401, "authn");
    get("/v1/basins", "authorization", "Basic abc").assertError(401, "authn");
    get("/v1/basins", bearer("not-a-token")).assertError(401, "authn");
    // right shape, unknown id
    get("/v1/basins", bearer("bm9ib2R5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).assertError(401, "authn");
    // authentication comes before validation: a bad basin header is not looked at
    get("/v1/streams", "s2-basin", "NOT VALID").assertError(401, "authn");
    get("/v1/basins", bearer(ADMIN)).assertStatus(200);
    get("/v1/basins", "authorization", "bearer " + ADMIN).assertStatus(200);
  }

  @Test
  void healthAndPrometheusNeedNoToken() {
    assertEquals(200, get("/health").status());
    Resp m = get("/metrics");
    assertEquals(200, m.status());
    assertTrue(m.text().contains("s2j_auth_failures_total"), m::text);
  }

  @Test
  void aWrongSecretForAnExistingIdIsRefused() {
    String id = freshId("secret");
    String token = issue(id, "{\"ops\":[\"list-basins\"]}");
    get("/v1/basins", bearer(token)).assertStatus(200);
    String forged = token.substring(0, token.indexOf('.') + 1) + "A".repeat(43);
    assertNotEquals(token, forged);
    get("/v1/basins", bearer(forged)).assertError(401, "authn");
  }

  // ---------------------------------------------------------------- issue / list / revoke

  @Test
  void issueListRevoke() {
    String id = freshId("lifecycle");
    String token = issue(id, "{\"basins\":{\"prefix\":\"b-\"},\"streams\":{\"exact\":\"s\"},\"op_groups\":{\"stream\":{\"read\":true}},"
        + "\"ops\":[\"list-basins\"]}");
    JsonNode listed = get("/v1/access-tokens?prefix=" + enc(id), bearer(ADMIN)).assertStatus(200).json();
    assertFalse(listed.path("has_more").asBoolean());
    assertEquals(1, listed.path("access_tokens").size());
    JsonNode info = listed.path("access_tokens").get(0);
    assertEquals(id, info.path("id").asText());
    assertTrue(info.path("expires_at").isNull(), "the admin token does not expire, so neither does a token it issues");
    assertFalse(info.path("auto_prefix_streams").asBoolean());
    assertEquals("b-", info.path("scope").path("basins").path("prefix").asText());
    assertEquals("s", info.path("scope").path("streams").path("exact").asText());
    assertTrue(info.path("scope").path("access_tokens").isNull());
    assertTrue(info.path("scope").path("op_groups").path("stream").path("read").asBoolean());
    assertFalse(info.path("scope").path("op_groups").path("stream").path("write").asBoolean());
    assertTrue(info.path("scope").path("op_groups").path("account").isNull());
    assertEquals("list-basins", info.path("scope").path("ops").get(0).asText());
    assertFalse(info.toString().contains(token.substring(token.indexOf('.') + 1)), "the secret is never listed");

    get("/v1/basins", bearer(token)).assertStatus(200);
    call("POST", "/v1/access-tokens", "{\"id\":" + quote(id) + ",\"scope\":{\"ops\":[\"list-basins\"]}}", bearer(ADMIN))
        .assertError(409, "resource_already_exists");
    assertEquals(204, call("DELETE", "/v1/access-tokens/" + enc(id), null, bearer(ADMIN)).status());
    get("/v1/basins", bearer(token)).assertError(401, "authn");
    call("DELETE", "/v1/access-tokens/" + enc(id), null, bearer(ADMIN)).assertError(404, "access_token_not_found");
    assertEquals(0, get("/v1/access-tokens?prefix=" + enc(id), bearer(ADMIN)).json().path("access_tokens").size());
  }

  @Test
  void aTokenMayRevokeItself() {
    String id = freshId("self");
    String token = issue(id, "{\"access_tokens\":{\"exact\":" + quote(id) + "},\"ops\":[\"revoke-access-token\",\"list-basins\"]}");
    get("/v1/basins", bearer(token)).assertStatus(200);
    assertEquals(204, call("DELETE", "/v1/access-tokens/" + enc(id), null, bearer(token)).status());
    get("/v1/basins", bearer(token)).assertError(401, "authn");
  }

  @Test
  void issueValidation() {
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{}}", bearer(ADMIN)).assertError(422, "invalid");
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{\"op_groups\":{\"stream\":{\"read\":false}}}}", bearer(ADMIN))
        .assertError(422, "invalid");
    call("POST", "/v1/access-tokens", "{\"id\":\"\",\"scope\":{\"ops\":[\"read\"]}}", bearer(ADMIN)).assertError(400, "bad_json");
    call("POST", "/v1/access-tokens", "{\"id\":\"" + "a".repeat(97) + "\",\"scope\":{\"ops\":[\"read\"]}}", bearer(ADMIN))
        .assertError(400, "bad_json");
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{\"ops\":[\"fly\"]}}", bearer(ADMIN)).assertError(400, "bad_json");
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{\"ops\":[\"read\"],\"basins\":{\"exact\":\"a\",\"prefix\":\"b\"}}}",
        bearer(ADMIN)).assertError(400, "bad_json");
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{\"ops\":[\"read\"],\"basins\":{\"exact\":\"NOT_A_BASIN\"}}}",
        bearer(ADMIN)).assertError(400, "bad_json");
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{\"ops\":[\"read\"]},\"expires_at\":\"yesterday\"}", bearer(ADMIN))
        .assertError(400, "bad_json");
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"scope\":{\"ops\":[\"read\"]},\"expires_at\":\"2001-01-01T00:00:00Z\"}",
        bearer(ADMIN)).assertError(422, "invalid");
    // auto_prefix_streams needs a prefix stream scope
    call("POST", "/v1/access-tokens", "{\"id\":\"x\",\"auto_prefix_streams\":true,\"scope\":{\"ops\":[\"read\"],"
        + "\"streams\":{\"exact\":\"tenant/s\"}}}", bearer(ADMIN)).assertError(422, "invalid");
    call("POST", "/v1/access-tokens", "{\"scope\":{\"ops\":[\"read\"]}}", bearer(ADMIN)).assertError(400, "bad_json");
    get("/v1/access-tokens?prefix=" + "a".repeat(97), bearer(ADMIN)).assertError(400, "bad_query");
    call("DELETE", "/v1/access-tokens/" + "a".repeat(97), null, bearer(ADMIN)).assertError(400, "bad_path");
    assertEquals(405, call("PUT", "/v1/access-tokens", "{}", bearer(ADMIN)).status());
  }

  @Test
  void listPaginatesWithPrefixStartAfterAndLimit() {
    String p = freshId("page") + "/";
    for (String s : List.of("a", "b", "c")) {
      issue(p + s, "{\"ops\":[\"list-basins\"]}");
    }
    JsonNode first = get("/v1/access-tokens?prefix=" + enc(p) + "&limit=2", bearer(ADMIN)).assertStatus(200).json();
    assertEquals(List.of(p + "a", p + "b"), ids(first));
    assertTrue(first.path("has_more").asBoolean());
    JsonNode second = get("/v1/access-tokens?prefix=" + enc(p) + "&limit=2&start_after=" + enc(p + "b"), bearer(ADMIN)).json();
    assertEquals(List.of(p + "c"), ids(second));
    assertFalse(second.path("has_more").asBoolean());
  }

  static List<String> ids(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.path("access_tokens").forEach(t -> out.add(t.path("id").asText()));
    return out;
  }

  @Test
  void listAndRevokeAreLimitedToTheTokenScope() {
    String p = freshId("scoped") + "/";
    issue(p + "mine-1", "{\"ops\":[\"list-basins\"]}");
    issue(p + "other", "{\"ops\":[\"list-basins\"]}");
    String manager = issue(p + "manager", "{\"access_tokens\":{\"prefix\":" + quote(p + "mine-") + "},"
        + "\"ops\":[\"list-access-tokens\",\"revoke-access-token\"]}");
    assertEquals(List.of(p + "mine-1"), ids(get("/v1/access-tokens?prefix=" + enc(p), bearer(manager)).assertStatus(200).json()));
    call("DELETE", "/v1/access-tokens/" + enc(p + "other"), null, bearer(manager)).assertError(403, "permission_denied");
    assertEquals(204, call("DELETE", "/v1/access-tokens/" + enc(p + "mine-1"), null, bearer(manager)).status());
    String lister = issue(p + "lister", "{\"ops\":[\"list-basins\"]}");
    get("/v1/access-tokens", bearer(lister)).assertError(403, "permission_denied");
  }

  // ---------------------------------------------------------------- scopes: operations and groups

  @Test
  void operationsGrantOnlyWhatTheyName() {
    String b = adminBasin();
    String token = issue(freshId("ops"), "{\"basins\":{\"prefix\":\"\"},\"ops\":[\"list-basins\",\"get-basin-config\"]}");
    get("/v1/basins", bearer(token)).assertStatus(200);
    get("/v1/basins/" + b, bearer(token)).assertStatus(200);
    call("POST", "/v1/basins", "{\"basin\":\"" + freshBasin() + "\"}", bearer(token)).assertError(403, "permission_denied");
    call("PATCH", "/v1/basins/" + b, "{}", bearer(token)).assertError(403, "permission_denied");
    call("DELETE", "/v1/basins/" + b, null, bearer(token)).assertError(403, "permission_denied");
    get("/v1/streams", bearer(token, "s2-basin", b)).assertError(403, "permission_denied");
  }

  @Test
  void streamGroupsSplitReadAndWrite() {
    String b = adminBasin();
    adminStream(b, "s");
    String reader = issue(freshId("reader"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"stream\":{\"read\":true}}}");
    String writer = issue(freshId("writer"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"stream\":{\"write\":true}}}");
    appendAs(reader, b, "s", ONE_RECORD).assertError(403, "permission_denied");
    appendAs(writer, b, "s", ONE_RECORD).assertStatus(200);
    get("/v1/streams/s/records?seq_num=0", bearer(reader, "s2-basin", b)).assertStatus(200);
    get("/v1/streams/s/records/tail", bearer(reader, "s2-basin", b)).assertStatus(200);
    get("/v1/streams/s/records?seq_num=0", bearer(writer, "s2-basin", b)).assertError(403, "permission_denied");
    get("/v1/streams/s/records/tail", bearer(writer, "s2-basin", b)).assertError(403, "permission_denied");
    // stream groups are no basin-level operations
    get("/v1/streams", bearer(reader, "s2-basin", b)).assertError(403, "permission_denied");
    get("/v1/streams/s", bearer(reader, "s2-basin", b)).assertError(403, "permission_denied");
  }

  @Test
  void basinAndAccountGroups() {
    String b = adminBasin();
    String basinRead = issue(freshId("basin-read"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"basin\":{\"read\":true}}}");
    String basinWrite = issue(freshId("basin-write"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"basin\":{\"write\":true}}}");
    call("POST", "/v1/streams", "{\"stream\":\"made\"}", bearer(basinRead, "s2-basin", b)).assertError(403, "permission_denied");
    call("POST", "/v1/streams", "{\"stream\":\"made\"}", bearer(basinWrite, "s2-basin", b)).assertStatus(201);
    assertEquals(1, get("/v1/streams", bearer(basinRead, "s2-basin", b)).assertStatus(200).json().path("streams").size());
    get("/v1/streams/made", bearer(basinRead, "s2-basin", b)).assertStatus(200);
    get("/v1/streams", bearer(basinWrite, "s2-basin", b)).assertError(403, "permission_denied");
    // ensure (PUT) creates or reconfigures: it needs both create-stream and reconfigure-stream
    String createOnly = issue(freshId("create-only"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"ops\":[\"create-stream\"]}");
    call("PUT", "/v1/streams/ensured", null, bearer(createOnly, "s2-basin", b)).assertError(403, "permission_denied");
    call("PUT", "/v1/streams/ensured", null, bearer(basinWrite, "s2-basin", b)).assertStatus(201);

    String accountRead = issue(freshId("account-read"), "{\"basins\":{\"prefix\":\"\"},\"op_groups\":{\"account\":{\"read\":true}}}");
    get("/v1/basins", bearer(accountRead)).assertStatus(200);
    get("/v1/basins/" + b, bearer(accountRead)).assertStatus(200);
    call("POST", "/v1/basins", "{\"basin\":\"" + freshBasin() + "\"}", bearer(accountRead)).assertError(403, "permission_denied");
    String accountWrite = issue(freshId("account-write"), "{\"basins\":{\"prefix\":\"\"},\"op_groups\":{\"account\":{\"write\":true}}}");
    call("POST", "/v1/basins", "{\"basin\":\"" + freshBasin() + "\"}", bearer(accountWrite)).assertStatus(201);
  }

  // ---------------------------------------------------------------- scopes: resources

  @Test
  void basinScopeExactAndPrefix() {
    String b1 = adminBasin();
    String b2 = adminBasin();
    String exact = issue(freshId("basin-exact"), "{\"basins\":{\"exact\":" + quote(b1) + "},\"ops\":[\"get-basin-config\",\"list-basins\"]}");
    get("/v1/basins/" + b1, bearer(exact)).assertStatus(200);
    get("/v1/basins/" + b2, bearer(exact)).assertError(403, "permission_denied");
    JsonNode listed = get("/v1/basins", bearer(exact)).assertStatus(200).json();
    assertEquals(1, listed.path("basins").size());
    assertEquals(b1, listed.path("basins").get(0).path("name").asText());
    assertFalse(listed.path("has_more").asBoolean());

    // both basins share the prefix "basin-NNNN-": a prefix of b1 only up to its number
    String p = b1.substring(0, "basin-0000-".length());
    String prefixed = issue(freshId("basin-prefix"), "{\"basins\":{\"prefix\":" + quote(p) + "},\"ops\":[\"get-basin-config\",\"list-basins\",\"create-basin\"]}");
    get("/v1/basins/" + b1, bearer(prefixed)).assertStatus(200);
    get("/v1/basins/" + b2, bearer(prefixed)).assertError(403, "permission_denied");
    for (JsonNode info : get("/v1/basins", bearer(prefixed)).json().path("basins")) {
      assertTrue(info.path("name").asText().startsWith(p), info::toString);
    }
    call("POST", "/v1/basins", "{\"basin\":\"other-" + b2 + "\"}", bearer(prefixed)).assertError(403, "permission_denied");

    String none = issue(freshId("basin-none"), "{\"basins\":{\"exact\":\"\"},\"ops\":[\"get-basin-config\",\"list-basins\"]}");
    get("/v1/basins/" + b1, bearer(none)).assertError(403, "permission_denied");
    assertEquals(0, get("/v1/basins", bearer(none)).json().path("basins").size());
    String absent = issue(freshId("basin-absent"), "{\"ops\":[\"get-basin-config\"]}");
    get("/v1/basins/" + b1, bearer(absent)).assertError(403, "permission_denied");
  }

  @Test
  void streamScopeExactAndPrefix() {
    String b = adminBasin();
    for (String s : List.of("logs/a", "logs/b", "metrics/x")) {
      adminStream(b, s);
    }
    String exact = issue(freshId("stream-exact"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"exact\":\"logs/a\"},"
        + "\"ops\":[\"append\",\"list-streams\"]}");
    appendAs(exact, b, "logs/a", ONE_RECORD).assertStatus(200);
    appendAs(exact, b, "logs/b", ONE_RECORD).assertError(403, "permission_denied");
    assertEquals(List.of("logs/a"), names(get("/v1/streams", bearer(exact, "s2-basin", b)).json()));

    String prefix = issue(freshId("stream-prefix"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"logs/\"},"
        + "\"ops\":[\"append\",\"list-streams\"]}");
    appendAs(prefix, b, "logs/b", ONE_RECORD).assertStatus(200);
    appendAs(prefix, b, "metrics/x", ONE_RECORD).assertError(403, "permission_denied");
    assertEquals(List.of("logs/a", "logs/b"), names(get("/v1/streams", bearer(prefix, "s2-basin", b)).json()));
    assertEquals(List.of("logs/b"), names(get("/v1/streams?start_after=logs%2Fa", bearer(prefix, "s2-basin", b)).json()));
    assertEquals(List.of(), names(get("/v1/streams?prefix=metrics", bearer(prefix, "s2-basin", b)).json()));
    // cross-basin: the stream scope does not reach other basins
    String other = adminBasin();
    appendAs(prefix, other, "logs/a", ONE_RECORD).assertError(403, "permission_denied");
  }

  static List<String> names(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.path("streams").forEach(s -> out.add(s.path("name").asText()));
    return out;
  }

  @Test
  void commandRecordsNeedFenceOrTrim() {
    String b = adminBasin();
    adminStream(b, "s");
    String appendOnly = issue(freshId("append-only"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"ops\":[\"append\"]}");
    String fence = "{\"records\":[{\"headers\":[[\"\",\"fence\"]],\"body\":\"tok\"}]}";
    String trim = "{\"records\":[{\"headers\":[[\"\",\"dHJpbQ==\"]],\"body\":\"AAAAAAAAAAA=\"}]}"; // base64: ["", "trim"], u64 0
    appendAs(appendOnly, b, "s", fence).assertError(403, "permission_denied");
    call("POST", "/v1/streams/s/records", trim, bearer(appendOnly, "s2-basin", b, "s2-format", "base64"))
        .assertError(403, "permission_denied");
    appendAs(appendOnly, b, "s", ONE_RECORD).assertStatus(200);
    String fencer = issue(freshId("fencer"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"ops\":[\"append\",\"fence\"]}");
    appendAs(fencer, b, "s", fence).assertStatus(200);
  }

  // ---------------------------------------------------------------- expiry, escalation, auto-prefix

  @Test
  void expiredTokensAreRefused() throws Exception {
    Instant soon = Instant.now().plusMillis(1500);
    String token = issue(freshId("expiring"), "{\"ops\":[\"list-basins\"]}", "\"expires_at\":" + quote(soon.toString()));
    get("/v1/basins", bearer(token)).assertStatus(200);
    while (Instant.now().isBefore(soon.plusMillis(50))) {
      Thread.sleep(100);
    }
    Resp r = get("/v1/basins", bearer(token)).assertError(401, "authn");
    assertTrue(r.json().path("message").asText().contains("expired"), r::text);
  }

  @Test
  void aTokenCannotIssueBeyondItsOwnScopeOrExpiry() {
    String p = freshId("issuer") + "/";
    Instant expiry = Instant.now().plusSeconds(3600);
    String issuer = issue(p + "parent", "{\"access_tokens\":{\"prefix\":" + quote(p) + "},\"basins\":{\"prefix\":\"basin-\"},"
        + "\"ops\":[\"issue-access-token\",\"list-basins\"]}", "\"expires_at\":" + quote(expiry.toString()));
    // more operations than it has
    call("POST", "/v1/access-tokens", "{\"id\":" + quote(p + "up") + ",\"scope\":{\"ops\":[\"create-basin\"]}}", bearer(issuer))
        .assertError(403, "permission_denied");
    // a wider resource set
    call("POST", "/v1/access-tokens", "{\"id\":" + quote(p + "wide") + ",\"scope\":{\"ops\":[\"list-basins\"],"
        + "\"basins\":{\"prefix\":\"\"}}}", bearer(issuer)).assertError(403, "permission_denied");
    // an id outside its access_tokens scope
    call("POST", "/v1/access-tokens", "{\"id\":\"elsewhere\",\"scope\":{\"ops\":[\"list-basins\"]}}", bearer(issuer))
        .assertError(403, "permission_denied");
    // a later expiry than its own
    call("POST", "/v1/access-tokens", "{\"id\":" + quote(p + "late") + ",\"scope\":{\"ops\":[\"list-basins\"]},"
        + "\"expires_at\":" + quote(expiry.plusSeconds(60).toString()) + "}", bearer(issuer)).assertError(422, "invalid");
    // within: allowed, and it inherits the issuer's expiry
    Resp ok = call("POST", "/v1/access-tokens", "{\"id\":" + quote(p + "child") + ",\"scope\":{\"ops\":[\"list-basins\"],"
        + "\"basins\":{\"prefix\":\"basin-0\"}}}", bearer(issuer)).assertStatus(201);
    get("/v1/basins", bearer(ok.json().path("access_token").asText())).assertStatus(200);
    JsonNode child = get("/v1/access-tokens?prefix=" + enc(p + "child"), bearer(ADMIN)).json().path("access_tokens").get(0);
    assertEquals(expiry.toEpochMilli(), Instant.parse(child.path("expires_at").asText()).toEpochMilli());
  }

  @Test
  void autoPrefixStreamsNamespacesStreamNames() {
    String b = adminBasin();
    adminStream(b, "other");
    String token = issue(freshId("tenant"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"tenant/\"},"
        + "\"ops\":[\"create-stream\",\"list-streams\",\"append\",\"read\",\"get-stream-config\"]}", "\"auto_prefix_streams\":true");
    Resp created = call("POST", "/v1/streams", "{\"stream\":\"a\"}", bearer(token, "s2-basin", b)).assertStatus(201);
    assertEquals("a", created.json().path("name").asText());
    assertEquals(List.of("other", "tenant/a"), names(get("/v1/streams", bearer(ADMIN, "s2-basin", b)).json()));
    assertEquals(List.of("a"), names(get("/v1/streams", bearer(token, "s2-basin", b)).json()));
    appendAs(token, b, "a", ONE_RECORD).assertStatus(200);
    assertEquals(List.of("hello"), bodies(get("/v1/streams/tenant%2Fa/records?seq_num=0", bearer(ADMIN, "s2-basin", b)).json()));
    assertEquals(List.of("hello"), bodies(get("/v1/streams/a/records?seq_num=0", bearer(token, "s2-basin", b)).json()));
    get("/v1/streams/a", bearer(token, "s2-basin", b)).assertStatus(200);
    // "other" is "tenant/other" for this token: no such stream
    get("/v1/streams/other", bearer(token, "s2-basin", b)).assertError(404, "stream_not_found");
  }

  // ---------------------------------------------------------------- sessions

  @Test
  void s2sAppendSessionsAreAuthorized() throws Exception {
    String b = adminBasin();
    adminStream(b, "s");
    String reader = issue(freshId("s2s-reader"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"stream\":{\"read\":true}}}");
    String writer = issue(freshId("s2s-writer"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"stream\":{\"write\":true}}}");

    H2Client.Exchange none = h2.open(HttpMethod.POST, "/v1/streams/s/records", ServerSessionsTest.s2s(b), false);
    none.send(ServerSessionsTest.frame(ServerSessionsTest.input("x")));
    none.finish();
    assertEquals(401, none.awaitResponse().status().code());

    H2Client.Exchange denied = h2.open(HttpMethod.POST, "/v1/streams/s/records",
        ServerSessionsTest.s2s(b, "authorization", "Bearer " + reader), false);
    denied.send(ServerSessionsTest.frame(ServerSessionsTest.input("x")));
    denied.finish();
    assertEquals(403, denied.awaitResponse().status().code());
    assertEquals("permission_denied", JSON.readTree(denied.awaitBody()).path("code").asText());

    H2Client.Exchange ok = h2.open(HttpMethod.POST, "/v1/streams/s/records",
        ServerSessionsTest.s2s(b, "authorization", "Bearer " + writer), false);
    ok.send(ServerSessionsTest.frame(ServerSessionsTest.input("one", "two")));
    ok.finish();
    assertEquals(200, ok.awaitResponse().status().code());
    List<ServerSessionsTest.Frame> fs = ServerSessionsTest.frames(ok.awaitBody());
    assertEquals(1, fs.size());
    assertEquals(2, AppendAck.parseFrom(fs.get(0).message()).getEnd().getSeqNum());
    assertEquals(2, get("/v1/streams/s/records/tail", bearer(ADMIN, "s2-basin", b)).json().path("tail").path("seq_num").asLong());

    // a fence command in a session needs `fence`: the inputs before it are acknowledged, then a 403 terminal frame
    String appendOnly = issue(freshId("s2s-append-only"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"ops\":[\"append\"]}");
    byte[] fence = io.s2j.wire.proto.AppendInput.newBuilder().addRecords(io.s2j.wire.proto.AppendRecord.newBuilder()
        .addHeaders(io.s2j.wire.proto.Header.newBuilder().setName(com.google.protobuf.ByteString.EMPTY)
            .setValue(com.google.protobuf.ByteString.copyFromUtf8("fence")))
        .setBody(com.google.protobuf.ByteString.copyFromUtf8("tok"))).build().toByteArray();
    H2Client.Exchange fenced = h2.open(HttpMethod.POST, "/v1/streams/s/records",
        ServerSessionsTest.s2s(b, "authorization", "Bearer " + appendOnly), false);
    fenced.send(ServerSessionsTest.frame(ServerSessionsTest.input("three")));
    fenced.send(ServerSessionsTest.frame(fence));
    fenced.send(ServerSessionsTest.frame(ServerSessionsTest.input("never")));
    fenced.finish();
    assertEquals(200, fenced.awaitResponse().status().code());
    List<ServerSessionsTest.Frame> ff = ServerSessionsTest.frames(fenced.awaitBody());
    assertEquals(2, ff.size());
    assertEquals(3, AppendAck.parseFrom(ff.get(0).message()).getEnd().getSeqNum());
    assertTrue(ff.get(1).terminal());
    assertEquals(403, ff.get(1).status());
    assertEquals("permission_denied", ff.get(1).error().path("code").asText());
    assertEquals(3, get("/v1/streams/s/records/tail", bearer(ADMIN, "s2-basin", b)).json().path("tail").path("seq_num").asLong());
  }

  @Test
  void metricsApiIsScoped() {
    String b = adminBasin();
    String other = adminBasin();
    String token = issue(freshId("metrics"), "{\"basins\":{\"exact\":" + quote(b) + "},\"op_groups\":{\"basin\":{\"read\":true}}}");
    get("/v1/metrics/" + b + "?set=append-ops", bearer(token)).assertStatus(200);
    get("/v1/metrics/" + other + "?set=append-ops", bearer(token)).assertError(403, "permission_denied");
    get("/v1/metrics?set=account-ops", bearer(token)).assertError(403, "permission_denied");
    get("/v1/metrics?set=account-ops").assertError(401, "authn");
  }

  @Test
  void readSessionsAreAuthorized() {
    String b = adminBasin();
    adminStream(b, "s");
    String writer = issue(freshId("sse-writer"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"stream\":{\"write\":true}}}");
    appendAs(writer, b, "s", ONE_RECORD).assertStatus(200);
    get("/v1/streams/s/records?seq_num=0&wait=0", bearer(writer, "s2-basin", b, "accept", "text/event-stream"))
        .assertError(403, "permission_denied");
    String reader = issue(freshId("sse-reader"), "{\"basins\":{\"exact\":" + quote(b) + "},\"streams\":{\"prefix\":\"\"},"
        + "\"op_groups\":{\"stream\":{\"read\":true}}}");
    Resp sse = get("/v1/streams/s/records?seq_num=0&count=1", bearer(reader, "s2-basin", b, "accept", "text/event-stream"));
    assertEquals(200, sse.status(), sse::text);
    assertTrue(sse.text().contains("event: batch") && sse.text().contains("hello"), sse::text);
  }

  // ---------------------------------------------------------------- durability

  @Test
  void tokensAreKeptInTheMetadataStoreAcrossRestarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1")
        .withStorage(new ServerConfig.Storage.LocalDir(dir)).withAuth("durable-admin");
    String token;
    String revokedToken;
    try (Server first = Server.start(config)) {
      String base = "http://127.0.0.1:" + first.port();
      token = issueAt(base, "durable-admin", "kept");
      revokedToken = issueAt(base, "durable-admin", "revoked");
      assertEquals(204, send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/access-tokens/revoked"))
          .header("authorization", "Bearer durable-admin").DELETE()).status());
    }
    try (Server second = Server.start(config)) {
      String base = "http://127.0.0.1:" + second.port();
      assertEquals(200, send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/basins"))
          .header("authorization", "Bearer " + token).GET()).status());
      assertEquals(401, send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/basins"))
          .header("authorization", "Bearer " + revokedToken).GET()).status());
    }
    // only a digest of the secret is stored: the secret part appears in no file
    String secret = token.substring(token.indexOf('.') + 1);
    try (var files = java.nio.file.Files.walk(dir)) {
      for (java.nio.file.Path f : files.filter(java.nio.file.Files::isRegularFile).toList()) {
        String content = new String(java.nio.file.Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(content.contains(secret), f::toString);
        assertFalse(content.contains(token), f::toString);
      }
    }
  }

  private static String issueAt(String base, String admin, String id) {
    Resp r = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/access-tokens"))
        .header("authorization", "Bearer " + admin).header("content-type", "application/json")
        .POST(json("{\"id\":" + quote(id) + ",\"scope\":{\"ops\":[\"list-basins\"]}}")));
    r.assertStatus(201);
    return r.json().path("access_token").asText();
  }
}
