package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpMethod;
import io.s2j.server.AccessScope.Exact;
import io.s2j.server.AccessScope.Prefix;
import io.s2j.server.AccessScope.ReadWrite;
import io.s2j.server.AccessScope.Scope;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure parts of access control: groups, matching, containment, list narrowing, flags, the metadata form. */
class AccessScopeTest {
  private static Scope ops(Operation... ops) {
    return new Scope(null, null, null, null, null, null, ops.length == 0 ? Set.of() : EnumSet.of(ops[0], ops));
  }

  @Test
  void groupsGrantTheirLevelAndKind() {
    Scope streamRead = new Scope(null, null, null, null, null, new ReadWrite(true, false), Set.of());
    assertEquals(EnumSet.of(Operation.CHECK_TAIL, Operation.READ, Operation.STREAM_METRICS), streamRead.effectiveOps());
    Scope streamWrite = new Scope(null, null, null, null, null, new ReadWrite(false, true), Set.of());
    assertEquals(EnumSet.of(Operation.APPEND, Operation.TRIM, Operation.FENCE), streamWrite.effectiveOps());
    Scope basinWrite = new Scope(null, null, null, null, new ReadWrite(false, true), null, Set.of());
    assertEquals(EnumSet.of(Operation.CREATE_STREAM, Operation.DELETE_STREAM, Operation.RECONFIGURE_STREAM), basinWrite.effectiveOps());
    Scope accountRead = new Scope(null, null, null, new ReadWrite(true, false), null, null, Set.of());
    assertEquals(EnumSet.of(Operation.LIST_BASINS, Operation.GET_BASIN_CONFIG, Operation.LIST_ACCESS_TOKENS, Operation.ACCOUNT_METRICS),
        accountRead.effectiveOps());
    // union with ops
    Scope both = new Scope(null, null, null, null, null, new ReadWrite(true, false), EnumSet.of(Operation.APPEND));
    assertTrue(both.permits(Operation.APPEND) && both.permits(Operation.READ) && !both.permits(Operation.FENCE));
    assertEquals(EnumSet.allOf(Operation.class), Scope.ALL.effectiveOps());
  }

  @Test
  void resourceSets() {
    assertTrue(new Exact("a").matches("a"));
    assertFalse(new Exact("a").matches("ab"));
    assertFalse(new Exact("").matches(""), "the empty exact name matches nothing");
    assertTrue(new Prefix("").matches("anything"));
    assertTrue(new Prefix("lo").matches("logs"));
    assertFalse(new Prefix("lo").matches("l"));
  }

  @Test
  void containment() {
    assertTrue(AccessScope.setWithin(null, null));
    assertTrue(AccessScope.setWithin(new Exact(""), null));
    assertFalse(AccessScope.setWithin(new Exact("a"), null));
    assertTrue(AccessScope.setWithin(new Exact("logs/a"), new Prefix("logs/")));
    assertTrue(AccessScope.setWithin(new Prefix("logs/x"), new Prefix("logs/")));
    assertFalse(AccessScope.setWithin(new Prefix("log"), new Prefix("logs/")));
    assertFalse(AccessScope.setWithin(new Prefix("a"), new Exact("a")));
    assertTrue(AccessScope.setWithin(new Exact("a"), new Exact("a")));
    assertTrue(ops(Operation.READ).within(new Scope(null, null, null, null, null, new ReadWrite(true, false), Set.of())));
    assertFalse(ops(Operation.APPEND).within(new Scope(null, null, null, null, null, new ReadWrite(true, false), Set.of())));
  }

  @Test
  void narrowingListings() {
    assertNull(Principal.narrow(null, "", ""));
    assertNull(Principal.narrow(new Exact(""), "", ""));
    assertEquals(new Principal.Listing("abc", "", "abc"), Principal.narrow(new Exact("abc"), "a", ""));
    assertNull(Principal.narrow(new Exact("abc"), "b", ""));
    assertNull(Principal.narrow(new Exact("abc"), "", "abc"), "start_after excludes the name itself");
    assertEquals(new Principal.Listing("ab", "x", null), Principal.narrow(new Prefix("a"), "ab", "x"));
    assertEquals(new Principal.Listing("ab", "", null), Principal.narrow(new Prefix("ab"), "a", ""));
    assertNull(Principal.narrow(new Prefix("ab"), "b", ""));
  }

  @Test
  void autoPrefixing() {
    Principal p = new Principal("t", null, true, new Scope(null, new Prefix("tenant/"), null, null, null, null, Set.of(Operation.READ)));
    assertEquals("tenant/a", p.stream(new io.s2j.api.StreamName("a"), ApiError::badPath).value());
    assertEquals("a", p.clientStreamName("tenant/a"));
    assertNull(p.clientStreamName("other"));
    assertThrows(ApiError.class, () -> p.stream(new io.s2j.api.StreamName("x".repeat(510)), ApiError::badPath));
    Principal off = new Principal("t", null, false, p.scope());
    assertEquals("a", off.stream(new io.s2j.api.StreamName("a"), ApiError::badPath).value());
  }

  @Test
  void metadataRoundTrip() {
    AccessScope.TokenInfo t = new AccessScope.TokenInfo("id", 1234L, true, new Scope(new Exact("b"), new Prefix("p/"), null,
        new ReadWrite(true, false), null, new ReadWrite(false, true), EnumSet.of(Operation.READ, Operation.BASIN_METRICS)));
    AccessScope.TokenInfo back = AccessScope.fromMeta("id", AccessScope.toMeta(t, new byte[32], 1));
    assertEquals(t, back);
  }

  @Test
  void operationsOfRequests() {
    assertEquals(Operation.LIST_BASINS, Operation.of(HttpMethod.GET, List.of("v1", "basins")));
    assertEquals(Operation.CREATE_BASIN, Operation.of(HttpMethod.PUT, List.of("v1", "basins", "b")));
    assertEquals(Operation.APPEND, Operation.of(HttpMethod.POST, List.of("v1", "streams", "s", "records")));
    assertEquals(Operation.CHECK_TAIL, Operation.of(HttpMethod.GET, List.of("v1", "streams", "s", "records", "tail")));
    assertEquals(Operation.REVOKE_ACCESS_TOKEN, Operation.of(HttpMethod.DELETE, List.of("v1", "access-tokens", "x")));
    assertEquals(Operation.STREAM_METRICS, Operation.of(HttpMethod.GET, List.of("v1", "metrics", "b", "s")));
    assertNull(Operation.of(HttpMethod.GET, List.of("v1", "locations")));
    assertNull(Operation.of(HttpMethod.PATCH, List.of("v1", "basins")));
    for (Operation o : Operation.values()) {
      assertEquals(o, Operation.parse(o.wireName));
    }
  }

  @Test
  void commandLineFlags() {
    ServerConfig off = ServerMain.parse(new String[0], Map.of());
    assertFalse(off.auth());
    ServerConfig on = ServerMain.parse(new String[] {"--auth", "--admin-token", "secret"}, Map.of());
    assertTrue(on.auth());
    assertEquals("secret", on.adminToken());
    assertFalse(on.toString().contains("secret"), "the config never prints the token");
    ServerConfig env = ServerMain.parse(new String[0], Map.of("S2J_AUTH", "true", "S2J_ADMIN_TOKEN", "t"));
    assertTrue(env.auth());
    assertEquals("t", env.adminToken());
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parse(new String[0], Map.of("S2J_AUTH", "maybe")));
  }
}
