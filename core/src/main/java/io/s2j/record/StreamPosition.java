package io.s2j.record;

/**
 * A position in a stream: a sequence number and a timestamp (milliseconds since the Unix epoch).
 * As the tail, {@code seqNum} is the number the next record will get and {@code timestamp} the
 * last record's timestamp ({0, 0} for a stream that never had a record).
 *
 * <p>S2 defines both as u64; s2j holds them in a {@code long} and accepts 0..2^63-1 (a larger value
 * from a client is refused as invalid at the API edge).
 */
public record StreamPosition(long seqNum, long timestamp) {
  public static final StreamPosition ZERO = new StreamPosition(0, 0);

  public StreamPosition {
    if (seqNum < 0 || timestamp < 0) {
      throw new IllegalArgumentException("negative stream position: " + seqNum + "/" + timestamp);
    }
  }
}
