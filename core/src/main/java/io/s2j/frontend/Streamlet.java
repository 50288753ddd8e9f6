package io.s2j.frontend;

/**
 * One link of a stream's streamlet chain: the channel that sequences it and where it starts (seq
 * num, timestamp, and the fencing token and trim point in force there); {@code endSeqNum} is null
 * until the streamlet is sealed by a migration; {@code streamId} names the chain it belongs to.
 */
public record Streamlet(long index, long streamletId, String channelId, long startSeqNum, Long endSeqNum, long startTimestamp,
    String startFencingToken, long startTrimPoint, long streamId) {
  /** A link starting a chain at zero (tests). */
  public Streamlet(long index, long streamletId, String channelId, long startSeqNum, Long endSeqNum, long startTimestamp) {
    this(index, streamletId, channelId, startSeqNum, endSeqNum, startTimestamp, "", 0, 0);
  }

  /** Whether {@code seq} belongs to this link (below its end, at or past its start). */
  public boolean holds(long seq) {
    return seq >= startSeqNum && (endSeqNum == null || seq < endSeqNum);
  }
}
