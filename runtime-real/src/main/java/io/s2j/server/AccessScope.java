package io.s2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.s2j.api.BasinName;
import io.s2j.api.Checked;
import io.s2j.api.ErrorCode;
import io.s2j.api.StreamName;
import io.s2j.metadata.proto.AccessTokenMeta;
import io.s2j.metadata.proto.AccessTokenScopeMeta;
import io.s2j.metadata.proto.ReadWriteMeta;
import io.s2j.metadata.proto.ResourceSetMeta;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * S2's access-token scope (openapi {@code AccessTokenScope}, {@code AccessTokenInfo}): resource
 * matching, the effective operations, containment (a token may only issue tokens within its own
 * scope), and the JSON and metadata forms.
 */
final class AccessScope {
  private AccessScope() {}

  static final int TOKEN_ID_BYTES_MAX = 96;

  /** {@code {"exact": name}} or {@code {"prefix": p}}; "no access" is a null set. */
  sealed interface ResourceSet {
    boolean matches(String name);
  }

  /** Exactly {@code name}; the empty name matches nothing. */
  record Exact(String name) implements ResourceSet {
    @Override
    public boolean matches(String n) {
      return !name.isEmpty() && name.equals(n);
    }
  }

  /** Every name starting with {@code prefix}; the empty prefix matches everything. */
  record Prefix(String prefix) implements ResourceSet {
    @Override
    public boolean matches(String n) {
      return n.startsWith(prefix);
    }
  }

  /** A group's permissions at one level; a null group grants what {@code (false, false)} grants. */
  record ReadWrite(boolean read, boolean write) {
    static final ReadWrite NONE = new ReadWrite(false, false);
    static final ReadWrite ALL = new ReadWrite(true, true);
  }

  /** An access token's scope; null resource sets and groups grant nothing. */
  record Scope(ResourceSet basins, ResourceSet streams, ResourceSet accessTokens,
      ReadWrite account, ReadWrite basin, ReadWrite stream, Set<Operation> ops) {
    Scope {
      ops = ops.isEmpty() ? Collections.unmodifiableSet(EnumSet.noneOf(Operation.class))
          : Collections.unmodifiableSet(EnumSet.copyOf(ops));
    }

    /** Everything on every resource: the bootstrap admin token's scope, and everyone's with auth off. */
    static final Scope ALL = new Scope(new Prefix(""), new Prefix(""), new Prefix(""),
        ReadWrite.ALL, ReadWrite.ALL, ReadWrite.ALL, EnumSet.noneOf(Operation.class));

    /** The union of {@link #ops} and the operations of the granted groups. */
    Set<Operation> effectiveOps() {
      EnumSet<Operation> all = EnumSet.noneOf(Operation.class);
      all.addAll(ops);
      for (Operation o : Operation.values()) {
        ReadWrite g = switch (o.level) {
          case ACCOUNT -> account;
          case BASIN -> basin;
          case STREAM -> stream;
        };
        if (g != null && (o.write ? g.write() : g.read())) {
          all.add(o);
        }
      }
      return all;
    }

    boolean permits(Operation op) {
      return effectiveOps().contains(op);
    }

    /** True if every operation and resource this scope grants, {@code parent} grants too. */
    boolean within(Scope parent) {
      return parent.effectiveOps().containsAll(effectiveOps())
          && setWithin(basins, parent.basins)
          && setWithin(streams, parent.streams)
          && setWithin(accessTokens, parent.accessTokens);
    }
  }

  /** An issued token as listed (the secret is never kept). */
  record TokenInfo(String id, Long expiresAtMs, boolean autoPrefixStreams, Scope scope) {}

  /** True if every name {@code child} matches, {@code parent} matches. */
  static boolean setWithin(ResourceSet child, ResourceSet parent) {
    if (child == null || (child instanceof Exact e && e.name().isEmpty())) {
      return true; // grants nothing
    }
    if (parent == null) {
      return false;
    }
    return switch (child) {
      case Exact e -> parent.matches(e.name());
      case Prefix p -> parent instanceof Prefix pp && p.prefix().startsWith(pp.prefix());
    };
  }

  // ---------------------------------------------------------------- JSON in

  /**
   * An {@code AccessTokenInfo} request body: shapes and names are checked here ({@code 400
   * bad_json}), the rules that need more context by the caller.
   */
  static TokenInfo tokenInfo(JsonNode body) {
    ObjectNode o = Json.object(body, "access token info");
    String id = tokenId(Json.required(o, "id"));
    Long expiresAtMs = null;
    JsonNode exp = o.get("expires_at");
    if (exp != null && !exp.isNull()) {
      if (!exp.isTextual()) {
        throw ApiError.badJson("invalid type for `expires_at`: expected an RFC 3339 string");
      }
      try {
        expiresAtMs = OffsetDateTime.parse(exp.textValue()).toInstant().toEpochMilli();
      } catch (DateTimeParseException | ArithmeticException e) {
        throw ApiError.badJson("invalid value for `expires_at`: expected an RFC 3339 timestamp, got `" + exp.textValue() + "`");
      }
    }
    boolean autoPrefix = false;
    JsonNode ap = o.get("auto_prefix_streams");
    if (ap != null && !ap.isNull()) {
      if (!ap.isBoolean()) {
        throw ApiError.badJson("invalid type for `auto_prefix_streams`: expected a boolean");
      }
      autoPrefix = ap.booleanValue();
    }
    return new TokenInfo(id, expiresAtMs, autoPrefix, scope(Json.required(o, "scope")));
  }

  static String tokenId(JsonNode v) {
    if (v == null || !v.isTextual()) {
      throw ApiError.badJson("invalid type for `id`: expected a string");
    }
    String problem = tokenIdProblem(v.textValue());
    if (problem != null) {
      throw ApiError.badJson(problem);
    }
    return v.textValue();
  }

  /** Why {@code id} is not a valid access token id, or null. */
  static String tokenIdProblem(String id) {
    if (id.isEmpty()) {
      return "access token id must not be empty";
    }
    if (id.equals(".") || id.equals("..")) {
      return "access token id must not be \".\" or \"..\"";
    }
    if (id.getBytes(StandardCharsets.UTF_8).length > TOKEN_ID_BYTES_MAX) {
      return "access token id must not exceed " + TOKEN_ID_BYTES_MAX + " bytes in length";
    }
    return null;
  }

  /** Why {@code prefix} is not a valid access token id prefix or start_after, or null. */
  static String tokenIdPrefixProblem(String field, String prefix) {
    if (prefix.getBytes(StandardCharsets.UTF_8).length > TOKEN_ID_BYTES_MAX) {
      return "access token " + field + " must not exceed " + TOKEN_ID_BYTES_MAX + " bytes in length";
    }
    return null;
  }

  static Scope scope(JsonNode v) {
    ObjectNode o = Json.object(v, "access token scope");
    ResourceSet basins = resourceSet(o.get("basins"), "basins", AccessScope::basinExactProblem,
        p -> problemOf(BasinName.parsePrefix(p)));
    ResourceSet streams = resourceSet(o.get("streams"), "streams", AccessScope::streamExactProblem,
        p -> problemOf(StreamName.parsePrefix(p)));
    ResourceSet tokens = resourceSet(o.get("access_tokens"), "access_tokens",
        e -> e.isEmpty() ? null : tokenIdProblem(e), p -> tokenIdPrefixProblem("id prefix", p));
    ReadWrite account = null;
    ReadWrite basin = null;
    ReadWrite stream = null;
    JsonNode groups = o.get("op_groups");
    if (groups != null && !groups.isNull()) {
      ObjectNode g = Json.object(groups, "op_groups");
      account = readWrite(g.get("account"), "op_groups.account");
      basin = readWrite(g.get("basin"), "op_groups.basin");
      stream = readWrite(g.get("stream"), "op_groups.stream");
    }
    EnumSet<Operation> ops = EnumSet.noneOf(Operation.class);
    JsonNode opsNode = o.get("ops");
    if (opsNode != null && !opsNode.isNull()) {
      if (!opsNode.isArray()) {
        throw ApiError.badJson("invalid type for `ops`: expected an array of operations");
      }
      for (JsonNode op : opsNode) {
        if (!op.isTextual()) {
          throw ApiError.badJson("invalid type for `ops`: expected an array of operations");
        }
        Operation parsed = Operation.parse(op.textValue());
        if (parsed == null) {
          throw ApiError.badJson("unknown variant `" + op.textValue() + "` for `ops`");
        }
        ops.add(parsed);
      }
    }
    return new Scope(basins, streams, tokens, account, basin, stream, ops);
  }

  private static String basinExactProblem(String name) {
    return name.isEmpty() ? null : problemOf(BasinName.parse(name));
  }

  private static String streamExactProblem(String name) {
    return name.isEmpty() ? null : problemOf(StreamName.parse(name));
  }

  private static String problemOf(Checked<?> c) {
    return c instanceof Checked.Invalid<?> bad ? bad.message() : null;
  }

  private static ResourceSet resourceSet(JsonNode v, String field, java.util.function.Function<String, String> exactProblem,
      java.util.function.Function<String, String> prefixProblem) {
    if (v == null || v.isNull()) {
      return null;
    }
    ObjectNode o = Json.object(v, "`" + field + "` resource set");
    JsonNode exact = o.get("exact");
    JsonNode prefix = o.get("prefix");
    if ((exact == null) == (prefix == null)) {
      throw ApiError.badJson("invalid `" + field + "`: expected exactly one of `exact` or `prefix`");
    }
    JsonNode s = exact != null ? exact : prefix;
    if (!s.isTextual()) {
      throw ApiError.badJson("invalid type for `" + field + "`: expected a string");
    }
    String problem = (exact != null ? exactProblem : prefixProblem).apply(s.textValue());
    if (problem != null) {
      throw ApiError.badJson("invalid `" + field + "`: " + problem);
    }
    return exact != null ? new Exact(s.textValue()) : new Prefix(s.textValue());
  }

  private static ReadWrite readWrite(JsonNode v, String field) {
    if (v == null || v.isNull()) {
      return null;
    }
    ObjectNode o = Json.object(v, "`" + field + "`");
    return new ReadWrite(flag(o.get("read"), field + ".read"), flag(o.get("write"), field + ".write"));
  }

  private static boolean flag(JsonNode v, String field) {
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw ApiError.badJson("invalid type for `" + field + "`: expected a boolean");
    }
    return v.booleanValue();
  }

  // ---------------------------------------------------------------- JSON out

  static ObjectNode json(TokenInfo t) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode o = f.objectNode().put("id", t.id());
    if (t.expiresAtMs() == null) {
      o.putNull("expires_at");
    } else {
      o.put("expires_at", Json.rfc3339(t.expiresAtMs()));
    }
    o.put("auto_prefix_streams", t.autoPrefixStreams());
    Scope s = t.scope();
    ObjectNode scope = o.putObject("scope");
    scope.set("basins", json(s.basins()));
    scope.set("streams", json(s.streams()));
    scope.set("access_tokens", json(s.accessTokens()));
    if (s.account() == null && s.basin() == null && s.stream() == null) {
      scope.putNull("op_groups");
    } else {
      ObjectNode g = scope.putObject("op_groups");
      g.set("account", json(s.account()));
      g.set("basin", json(s.basin()));
      g.set("stream", json(s.stream()));
    }
    ArrayNode ops = scope.putArray("ops");
    s.ops().forEach(op -> ops.add(op.wireName));
    return o;
  }

  private static JsonNode json(ResourceSet r) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return switch (r) {
      case null -> f.nullNode();
      case Exact e -> f.objectNode().put("exact", e.name());
      case Prefix p -> f.objectNode().put("prefix", p.prefix());
    };
  }

  private static JsonNode json(ReadWrite rw) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return rw == null ? f.nullNode() : f.objectNode().put("read", rw.read()).put("write", rw.write());
  }

  // ---------------------------------------------------------------- metadata form

  static AccessTokenMeta toMeta(TokenInfo t, byte[] secretSha256, long issuedAtMs) {
    AccessTokenMeta.Builder b = AccessTokenMeta.newBuilder()
        .setSecretSha256(com.google.protobuf.ByteString.copyFrom(secretSha256))
        .setAutoPrefixStreams(t.autoPrefixStreams())
        .setScope(toMeta(t.scope()))
        .setIssuedAtMs(issuedAtMs);
    if (t.expiresAtMs() != null) {
      b.setExpiresAtMs(t.expiresAtMs());
    }
    return b.build();
  }

  static AccessTokenScopeMeta toMeta(Scope s) {
    AccessTokenScopeMeta.Builder b = AccessTokenScopeMeta.newBuilder();
    if (s.basins() != null) {
      b.setBasins(toMeta(s.basins()));
    }
    if (s.streams() != null) {
      b.setStreams(toMeta(s.streams()));
    }
    if (s.accessTokens() != null) {
      b.setAccessTokens(toMeta(s.accessTokens()));
    }
    if (s.account() != null) {
      b.setAccount(toMeta(s.account()));
    }
    if (s.basin() != null) {
      b.setBasin(toMeta(s.basin()));
    }
    if (s.stream() != null) {
      b.setStream(toMeta(s.stream()));
    }
    s.ops().forEach(op -> b.addOps(op.wireName));
    return b.build();
  }

  private static ResourceSetMeta toMeta(ResourceSet r) {
    return switch (r) {
      case Exact e -> ResourceSetMeta.newBuilder().setExact(e.name()).build();
      case Prefix p -> ResourceSetMeta.newBuilder().setPrefix(p.prefix()).build();
    };
  }

  private static ReadWriteMeta toMeta(ReadWrite rw) {
    return ReadWriteMeta.newBuilder().setRead(rw.read()).setWrite(rw.write()).build();
  }

  static TokenInfo fromMeta(String id, AccessTokenMeta m) {
    return new TokenInfo(id, m.hasExpiresAtMs() ? m.getExpiresAtMs() : null, m.getAutoPrefixStreams(), fromMeta(m.getScope()));
  }

  static Scope fromMeta(AccessTokenScopeMeta m) {
    EnumSet<Operation> ops = EnumSet.noneOf(Operation.class);
    for (String name : m.getOpsList()) {
      Operation op = Operation.parse(name);
      if (op == null) {
        // Written by a newer version that knows more operations: this version cannot grant it.
        continue;
      }
      ops.add(op);
    }
    return new Scope(
        m.hasBasins() ? fromMeta(m.getBasins()) : null,
        m.hasStreams() ? fromMeta(m.getStreams()) : null,
        m.hasAccessTokens() ? fromMeta(m.getAccessTokens()) : null,
        m.hasAccount() ? new ReadWrite(m.getAccount().getRead(), m.getAccount().getWrite()) : null,
        m.hasBasin() ? new ReadWrite(m.getBasin().getRead(), m.getBasin().getWrite()) : null,
        m.hasStream() ? new ReadWrite(m.getStream().getRead(), m.getStream().getWrite()) : null,
        ops);
  }

  private static ResourceSet fromMeta(ResourceSetMeta m) {
    return switch (m.getSetCase()) {
      case EXACT -> new Exact(m.getExact());
      case PREFIX -> new Prefix(m.getPrefix());
      case SET_NOT_SET -> new Exact(""); // unknown future kind: grant nothing
    };
  }

  /** A 403 {@code permission_denied}. */
  static ApiError denied(String message) {
    return new ApiError(ErrorCode.PERMISSION_DENIED, message);
  }

  /** A 401 {@code authn}. */
  static ApiError unauthenticated(String message) {
    return new ApiError(ErrorCode.AUTHN, message);
  }
}
