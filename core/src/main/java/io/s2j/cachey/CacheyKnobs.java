package io.s2j.cachey;

import io.s2j.runtime.RandomSource;

/**
 * A cachey node's tunables, with production defaults, a small-limits profile for simulation, and
 * validation of their relationships ({@link #conclude()}).
 *
 * @param pageBytes objects are cached in pages of this many bytes (the last page of an object is
 *     shorter); each page is fetched with one ranged GET
 * @param cacheBytesMax bytes of pages held; beyond it the least recently used pages are evicted
 * @param objectsMax object versions remembered (the etag and size a key was last seen with)
 * @param requestBytesMax the longest range one request may ask for (at most {@link
 *     CacheyRpc#REQUEST_BYTES_MAX})
 * @param requestsInFlightMax requests served at once; more are refused as throttled (a visible
 *     bound, never silent growth)
 * @param hedgeAfterMs a page GET still unanswered after this long gets a second, identical GET;
 *     the first success wins (0: no hedging)
 * @param versionTtlMs a remembered version is trusted this long after a GET last confirmed it;
 *     then the next request reads its first page from the store again (bounds how long a key
 *     deleted and rewritten with other bytes can be served from old pages)
 */
public record CacheyKnobs(
    int pageBytes,
    long cacheBytesMax,
    int objectsMax,
    long requestBytesMax,
    int requestsInFlightMax,
    long hedgeAfterMs,
    long versionTtlMs) {

  /** For S3: 1 MiB pages, 1 GiB of them, a hedge for GETs slower than S3 standard usually is (200 ms). */
  public static final CacheyKnobs STANDARD =
      new CacheyKnobs(1 << 20, 1L << 30, 100_000, CacheyRpc.REQUEST_BYTES_MAX, 4096, 200, 300_000).conclude();

  /** Small limits, so simulation reaches every bound (multi-page reads, eviction, hedging). */
  public static final CacheyKnobs SMALL =
      new CacheyKnobs(4 << 10, 64 << 10, 64, 1 << 20, 64, 50, 5_000).conclude();

  /**
   * Knobs drawn from {@code random} within small limits, so that different seeds exercise
   * different page sizes, memory bounds, hedging thresholds and version lifetimes (STYLE.md rule 6).
   */
  public static CacheyKnobs randomized(RandomSource random) {
    int pageBytes = 512 << random.nextInt(8); // 512 B .. 64 KiB
    return new CacheyKnobs(
        pageBytes,
        pageBytes * random.nextLong(2, 256),
        8 + random.nextInt(1024),
        CacheyRpc.REQUEST_BYTES_MAX,
        4 + random.nextInt(512),
        random.chance(0.3) ? 0 : random.nextLong(5, 500),
        random.nextLong(500, 60_000)).conclude();
  }

  /** Checks the relationships between the knobs; returns this. */
  public CacheyKnobs conclude() {
    if (pageBytes < 512 || pageBytes > (64 << 20) || cacheBytesMax < 2L * pageBytes || objectsMax < 1
        || requestBytesMax < 1 || requestBytesMax > CacheyRpc.REQUEST_BYTES_MAX || requestsInFlightMax < 1
        || hedgeAfterMs < 0 || versionTtlMs < 1) {
      throw new IllegalArgumentException("inconsistent cachey knobs: " + this);
    }
    return this;
  }
}
