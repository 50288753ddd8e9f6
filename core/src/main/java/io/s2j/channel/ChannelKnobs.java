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
 * @param retainedBytesMax durable records already in segments kept in memory for reads of the
 *     recent tail (records not yet in segments are always held)
 * @param retryBackoffMinMs first delay before retrying a failed store operation
 * @param retryBackoffMaxMs the delay doubles up to this
 * @param segmentBytesMin a streamlet's durable records are written as a segment once they meter
 *     this much (or on the segment timer)
 * @param segmentIntervalMs how often the channel looks for streamlets due for a segment (and
 *     collects the WAL)
 * @param unsegmentedBytesMax durable bytes not yet in segments, across streamlets; beyond it
 *     appends are refused as rate limited until segments catch up (they are held in memory)
 * @param waitersMax long-polling reads parked per streamlet; more are answered at once, empty
 * @param speculativeMigration a migration's source announces the next link as soon as it seals,
 *     so frontends append there before the commit (the target holds the answers until it has read
 *     the committed link); off: frontends wait for the commit and read the chain again
 * @param segmentAgeMaxMs a streamlet below {@code segmentBytesMin} is segmented at the first
 *     segment round after its oldest unsegmented record has been durable this long (0: at every
 *     round, one segment per streamlet per interval); many small streams then get fewer, larger
 *     segments
 * @param walLiveBytesMax records in the live WAL (chunks not yet collected, which a take-over
 *     replays and the store keeps) beyond which the streamlets pinning its oldest chunks are
 *     segmented at the next round whatever their age: deferred streamlets pin at most about this
 *     plus one interval's writes
 * @param segmentWritesInFlightMax segment writes (head read, object put, metadata commit) in
 *     flight at once; the rest wait in order, so a round of thousands of segments is spread between
 *     appends (their metadata commits are batched, up to {@link Channel#SEGMENT_COMMITS_PER_TXN} a
 *     transaction)
 */
public record ChannelKnobs(
    long chunkBytesMax,
    long flushIntervalMs,
    boolean flushWhenIdle,
    int chunksInFlightMax,
    long pendingBytesMax,
    long retainedBytesMax,
    long retryBackoffMinMs,
    long retryBackoffMaxMs,
    long segmentBytesMin,
    long segmentIntervalMs,
    long unsegmentedBytesMax,
    int waitersMax,
    boolean speculativeMigration,
    long segmentAgeMaxMs,
    long walLiveBytesMax,
    int segmentWritesInFlightMax) {

  /**
   * The knobs of the presets and of {@link #randomized}: speculative migration on, one segment per
   * streamlet per round ({@code segmentAgeMaxMs} 0), no WAL bound beyond that, 64 segment writes in
   * flight (see {@link #withSegmentDeferral}).
   */
  public ChannelKnobs(long chunkBytesMax, long flushIntervalMs, boolean flushWhenIdle, int chunksInFlightMax, long pendingBytesMax,
      long retainedBytesMax, long retryBackoffMinMs, long retryBackoffMaxMs, long segmentBytesMin, long segmentIntervalMs,
      long unsegmentedBytesMax, int waitersMax) {
    this(chunkBytesMax, flushIntervalMs, flushWhenIdle, chunksInFlightMax, pendingBytesMax, retainedBytesMax, retryBackoffMinMs,
        retryBackoffMaxMs, segmentBytesMin, segmentIntervalMs, unsegmentedBytesMax, waitersMax, true, 0, Long.MAX_VALUE, 64);
  }

  /** These knobs with speculative migration on or off. */
  public ChannelKnobs withSpeculativeMigration(boolean on) {
    return new ChannelKnobs(chunkBytesMax, flushIntervalMs, flushWhenIdle, chunksInFlightMax, pendingBytesMax, retainedBytesMax,
        retryBackoffMinMs, retryBackoffMaxMs, segmentBytesMin, segmentIntervalMs, unsegmentedBytesMax, waitersMax, on,
        segmentAgeMaxMs, walLiveBytesMax, segmentWritesInFlightMax);
  }

  /** These knobs with another flush interval. */
  public ChannelKnobs withFlushIntervalMs(long ms) {
    return new ChannelKnobs(chunkBytesMax, ms, flushWhenIdle, chunksInFlightMax, pendingBytesMax, retainedBytesMax,
        retryBackoffMinMs, retryBackoffMaxMs, segmentBytesMin, segmentIntervalMs, unsegmentedBytesMax, waitersMax,
        speculativeMigration, segmentAgeMaxMs, walLiveBytesMax, segmentWritesInFlightMax);
  }

  /** These knobs with small streamlets' segments deferred by age, bounded by the live WAL, and paced. */
  public ChannelKnobs withSegmentDeferral(long ageMaxMs, long walLiveMax, int writesInFlightMax) {
    return new ChannelKnobs(chunkBytesMax, flushIntervalMs, flushWhenIdle, chunksInFlightMax, pendingBytesMax, retainedBytesMax,
        retryBackoffMinMs, retryBackoffMaxMs, segmentBytesMin, segmentIntervalMs, unsegmentedBytesMax, waitersMax,
        speculativeMigration, ageMaxMs, walLiveMax, writesInFlightMax);
  }

  /**
   * No incarnation ever has more chunk writes in flight than this: a fence voids this many chunk
   * numbers after itself (see docs/design.md, "The channel's write-ahead log"). Changing it is a
   * format change.
   */
  public static final int CHUNKS_IN_FLIGHT_MAX_EVER = 64;

  /**
   * How long a small streamlet's records may wait for their segment on S3 (standard or express):
   * not at all (every streamlet with new records is segmented each round, as before deferral). A
   * take-over replays the live WAL chunk by chunk from the bucket, so deferral lengthens fail-overs:
   * in the multi-process test a channel's take-back took 38 s with 60 s of deferral, 27 s with 10 s
   * and 20 s with none (one run each, docs/deploy.md). The pacing and batched commits still apply.
   */
  static final long S3_SEGMENT_AGE_MAX_MS = 0;

  /** For S3 standard: fill chunks for a while, several writes in flight. */
  public static final ChannelKnobs STANDARD =
      new ChannelKnobs(4 << 20, 50, false, 8, 256L << 20, 256L << 20, 20, 2_000, 8 << 20, 10_000, 1L << 30, 4096)
          .withSegmentDeferral(S3_SEGMENT_AGE_MAX_MS, 512L << 20, 64).conclude();

  /**
   * For express channels (a log on a quorum of S3 Express One Zone buckets, single-digit ms): a
   * short flush interval, since the store answers fast and the class promises low latency; each
   * chunk costs three PUTs, one per zone.
   */
  public static final ChannelKnobs EXPRESS =
      new ChannelKnobs(4 << 20, 10, false, 8, 256L << 20, 256L << 20, 5, 1_000, 8 << 20, 10_000, 1L << 30, 4096)
          .withSegmentDeferral(S3_SEGMENT_AGE_MAX_MS, 512L << 20, 64).conclude();

  /** For cheap stores (memory, local disk): write as soon as the store is idle. */
  public static final ChannelKnobs CHEAP_STORE =
      new ChannelKnobs(4 << 20, 5, true, 4, 256L << 20, 256L << 20, 5, 500, 8 << 20, 5_000, 1L << 30, 4096)
          .withSegmentDeferral(20_000, 256L << 20, 32).conclude();

  /** Small limits, so simulation reaches every bound. */
  public static final ChannelKnobs SMALL =
      new ChannelKnobs(16 << 10, 20, false, 3, 4 << 20, 64 << 10, 10, 1_000, 32 << 10, 2_000, 16 << 20, 8).conclude();

  /**
   * Knobs drawn from {@code random} within small limits, so that different seeds exercise
   * different chunk sizes, flush timings, pipeline depths and segment triggers (STYLE.md rule 6).
   */
  public static ChannelKnobs randomized(io.s2j.runtime.RandomSource random) {
    return new ChannelKnobs(
        random.nextLong(4 << 10, 64 << 10),
        random.nextLong(1, 100),
        random.chance(0.3),
        1 + random.nextInt(8),
        random.nextLong(2 << 20, 8 << 20),
        random.nextLong(0, 256 << 10),
        random.nextLong(1, 50),
        random.nextLong(200, 3_000),
        random.nextLong(1 << 10, 128 << 10),
        random.nextLong(200, 5_000),
        random.nextLong(2 << 20, 32 << 20),
        1 + random.nextInt(16),
        true,
        random.chance(0.3) ? 0 : random.nextLong(1, 20_000),
        random.chance(0.3) ? Long.MAX_VALUE : random.nextLong(16 << 10, 4 << 20),
        1 + random.nextInt(16)).conclude();
  }

  /** Checks the relationships between the knobs; returns this. */
  public ChannelKnobs conclude() {
    if (chunkBytesMax < 4096 || flushIntervalMs < 1 || chunksInFlightMax < 1
        || chunksInFlightMax > CHUNKS_IN_FLIGHT_MAX_EVER || pendingBytesMax < 2L * (1 << 20)
        || retainedBytesMax < 0 || retryBackoffMinMs < 1 || retryBackoffMaxMs < retryBackoffMinMs
        || segmentBytesMin < 1 || segmentIntervalMs < 1 || unsegmentedBytesMax < 2L * (1 << 20)
        || waitersMax < 1 || segmentAgeMaxMs < 0 || walLiveBytesMax < 0 || segmentWritesInFlightMax < 1) {
      throw new IllegalArgumentException("inconsistent channel knobs: " + this);
    }
    return this;
  }
}
