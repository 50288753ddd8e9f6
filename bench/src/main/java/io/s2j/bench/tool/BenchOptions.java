package io.s2j.bench.tool;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The load generator's settings, parsed from {@code --flag value} pairs. Sizes are record body
 * bytes (a record's metered size is 8 bytes more: no headers, S2-API §2.5).
 */
public record BenchOptions(
    URI endpoint,
    String accessToken,
    String basin,
    String stream,
    int recordBytes,
    int batchRecords,
    double targetMibps,
    double targetRecordsPerS,
    Duration duration,
    int streams,
    int readers,
    Duration catchupDelay,
    String storageClass,
    long inflightBytesMax,
    Duration drainTimeout,
    long sessionRecords,
    int connections,
    boolean progress) {

  /** Body bytes every record needs: write timestamp (8) and chained hash (8). */
  public static final int RECORD_BYTES_MIN = RecordCodec.HEADER_BYTES;
  /** S2's limits on one append batch (S2-API §2.6). */
  public static final int BATCH_RECORDS_MAX = 1000;
  public static final int BATCH_METERED_BYTES_MAX = 1 << 20;
  /** Sessions one HTTP/2 connection may carry (the server's SETTINGS_MAX_CONCURRENT_STREAMS). */
  public static final int SESSIONS_PER_CONNECTION_MAX = 1000;
  /** Metered size of a record without headers: 8 + body (S2-API §2.5). */
  public static final int RECORD_METERED_OVERHEAD = 8;

  public static final String USAGE = """
      usage: java -jar s2j-bench.jar [options]
        --endpoint URL          S2 endpoint, account and basin API on one host as s2-lite (default http://127.0.0.1:8080)
        --access-token T        sent as 'Authorization: Bearer T' (default: $S2_ACCESS_TOKEN, else none)
        --basin B               basin, created if missing (default s2j-bench)
        --stream S              stream, created if missing; with --streams N > 1 the streams are S-0 .. S-(N-1) (default bench)
        --record-bytes N        record body size, >= 16 (default 1024)
        --batch-records N       records per AppendInput, 1..1000 and <= 1 MiB metered (default 100)
        --target-mibps X        writer pace per stream in MiB/s of record bodies, 0 = unthrottled (default 0)
        --target-records-per-s X  writer pace per stream in records/s instead (e.g. 1 with --batch-records 1); the
                                writers' phases are spread evenly over one batch interval (default 0: use --target-mibps)
        --duration D            how long the writers write, e.g. 30s, 500ms, 2m (default 30s)
        --streams N             streams, one writer each, 1..10000 (default 1)
        --readers N             tailing readers per stream, 0..1000 (default 1)
        --connections N         spread all sessions over N shared HTTP/2 connections, round-robin (at most
                                1000 open sessions each); default 0: one connection per session
        --catchup-delay D       pause between the end of the writes and the catch-up read (default 5s)
        --storage-class C       standard | express, for streams this run creates (default: the basin's)
        --inflight-mib N        bound on un-acknowledged bytes per writer (default 16)
        --drain-timeout D       how long to wait for outstanding acks and readers at the end (default 60s)
        --session-records N     every read session ends after at most N records and the reader opens the next
                                (tailing ones with wait=60 so they still follow); default 0: one unbounded session each
        --no-progress           no progress lines on stderr
      Progress goes to stderr every second; the result is one JSON line on stdout.
      Exit status: 0 when integrity is "ok", 1 when it is not, 2 on bad options.""";

  public BenchOptions {
    if (recordBytes < RECORD_BYTES_MIN) {
      throw new IllegalArgumentException("--record-bytes must be at least " + RECORD_BYTES_MIN + " (timestamp and hash), got " + recordBytes);
    }
    if (batchRecords < 1 || batchRecords > BATCH_RECORDS_MAX) {
      throw new IllegalArgumentException("--batch-records must be 1.." + BATCH_RECORDS_MAX + ", got " + batchRecords);
    }
    long batchMetered = (long) batchRecords * (recordBytes + RECORD_METERED_OVERHEAD);
    if (batchMetered > BATCH_METERED_BYTES_MAX) {
      throw new IllegalArgumentException("a batch of " + batchRecords + " records of " + recordBytes
          + " bytes is " + batchMetered + " metered bytes, over S2's 1 MiB batch limit");
    }
    if (!(targetMibps >= 0) || Double.isInfinite(targetMibps)) {
      throw new IllegalArgumentException("--target-mibps must be >= 0, got " + targetMibps);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("--duration must be positive");
    }
    if (!(targetRecordsPerS >= 0) || Double.isInfinite(targetRecordsPerS)) {
      throw new IllegalArgumentException("--target-records-per-s must be >= 0, got " + targetRecordsPerS);
    }
    if (targetRecordsPerS > 0 && targetMibps > 0) {
      throw new IllegalArgumentException("--target-mibps and --target-records-per-s exclude each other");
    }
    if (streams < 1 || streams > 10_000) {
      throw new IllegalArgumentException("--streams must be 1..10000, got " + streams);
    }
    if (readers < 0 || readers > 1000) {
      throw new IllegalArgumentException("--readers must be 0..1000, got " + readers);
    }
    if (connections < 0) {
      throw new IllegalArgumentException("--connections must be >= 0");
    }
    long sessionsAtOnce = (long) streams * (readers + 1);
    if (connections > 0 && (sessionsAtOnce + connections - 1) / connections > SESSIONS_PER_CONNECTION_MAX) {
      throw new IllegalArgumentException("--connections " + connections + " would carry more than "
          + SESSIONS_PER_CONNECTION_MAX + " sessions each (" + sessionsAtOnce + " in all)");
    }
    if (catchupDelay.isNegative()) {
      throw new IllegalArgumentException("--catchup-delay must not be negative");
    }
    if (storageClass != null && !storageClass.equals("standard") && !storageClass.equals("express")) {
      throw new IllegalArgumentException("--storage-class must be standard or express, got " + storageClass);
    }
    if (sessionRecords < 0) {
      throw new IllegalArgumentException("--session-records must be >= 0");
    }
    if (inflightBytesMax < batchMetered) {
      throw new IllegalArgumentException("--inflight-mib must hold at least one batch (" + batchMetered + " bytes)");
    }
    String scheme = endpoint.getScheme();
    if (!"http".equals(scheme)) {
      throw new IllegalArgumentException("--endpoint must be http://host:port (cleartext HTTP/2 for sessions; TLS is not supported), got " + endpoint);
    }
    if (endpoint.getHost() == null) {
      throw new IllegalArgumentException("--endpoint has no host: " + endpoint);
    }
  }

  public static BenchOptions defaults() {
    return parse(new String[0]);
  }

  /** Parses the command line; throws {@link IllegalArgumentException} with a message on bad input. */
  public static BenchOptions parse(String[] args) {
    URI endpoint = URI.create("http://127.0.0.1:8080");
    String token = System.getenv("S2_ACCESS_TOKEN");
    String basin = "s2j-bench";
    String stream = "bench";
    int recordBytes = 1024;
    int batchRecords = 100;
    double targetMibps = 0;
    double targetRecordsPerS = 0;
    int connections = 0;
    Duration duration = Duration.ofSeconds(30);
    int streams = 1;
    int readers = 1;
    Duration catchupDelay = Duration.ofSeconds(5);
    String storageClass = null;
    long inflightBytes = 16L << 20;
    Duration drainTimeout = Duration.ofSeconds(60);
    long sessionRecords = 0;
    boolean progress = true;
    List<String> rest = new ArrayList<>(List.of(args));
    while (!rest.isEmpty()) {
      String flag = rest.remove(0);
      String value = null;
      int eq = flag.indexOf('=');
      if (flag.startsWith("--") && eq > 0) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      }
      if (flag.equals("--no-progress")) {
        progress = false;
        continue;
      }
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new IllegalArgumentException("help");
      }
      if (value == null) {
        if (rest.isEmpty()) {
          throw new IllegalArgumentException(flag + " needs a value");
        }
        value = rest.remove(0);
      }
      switch (flag) {
        case "--endpoint" -> endpoint = URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
        case "--access-token" -> token = value;
        case "--basin" -> basin = value;
        case "--stream" -> stream = value;
        case "--record-bytes" -> recordBytes = parseInt(flag, value);
        case "--batch-records" -> batchRecords = parseInt(flag, value);
        case "--target-mibps" -> targetMibps = parseDouble(flag, value);
        case "--target-records-per-s" -> targetRecordsPerS = parseDouble(flag, value);
        case "--connections" -> connections = parseInt(flag, value);
        case "--duration" -> duration = parseDuration(flag, value);
        case "--streams" -> streams = parseInt(flag, value);
        case "--readers" -> readers = parseInt(flag, value);
        case "--catchup-delay" -> catchupDelay = parseDuration(flag, value);
        case "--storage-class" -> storageClass = value.toLowerCase(Locale.ROOT);
        case "--inflight-mib" -> inflightBytes = (long) (parseDouble(flag, value) * (1 << 20));
        case "--drain-timeout" -> drainTimeout = parseDuration(flag, value);
        case "--session-records" -> sessionRecords = parseInt(flag, value);
        default -> throw new IllegalArgumentException("unknown option " + flag);
      }
    }
    return new BenchOptions(endpoint, token == null || token.isBlank() ? null : token, basin, stream, recordBytes,
        batchRecords, targetMibps, targetRecordsPerS, duration, streams, readers, catchupDelay, storageClass, inflightBytes,
        drainTimeout, sessionRecords, connections, progress);
  }

  /** The stream names of this run. */
  public List<String> streamNames() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      out.add(streams == 1 ? stream : stream + "-" + i);
    }
    return out;
  }

  /** Nanoseconds between two batches of one writer when paced, 0 when unthrottled. */
  public long batchIntervalNanos() {
    if (targetRecordsPerS > 0) {
      return (long) (batchRecords * 1e9 / targetRecordsPerS);
    }
    if (targetMibps > 0) {
      return (long) ((double) batchRecords * recordBytes * 1e9 / (targetMibps * (1 << 20)));
    }
    return 0;
  }

  /** Metered bytes of one full batch. */
  public long batchMeteredBytes() {
    return (long) batchRecords * (recordBytes + RECORD_METERED_OVERHEAD);
  }

  /** "30s", "500ms", "2m", "1.5s", or a bare number of seconds. */
  static Duration parseDuration(String flag, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.endsWith("ms")) {
        return Duration.ofNanos((long) (Double.parseDouble(v.substring(0, v.length() - 2)) * 1e6));
      }
      if (v.endsWith("s")) {
        return Duration.ofNanos((long) (Double.parseDouble(v.substring(0, v.length() - 1)) * 1e9));
      }
      if (v.endsWith("m")) {
        return Duration.ofNanos((long) (Double.parseDouble(v.substring(0, v.length() - 1)) * 60e9));
      }
      return Duration.ofNanos((long) (Double.parseDouble(v) * 1e9));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not a duration (e.g. 30s, 500ms, 2m): " + value);
    }
  }

  private static int parseInt(String flag, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not an integer: " + value);
    }
  }

  private static double parseDouble(String flag, String value) {
    try {
      return Double.parseDouble(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not a number: " + value);
    }
  }
}
