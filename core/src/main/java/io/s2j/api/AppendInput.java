package io.s2j.api;

import io.s2j.record.Limits;
import java.nio.charset.StandardCharsets;

/**
 * One append request (S2-API §6.9): a validated batch and its optional conditions. A
 * {@code matchSeqNum} is a u64: a value above 2^63 - 1 is negative here and simply never matches.
 */
public record AppendInput(AppendBatch batch, Long matchSeqNum, String fencingToken) {
  public AppendInput {
    if (batch == null) {
      throw new IllegalArgumentException("an append needs a batch");
    }
    String problem = fencingTokenProblem(fencingToken);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  public static AppendInput of(AppendBatch batch) {
    return new AppendInput(batch, null, null);
  }

  /**
   * S2's message for a fencing token longer than 36 bytes, or null (null tokens are fine). The
   * code depends on the body: {@code 400 bad_json} for JSON, {@code 422 invalid} for protobuf.
   */
  public static String fencingTokenProblem(String token) {
    if (token != null && token.getBytes(StandardCharsets.UTF_8).length > Limits.FENCING_TOKEN_BYTES_MAX) {
      return "fencing token must not exceed " + Limits.FENCING_TOKEN_BYTES_MAX + " bytes";
    }
    return null;
  }
}
