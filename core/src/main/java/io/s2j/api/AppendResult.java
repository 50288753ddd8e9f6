package io.s2j.api;

/**
 * What an append yields (STYLE rule 8): an ack, a failed condition (HTTP 412 with
 * {@code AppendConditionFailed}), or an {@link S2Error}. Whether a failure is definite is explicit:
 * an indefinite one ({@link #definite()} false) may have been appended.
 */
public sealed interface AppendResult
    permits AppendAck, AppendResult.SeqNumMismatch, AppendResult.FencingTokenMismatch,
        AppendResult.SeqNumLimitExceeded, AppendResult.Failed {

  /** {@code match_seq_num} differed from the seq_num the first record would get ({@code nextSeqNum}). */
  record SeqNumMismatch(long nextSeqNum) implements AppendResult, AppendStep {}

  /** The presented fencing token differed from the stream's {@code currentToken}. */
  record FencingTokenMismatch(String currentToken) implements AppendResult, AppendStep {}

  /**
   * An encrypted record on an aes-256-gcm stream would have got a seq_num above 2^32 - 1:
   * {@code 422 invalid}, held back like a seq_num mismatch until earlier batches are durable.
   */
  record SeqNumLimitExceeded(long attemptedSeqNum) implements AppendResult, AppendStep {
    public S2Error toError() {
      return S2Error.invalid("max assignable sequence number is " + StreamCipher.AES_256_GCM_SEQ_NUM_MAX
          + "; attempted " + attemptedSeqNum);
    }
  }

  /** Any other failure, e.g. {@code invalid}, {@code stream_not_found}, {@code unavailable}. */
  record Failed(S2Error error) implements AppendResult, AppendStep {}

  /** True unless the batch may have been appended despite the failure. */
  default boolean definite() {
    return !(this instanceof Failed f) || f.error().definite();
  }
}
