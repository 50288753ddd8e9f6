package io.s2j.api;

/**
 * An expected failure reported as S2's {@code ErrorInfo} body: a code and lite's message. The two
 * statuses with other bodies (412, 416) have their own types ({@link AppendResult.SeqNumMismatch},
 * {@link AppendResult.FencingTokenMismatch}, {@link StartResolution.Unsatisfiable}).
 */
public record S2Error(ErrorCode code, String message) {
  public S2Error {
    if (code == null || message == null) {
      throw new IllegalArgumentException("an error needs a code and a message");
    }
  }

  /** True if the failed operation certainly changed nothing. */
  public boolean definite() {
    return code.noSideEffects();
  }

  public static S2Error invalid(String message) {
    return new S2Error(ErrorCode.INVALID, message);
  }

  public static S2Error basinNotFound(BasinName basin) {
    return new S2Error(ErrorCode.BASIN_NOT_FOUND, "basin `" + basin + "` not found");
  }

  public static S2Error streamNotFound(BasinName basin, StreamName stream) {
    return new S2Error(ErrorCode.STREAM_NOT_FOUND, "stream `" + stream + "` in basin `" + basin + "` not found");
  }

  public static S2Error basinAlreadyExists(BasinName basin) {
    return new S2Error(ErrorCode.RESOURCE_ALREADY_EXISTS, "basin `" + basin + "` already exists");
  }

  public static S2Error streamAlreadyExists(BasinName basin, StreamName stream) {
    return new S2Error(ErrorCode.RESOURCE_ALREADY_EXISTS, "stream `" + stream + "` in basin `" + basin + "` already exists");
  }

  public static S2Error basinDeletionPending(BasinName basin) {
    return new S2Error(ErrorCode.BASIN_DELETION_PENDING, "basin `" + basin + "` is being deleted");
  }

  public static S2Error streamDeletionPending(BasinName basin, StreamName stream) {
    return new S2Error(ErrorCode.STREAM_DELETION_PENDING, "stream `" + stream + "` in basin `" + basin + "` is being deleted");
  }

  public static S2Error transactionConflict() {
    return new S2Error(ErrorCode.TRANSACTION_CONFLICT, "transaction conflict occurred – this is usually retriable");
  }

  /** The stream's single writer vanished mid-request; the operation may have taken effect. */
  public static S2Error streamerMissingInAction() {
    return new S2Error(ErrorCode.UNAVAILABLE, "streamer missing in action");
  }

  /** The reply to an append or delete was lost; the operation may have taken effect. */
  public static S2Error requestDropped() {
    return new S2Error(ErrorCode.OTHER, "request dropped");
  }
}
