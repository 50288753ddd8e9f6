package io.s2j.api;

/**
 * Every {@code code} of S2's error body (S2-API §3.2) with its HTTP status, whether SDKs retry it,
 * and whether the server guarantees the failed operation changed nothing. A false
 * {@link #noSideEffects} makes a failure indefinite: the operation may have taken effect.
 */
public enum ErrorCode {
  ACCESS_TOKEN_NOT_FOUND("access_token_not_found", 404, false, true),
  AUTHN("authn", 401, false, true),
  BAD_FRAME("bad_frame", 400, false, true),
  BAD_HEADER("bad_header", 400, false, true),
  BAD_JSON("bad_json", 400, false, true),
  BAD_PATH("bad_path", 400, false, true),
  BAD_PROTO("bad_proto", 400, false, true),
  BAD_QUERY("bad_query", 400, false, true),
  BASIN_DELETION_PENDING("basin_deletion_pending", 409, false, true),
  BASIN_NOT_FOUND("basin_not_found", 404, false, true),
  CLIENT_HANGUP("client_hangup", 499, false, false),
  DECRYPTION_FAILED("decryption_failed", 400, false, true),
  HOT_SERVER("hot_server", 502, true, true),
  INVALID("invalid", 422, false, true),
  NOT_IMPLEMENTED("not_implemented", 501, false, true),
  OTHER("other", 500, true, false),
  PERMISSION_DENIED("permission_denied", 403, false, true),
  QUOTA_EXHAUSTED("quota_exhausted", 403, false, true),
  RATE_LIMITED("rate_limited", 429, true, true),
  REQUEST_TIMEOUT("request_timeout", 408, true, false),
  RESOURCE_ALREADY_EXISTS("resource_already_exists", 409, false, true),
  SERVER_DRAINING("server_draining", 503, true, true),
  STORAGE("storage", 500, true, false),
  STREAM_DELETION_PENDING("stream_deletion_pending", 409, false, true),
  STREAM_NOT_FOUND("stream_not_found", 404, false, true),
  TRANSACTION_CONFLICT("transaction_conflict", 409, true, true),
  UNAVAILABLE("unavailable", 503, true, false),
  UPSTREAM_TIMEOUT("upstream_timeout", 504, true, false);

  private final String wireCode;
  private final int httpStatus;
  private final boolean retryable;
  private final boolean noSideEffects;

  ErrorCode(String wireCode, int httpStatus, boolean retryable, boolean noSideEffects) {
    this.wireCode = wireCode;
    this.httpStatus = httpStatus;
    this.retryable = retryable;
    this.noSideEffects = noSideEffects;
  }

  /** The {@code code} string of the JSON error body. */
  public String wireCode() {
    return wireCode;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public boolean retryable() {
    return retryable;
  }

  public boolean noSideEffects() {
    return noSideEffects;
  }

  /** The code of a wire string, or null if there is none. */
  public static ErrorCode fromWireCode(String s) {
    for (ErrorCode c : values()) {
      if (c.wireCode.equals(s)) {
        return c;
      }
    }
    return null;
  }
}
