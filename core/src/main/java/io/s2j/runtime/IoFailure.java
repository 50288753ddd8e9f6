package io.s2j.runtime;

/**
 * A failure of a runtime seam (network, object store, metadata store), carried as a promise's
 * failure.
 *
 * <p>Every instance says whether the operation may have taken effect. A <em>definite</em> failure
 * did not take effect (the request was refused or never delivered). An <em>indefinite</em> failure
 * may or may not have taken effect, now or later (a timeout, a server error after the request was
 * accepted): callers must not assume either, and clients and the checker treat it as possibly
 * applied. Stack traces are not captured: these are expected outcomes, not bugs.
 */
public final class IoFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, as far as the caller can tell. */
  public enum Kind {
    /** Refused or undeliverable: the destination is down, unreachable, or has no such handler. */
    UNAVAILABLE,
    /** Rejected for load (S3 503 SlowDown): always definite. */
    THROTTLED,
    /** A conflicting concurrent operation made the store reject it (S3 409): always definite. */
    CONFLICT,
    /**
     * Refused as malformed or forbidden (S3 400/403, a missing bucket): always definite, and a
     * retry will not help; a configuration error or a bug.
     */
    REJECTED,
    /** The server failed while handling the request (5xx, a handler that threw). */
    SERVER_ERROR,
    /** No answer within the deadline: always indefinite. */
    TIMEOUT
  }

  private final Kind kind;
  private final boolean indefinite;

  private IoFailure(Kind kind, boolean indefinite, String message) {
    super(kind + (indefinite ? " (indefinite): " : " (definite): ") + message, null, false, false);
    this.kind = kind;
    this.indefinite = indefinite;
  }

  /** A failure that certainly did not take effect. */
  public static IoFailure definite(Kind kind, String message) {
    Invariants.check(kind != Kind.TIMEOUT, "a timeout is never definite");
    return new IoFailure(kind, false, message);
  }

  /** A failure that may or may not have taken effect. */
  public static IoFailure indefinite(Kind kind, String message) {
    Invariants.check(
        kind != Kind.THROTTLED && kind != Kind.CONFLICT && kind != Kind.UNAVAILABLE && kind != Kind.REJECTED,
        "%s is always definite",
        kind);
    return new IoFailure(kind, true, message);
  }

  /** A timeout: indefinite by nature. */
  public static IoFailure timeout(String message) {
    return new IoFailure(Kind.TIMEOUT, true, message);
  }

  public Kind kind() {
    return kind;
  }

  /** True if the operation may have taken effect. */
  public boolean indefinite() {
    return indefinite;
  }
}
