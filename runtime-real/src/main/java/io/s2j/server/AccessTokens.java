package io.s2j.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.frontend.Outcome;
import io.s2j.frontend.Page;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.AccessTokenMeta;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.server.AccessScope.TokenInfo;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * S2's access tokens (S2-API §13.1) on the cell's metadata store (key type 0x08, value
 * {@code AccessTokenMeta}): issue, list, revoke, and authentication of {@code Authorization:
 * Bearer} headers.
 *
 * <p>A token is {@code base64url(id) "." base64url(32 random bytes)} (no padding). Only its
 * SHA-256 is stored, so a token is shown once, when issued; authenticating one is a single metadata
 * read by the id it carries and a constant-time comparison of digests. Revoking deletes the key, so
 * the next request with that token fails. The bootstrap admin token is not stored: it is the
 * server's configuration ({@code --admin-token}), compared the same way, and has every permission.
 *
 * <p>Metadata calls run on the frontend's executor ({@link Frontend#call}).
 */
final class AccessTokens {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  static final int SECRET_BYTES = 32;

  private final Frontend fe;
  private final boolean enabled;
  private final byte[] adminDigest;
  private final SecureRandom random = new SecureRandom();

  /**
   * @param enabled whether requests must authenticate; when not, every request is
   *     {@link Principal#UNRESTRICTED} and Authorization headers are ignored (as in s2-lite)
   * @param adminToken the bootstrap token with every permission (needed when enabled)
   */
  AccessTokens(Frontend fe, boolean enabled, String adminToken) {
    if (enabled && (adminToken == null || adminToken.isEmpty())) {
      throw new IllegalArgumentException("auth needs an admin token");
    }
    this.fe = fe;
    this.enabled = enabled;
    this.adminDigest = adminToken == null ? null : sha256(adminToken);
  }

  boolean enabled() {
    return enabled;
  }

  /** A fresh random admin token (printed once at startup when none is configured). */
  static String newAdminToken() {
    byte[] b = new byte[SECRET_BYTES];
    new SecureRandom().nextBytes(b);
    return "s2j-admin." + B64.encodeToString(b);
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  // ---------------------------------------------------------------- authentication

  /** The principal of a request from its {@code Authorization} header; 401 {@code authn} when it has none. */
  CompletableFuture<Outcome<Principal>> authenticate(String authorization) {
    if (!enabled) {
      return CompletableFuture.completedFuture(Outcome.ok(Principal.UNRESTRICTED));
    }
    if (authorization == null) {
      return failed(ErrorCode.AUTHN, "missing `Authorization: Bearer <access token>` header");
    }
    String h = authorization.trim();
    if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return failed(ErrorCode.AUTHN, "the `Authorization` header must be `Bearer <access token>`");
    }
    String token = h.substring(7).trim();
    byte[] digest = sha256(token);
    if (MessageDigest.isEqual(digest, adminDigest)) {
      return CompletableFuture.completedFuture(Outcome.ok(Principal.UNRESTRICTED));
    }
    String id = idOf(token);
    if (id == null) {
      return failed(ErrorCode.AUTHN, "invalid access token");
    }
    return fe.call(f -> f.env().metadataStore().get(MetaKey.accessToken(id)).map(kv -> {
      Optional<AccessTokenMeta> meta = kv.map(AccessTokens::meta);
      // Unknown and revoked tokens are not told apart from wrong secrets.
      if (meta.isEmpty() || !MessageDigest.isEqual(digest, meta.get().getSecretSha256().toByteArray())) {
        return Outcome.<Principal>failed(new S2Error(ErrorCode.AUTHN, "invalid access token"));
      }
      TokenInfo info = AccessScope.fromMeta(id, meta.get());
      if (info.expiresAtMs() != null && info.expiresAtMs() <= f.env().clock().wallMillis()) {
        return Outcome.<Principal>failed(new S2Error(ErrorCode.AUTHN, "access token expired"));
      }
      return Outcome.ok(Principal.of(info));
    }).handle(AccessTokens::storeFailure));
  }

  /** The id a token carries, or null if it is not one of ours. */
  static String idOf(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0 || dot == token.length() - 1) {
      return null;
    }
    try {
      byte[] id = B64D.decode(token.substring(0, dot));
      if (B64D.decode(token.substring(dot + 1)).length != SECRET_BYTES) {
        return null;
      }
      String s = new String(id, StandardCharsets.UTF_8);
      return AccessScope.tokenIdProblem(s) == null && s.getBytes(StandardCharsets.UTF_8).length == id.length ? s : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- issue / list / revoke

  /**
   * {@code POST /v1/access-tokens}: {@code requested} must be within the requester's scope and
   * expiry; a missing {@code expires_at} takes the requester's. Returns the token, shown once.
   */
  CompletableFuture<Outcome<String>> issue(Principal requester, TokenInfo requested) {
    requester.requireToken(Operation.ISSUE_ACCESS_TOKEN, requested.id());
    long now = System.currentTimeMillis();
    Long expiresAt = requested.expiresAtMs() != null ? requested.expiresAtMs() : requester.expiresAtMs();
    if (expiresAt != null && expiresAt <= now) {
      throw ApiError.invalid("`expires_at` must be in the future");
    }
    if (requester.expiresAtMs() != null && expiresAt != null && expiresAt > requester.expiresAtMs()) {
      throw ApiError.invalid("`expires_at` must not be later than the requesting access token's expiry ("
          + Json.rfc3339(requester.expiresAtMs()) + ")");
    }
    if (requested.scope().effectiveOps().isEmpty()) {
      throw ApiError.invalid("access token scope must permit at least one operation (`ops` or `op_groups`)");
    }
    if (requested.autoPrefixStreams() && !(requested.scope().streams() instanceof AccessScope.Prefix)) {
      throw ApiError.invalid("`auto_prefix_streams` requires the `streams` scope to be a prefix");
    }
    if (!requested.scope().within(requester.scope())) {
      throw AccessScope.denied("the requested scope is not within this access token's scope");
    }
    TokenInfo info = new TokenInfo(requested.id(), expiresAt, requested.autoPrefixStreams(), requested.scope());
    byte[] secret = new byte[SECRET_BYTES];
    random.nextBytes(secret);
    String token = B64.encodeToString(requested.id().getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(secret);
    AccessTokenMeta meta = AccessScope.toMeta(info, sha256(token), now);
    ByteString key = MetaKey.accessToken(info.id());
    return fe.call(f -> f.env().metadataStore().commit(Txn.builder().ifAbsent(key).put(key, meta.toByteString()).build())
        .map(result -> switch (result) {
          case TxnResult.Committed c -> Outcome.ok(token);
          case TxnResult.ConditionFailed c -> Outcome.<String>failed(
              new S2Error(ErrorCode.RESOURCE_ALREADY_EXISTS, "access token `" + info.id() + "` already exists"));
        }).handle(AccessTokens::storeFailure));
  }

  /**
   * {@code GET /v1/access-tokens}: the tokens of the requester's {@code access_tokens} scope with
   * ids starting with {@code prefix}, after {@code startAfter}, at most {@code limit}.
   */
  CompletableFuture<Outcome<Page<TokenInfo>>> list(Principal requester, String prefix, String startAfter, int limit) {
    requester.require(Operation.LIST_ACCESS_TOKENS);
    Principal.Listing listing = Principal.narrow(requester.scope().accessTokens(), prefix, startAfter);
    if (listing == null) {
      return CompletableFuture.completedFuture(Outcome.ok(new Page<>(List.of(), false)));
    }
    ByteString from = MetaKey.accessTokensPrefix(listing.prefix());
    ByteString end = MetadataStore.prefixEnd(from);
    if (!listing.startAfter().isEmpty()) {
      ByteString after = MetaKey.accessTokensPrefix(listing.startAfter()).concat(ByteString.copyFrom(new byte[] {0}));
      if (ByteString.unsignedLexicographicalComparator().compare(after, from) > 0) {
        from = after;
      }
    }
    ByteString start = from;
    int n = listing.only() != null ? 1 : limit;
    if (ByteString.unsignedLexicographicalComparator().compare(start, end) >= 0) {
      return CompletableFuture.completedFuture(Outcome.ok(new Page<>(List.of(), false)));
    }
    return fe.call(f -> f.env().metadataStore().scan(start, end, n).map(page -> {
      List<TokenInfo> items = new ArrayList<>();
      for (KeyValue kv : page.entries()) {
        String id = MetaKey.accessTokenId(kv.key());
        if (listing.only() == null || listing.only().equals(id)) {
          items.add(AccessScope.fromMeta(id, meta(kv)));
        }
      }
      return Outcome.ok(new Page<>(items, listing.only() == null && page.more()));
    }).handle(AccessTokens::storeFailure));
  }

  /** {@code DELETE /v1/access-tokens/{id}}: 404 {@code access_token_not_found} if there is none. */
  CompletableFuture<Outcome<Boolean>> revoke(Principal requester, String id) {
    requester.requireToken(Operation.REVOKE_ACCESS_TOKEN, id);
    ByteString key = MetaKey.accessToken(id);
    return fe.call(f -> {
      MetadataStore store = f.env().metadataStore();
      return store.get(key).flatMap(current -> {
        if (current.isEmpty()) {
          return Promise.completed(f.env().scheduler(), notFound(id));
        }
        return store.commit(Txn.builder().ifRevision(key, current.get().modRevision()).delete(key).build())
            .map(r -> r instanceof TxnResult.Committed ? Outcome.ok(Boolean.TRUE) : notFound(id));
      }).handle(AccessTokens::storeFailure);
    });
  }

  private static Outcome<Boolean> notFound(String id) {
    return Outcome.failed(new S2Error(ErrorCode.ACCESS_TOKEN_NOT_FOUND, "access token `" + id + "` not found"));
  }

  private static AccessTokenMeta meta(KeyValue kv) {
    try {
      return AccessTokenMeta.parseFrom(kv.value());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt access token metadata at " + MetaKey.accessTokenId(kv.key()), e);
    }
  }

  private static <T> Outcome<T> storeFailure(Outcome<T> value, Throwable failure) {
    if (failure == null) {
      return value;
    }
    if (failure instanceof IoFailure io) {
      return new Outcome.Failed<>(new S2Error(ErrorCode.UNAVAILABLE, "access tokens: metadata store unavailable"), io.indefinite());
    }
    throw failure instanceof RuntimeException re ? re : new IllegalStateException(failure);
  }

  private static <T> CompletableFuture<Outcome<T>> failed(ErrorCode code, String message) {
    return CompletableFuture.completedFuture(Outcome.failed(new S2Error(code, message)));
  }
}
