package io.s2j.checker.s2;

import java.util.List;

/**
 * An append of one batch (JSON {@code {"Append":{…}}}).
 *
 * @param recordHashes XXH3-64 (seed 0) of each record body, in batch order; a {@code fence}
 *     command's body is its token, so its hash is {@code StreamHash.ofBody(token UTF-8)}
 * @param matchSeqNum the {@code match_seq_num} condition (unsigned), or {@code null}
 * @param fencingToken the {@code fencing_token} condition, or {@code null} (no check)
 * @param setFencingToken the token a {@code fence} command in this batch sets, or {@code null}
 */
public record AppendInput(
    List<Long> recordHashes, Long matchSeqNum, String fencingToken, String setFencingToken)
    implements S2Call {

  public AppendInput {
    recordHashes = List.copyOf(recordHashes);
  }

  /** {@code num_records}: the number of records in the batch. */
  public int numRecords() {
    return recordHashes.size();
  }
}
