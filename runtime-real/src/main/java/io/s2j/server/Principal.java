package io.s2j.server;

import io.s2j.api.BasinName;
import io.s2j.api.Checked;
import io.s2j.api.StreamName;
import io.s2j.server.AccessScope.Exact;
import io.s2j.server.AccessScope.Prefix;
import io.s2j.server.AccessScope.ResourceSet;
import io.s2j.server.AccessScope.Scope;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Who a request acts as, and what it may do: an access token's scope, or everything (auth off, or
 * the bootstrap admin token). Authorization failures are {@code 403 permission_denied}.
 *
 * @param tokenId the token's id; null for {@link #UNRESTRICTED}
 * @param expiresAtMs when the token expires (null: never); the default and maximum expiry of the
 *     tokens it issues
 * @param autoPrefixStreams stream names in requests are prefixed with the stream scope's prefix,
 *     and the prefix is stripped from names in responses
 */
record Principal(String tokenId, Long expiresAtMs, boolean autoPrefixStreams, Scope scope) {
  static final Principal UNRESTRICTED = new Principal(null, null, false, Scope.ALL);

  static Principal of(AccessScope.TokenInfo t) {
    return new Principal(t.id(), t.expiresAtMs(), t.autoPrefixStreams(), t.scope());
  }

  void require(Operation op) {
    if (!scope.permits(op)) {
      throw AccessScope.denied("operation `" + op.wireName + "` is not permitted by this access token");
    }
  }

  void requireBasin(Operation op, BasinName basin) {
    require(op);
    if (scope.basins() == null || !scope.basins().matches(basin.value())) {
      throw AccessScope.denied("basin `" + basin.value() + "` is outside this access token's scope");
    }
  }

  /** {@code stream} is the name as stored (already prefixed, see {@link #stream}). */
  void requireStream(Operation op, BasinName basin, StreamName stream) {
    requireBasin(op, basin);
    if (scope.streams() == null || !scope.streams().matches(stream.value())) {
      throw AccessScope.denied("stream `" + stream.value() + "` is outside this access token's scope");
    }
  }

  void requireToken(Operation op, String tokenId) {
    require(op);
    if (scope.accessTokens() == null || !scope.accessTokens().matches(tokenId)) {
      throw AccessScope.denied("access token `" + tokenId + "` is outside this access token's scope");
    }
  }

  /** The prefix auto-prefixing adds ("" when off). */
  String streamPrefix() {
    return autoPrefixStreams && scope.streams() instanceof Prefix p ? p.prefix() : "";
  }

  /**
   * The stored name of a stream named {@code requested} by the client; {@code onInvalid} makes
   * the error when the prefixed name is too long (bad_path for a path, bad_json for a body).
   */
  StreamName stream(StreamName requested, java.util.function.Function<String, ApiError> onInvalid) {
    String prefix = streamPrefix();
    if (prefix.isEmpty()) {
      return requested;
    }
    return switch (StreamName.parse(prefix + requested.value())) {
      case Checked.Ok<StreamName> ok -> ok.value();
      case Checked.Invalid<StreamName> bad -> throw onInvalid.apply("with this access token's prefix: " + bad.message());
    };
  }

  /** The name a client sees for stored stream {@code name} (null if it cannot see it under its prefix). */
  String clientStreamName(String name) {
    String prefix = streamPrefix();
    if (!name.startsWith(prefix)) {
      return null;
    }
    String stripped = name.substring(prefix.length());
    return stripped.isEmpty() ? null : stripped;
  }

  /**
   * How to list within both a client's {@code prefix}/{@code startAfter} and a scope's resource
   * set: the prefix to list with, and, for an exact set, the only name that may appear.
   */
  record Listing(String prefix, String startAfter, String only) {}

  /** The listing to run, or null if the scope leaves nothing to list. */
  static Listing narrow(ResourceSet set, String prefix, String startAfter) {
    return switch (set) {
      case null -> null;
      case Exact e -> e.name().isEmpty() || !e.name().startsWith(prefix) || compareBytes(e.name(), startAfter) <= 0
          ? null : new Listing(e.name(), startAfter, e.name());
      case Prefix p -> prefix.startsWith(p.prefix()) ? new Listing(prefix, startAfter, null)
          : p.prefix().startsWith(prefix) ? new Listing(p.prefix(), startAfter, null)
          : null;
    };
  }

  static int compareBytes(String a, String b) {
    return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
