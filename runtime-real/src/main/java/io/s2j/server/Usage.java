package io.s2j.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Per-minute usage counters kept in memory for S2's metrics API ({@code /v1/metrics…}): operations
 * per account and per basin, appended and read bytes per basin. Only what this process saw since
 * it started, for at most {@link #RETENTION_MINUTES}: a time bucket outside that window is not
 * reported at all (unknown), never as zero.
 */
final class Usage {
  static final long RETENTION_MINUTES = 7 * 24 * 60;
  /** The most points one series may have in a response. */
  static final int POINTS_MAX = 10_080;

  static final int APPEND_OPS = 0;
  static final int APPEND_BYTES = 1;
  static final int READ_OPS = 2;
  static final int READ_BYTES = 3;
  private static final int DATA_FIELDS = 4;
  private static final int OPS = Operation.values().length;

  private final LongSupplier clockMs;
  private final long startedAtMs;
  /** epoch minute → count per {@link Operation#ordinal()}. */
  private final TreeMap<Long, long[]> accountOps = new TreeMap<>();
  private final Map<String, Basin> basins = new LinkedHashMap<>();

  private static final class Basin {
    final TreeMap<Long, long[]> ops = new TreeMap<>();
    /** epoch minute → {append ops, append bytes, read ops, read bytes}. */
    final TreeMap<Long, long[]> data = new TreeMap<>();
  }

  Usage(LongSupplier clockMs) {
    this.clockMs = clockMs;
    this.startedAtMs = clockMs.getAsLong();
  }

  /** A request for {@code op} was accepted (authorized and valid), naming {@code basin} or not. */
  synchronized void op(Operation op, String basin) {
    long minute = nowMinute();
    slot(accountOps, minute, OPS)[op.ordinal()]++;
    if (basin != null) {
      slot(basin(basin).ops, minute, OPS)[op.ordinal()]++;
    }
  }

  /** An append of {@code meteredBytes} was acknowledged. */
  synchronized void append(String basin, String stream, long meteredBytes) {
    long[] s = slot(basin(basin).data, nowMinute(), DATA_FIELDS);
    s[APPEND_OPS]++;
    s[APPEND_BYTES] += meteredBytes;
  }

  /** A read (unary, or a session) was started. */
  synchronized void readOp(String basin) {
    slot(basin(basin).data, nowMinute(), DATA_FIELDS)[READ_OPS]++;
  }

  /** A read delivered {@code meteredBytes}. */
  synchronized void readBytes(String basin, String stream, long meteredBytes) {
    slot(basin(basin).data, nowMinute(), DATA_FIELDS)[READ_BYTES] += meteredBytes;
  }

  private Basin basin(String name) {
    return basins.computeIfAbsent(name, n -> new Basin());
  }

  private long nowMinute() {
    return Math.floorDiv(clockMs.getAsLong(), 60_000L);
  }

  private long[] slot(TreeMap<Long, long[]> series, long minute, int fields) {
    long oldest = minute - RETENTION_MINUTES;
    while (!series.isEmpty() && series.firstKey() < oldest) {
      series.pollFirstEntry();
    }
    return series.computeIfAbsent(minute, m -> new long[fields]);
  }

  // ---------------------------------------------------------------- queries

  /** A point: the bucket's start (epoch seconds) and its value. */
  record Point(long epochSecs, long value) {}

  /** A time range [startSecs, endSecs) aggregated by {@code intervalSecs}. */
  record Range(long startSecs, long endSecs, long intervalSecs) {
    /** The buckets it asks for; over {@link #POINTS_MAX} is refused by the caller. */
    long buckets() {
      long first = Math.floorDiv(startSecs, intervalSecs) * intervalSecs;
      return endSecs <= first ? 0 : (endSecs - first + intervalSecs - 1) / intervalSecs;
    }
  }

  /** Basins with at least one accepted request in the range. */
  synchronized List<String> activeBasins(Range r) {
    TreeSet<String> out = new TreeSet<>();
    for (Map.Entry<String, Basin> e : basins.entrySet()) {
      if (!sub(e.getValue().ops, r.startSecs(), r.endSecs()).isEmpty() || !sub(e.getValue().data, r.startSecs(), r.endSecs()).isEmpty()) {
        out.add(e.getKey());
      }
    }
    return new ArrayList<>(out);
  }

  /** Per operation, the accepted requests of the account (basin null) or of one basin; only operations seen. */
  synchronized Map<Operation, List<Point>> ops(String basin, Range r) {
    TreeMap<Long, long[]> series = basin == null ? accountOps : basins.containsKey(basin) ? basins.get(basin).ops : new TreeMap<>();
    Map<Operation, List<Point>> out = new LinkedHashMap<>();
    for (Operation op : Operation.values()) {
      boolean seen = false;
      for (long[] v : sub(series, r.startSecs(), r.endSecs()).values()) {
        seen |= v[op.ordinal()] != 0;
      }
      if (seen) {
        out.put(op, points(series, op.ordinal(), r));
      }
    }
    return out;
  }

  /** One of the {@code APPEND_OPS}… fields of a basin. */
  synchronized List<Point> basinData(String basin, int field, Range r) {
    Basin b = basins.get(basin);
    return points(b == null ? new TreeMap<>() : b.data, field, r);
  }

  /**
   * The buckets of {@code r} that overlap what this process knows (since it started, within the
   * retention), each with the sum of the minutes in it. A bucket only partly known (the process
   * started inside it) holds what was seen.
   */
  private List<Point> points(TreeMap<Long, long[]> series, int field, Range r) {
    long nowSecs = Math.floorDiv(clockMs.getAsLong(), 1000L);
    long knownFrom = Math.max(Math.floorDiv(startedAtMs, 1000L), nowSecs - RETENTION_MINUTES * 60);
    List<Point> out = new ArrayList<>();
    long step = r.intervalSecs();
    for (long b = Math.floorDiv(r.startSecs(), step) * step; b < r.endSecs(); b += step) {
      if (b + step <= knownFrom || b > nowSecs) {
        continue;
      }
      long sum = 0;
      for (long[] v : sub(series, b, b + step).values()) {
        sum += v[field];
      }
      out.add(new Point(b, sum));
    }
    return out;
  }

  /** The minutes overlapping [fromSecs, toSecs). */
  private static NavigableMap<Long, long[]> sub(TreeMap<Long, long[]> series, long fromSecs, long toSecs) {
    long fromMinute = Math.floorDiv(fromSecs, 60L);
    long toMinute = Math.floorDiv(toSecs + 59, 60L);
    return toMinute <= fromMinute ? new TreeMap<>() : series.subMap(fromMinute, true, toMinute, false);
  }
}
