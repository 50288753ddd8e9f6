package io.s2j.channel;

/**
 * The channel's tunables, with production defaults, a small-limits profile for simulation, and
 * validation of their relationships ({@link #conclude()}).
 *
 * @param chunkBytesMax a chunk is flushed once its entries reach this size
 * @param flushIntervalMs a chunk is flushed at most this long after its first entry
 * @param flushWhenIdle flush as soon as no chunk write is in flight (group commit), for stores
 *     where a write is cheap
 * @param chunksInFlightMax chunk writes in flight at once (pipelining); at most {@link
 *     #CHUNKS_IN_FLIGHT_MAX_EVER}, which the fencing protocol relies on
 * @param pendingBytesMax metered bytes accepted but not yet durable, across streamlets; beyond it
 *     appends are refused as rate limited (a visible bound, never silent growth)
 * @param retainedBytesMax durable record bytes kept in memory for reads of the recent tail
 * @param retryBackoffMinMs first delay before retrying a failed store operation
 * @param retryBackoffMaxMs the delay doubles up to this
 */
public record ChannelKnobs(
    long chunkBytesMax,
    long flushIntervalMs,
    boolean flushWhenIdle,
    int chunksInFlightMax,
    long pendingBytesMax,
    long retainedBytesMax,
    long retryBackoffMinMs,
    long retryBackoffMaxMs) {

  /**
   * No incarnation ever has more chunk writes in flight than this: a fence voids this many chunk
   * numbers after itself (see docs/design.md, "The channel's write-ahead log"). Changing it is a
   * format change.
   */
  public static final int CHUNKS_IN_FLIGHT_MAX_EVER = 64;

  /** For S3 standard: fill chunks for a while, several writes in flight. */
  public static final ChannelKnobs STANDARD =
      new ChannelKnobs(4 << 20, 50, false, 8, 256L << 20, 256L << 20, 20, 2_000).conclude();

  /** For cheap stores (memory, local disk): write as soon as the store is idle. */
  public static final ChannelKnobs CHEAP_STORE =
      new ChannelKnobs(4 << 20, 5, true, 4, 256L << 20, 256L << 20, 5, 500).conclude();

  /** Small limits, so simulation reaches every bound. */
  public static final ChannelKnobs SMALL =
      new ChannelKnobs(16 << 10, 20, false, 3, 4 << 20, 8 << 20, 10, 1_000).conclude();

  /** Checks the relationships between the knobs; returns this. */
  public ChannelKnobs conclude() {
    if (chunkBytesMax < 4096 || flushIntervalMs < 1 || chunksInFlightMax < 1
        || chunksInFlightMax > CHUNKS_IN_FLIGHT_MAX_EVER || pendingBytesMax < 2L * (1 << 20)
        || retainedBytesMax < 0 || retryBackoffMinMs < 1 || retryBackoffMaxMs < retryBackoffMinMs) {
      throw new IllegalArgumentException("inconsistent channel knobs: " + this);
    }
    return this;
  }
}
