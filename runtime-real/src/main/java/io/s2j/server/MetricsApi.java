package io.s2j.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.api.StreamName;
import io.s2j.frontend.Outcome;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.SegmentMeta;
import io.s2j.metadata.proto.StreamMeta;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * S2's metrics API (S2-API §13.2): {@code GET /v1/metrics}, {@code /v1/metrics/{basin}},
 * {@code /v1/metrics/{basin}/{stream}}, answered with what this server measures itself.
 *
 * <ul>
 *   <li>{@code active-basins}: a label, the basins with at least one accepted request in the range.
 *   <li>{@code account-ops}: one accumulation per operation, accepted requests per interval.
 *   <li>{@code basin-ops}: the same, for requests naming the basin.
 *   <li>{@code append-ops}, {@code append-throughput}: acknowledged appends (unary appends and
 *       S2S session inputs) and their metered bytes, per interval.
 *   <li>{@code read-ops}, {@code read-throughput}: reads started (unary reads and read sessions)
 *       and the metered bytes they delivered, per interval.
 *   <li>{@code storage} (basin and stream): a gauge with one point, now: the bytes of the segment
 *       objects of the stream (or of every stream of the basin), from the segment index in
 *       metadata. Records still only in the write-ahead log (not yet segmented) are not counted,
 *       and there is no history (an empty series when the range does not reach now).
 * </ul>
 *
 * Time series hold only what this process saw since it started (in memory, 7 days): buckets before
 * that are left out, never reported as zero.
 */
final class MetricsApi {
  private MetricsApi() {}

  enum Interval {
    MINUTE("minute", 60), HOUR("hour", 3600), DAY("day", 86400);

    final String wireName;
    final long secs;

    Interval(String wireName, long secs) {
      this.wireName = wireName;
      this.secs = secs;
    }

    static Interval parse(String s) {
      for (Interval i : values()) {
        if (i.wireName.equals(s)) {
          return i;
        }
      }
      return null;
    }
  }

  static final List<String> ACCOUNT_SETS = List.of("active-basins", "account-ops");
  static final List<String> BASIN_SETS = List.of("storage", "append-ops", "read-ops", "read-throughput", "append-throughput", "basin-ops");
  static final List<String> STREAM_SETS = List.of("storage");

  /** The parsed query: set, range and interval. */
  record Query(String set, Usage.Range range, Interval interval, long nowSecs) {}

  /**
   * Parses {@code set} (required, one of {@code allowed}), {@code start}/{@code end} (u32 epoch
   * seconds; default: the 60 intervals up to now) and {@code interval} (default {@code hour}).
   */
  static Query query(String set, String start, String end, String interval, List<String> allowed, long nowMs) {
    if (set == null) {
      throw ApiError.badQuery("missing `set`");
    }
    if (!allowed.contains(set)) {
      throw ApiError.badQuery("unknown variant `" + set + "` for `set`, expected one of " + String.join(", ", allowed));
    }
    Interval iv = Interval.HOUR;
    if (interval != null) {
      iv = Interval.parse(interval);
      if (iv == null) {
        throw ApiError.badQuery("unknown variant `" + interval + "` for `interval`, expected minute, hour or day");
      }
    }
    long nowSecs = Math.floorDiv(nowMs, 1000L);
    Long e = u32(end, "end");
    Long s = u32(start, "start");
    long endSecs = e == null ? nowSecs + 1 : e;
    long startSecs = s == null ? Math.max(0, endSecs - 60 * iv.secs) : s;
    if (startSecs > endSecs) {
      throw ApiError.invalid("`start` must not be after `end`");
    }
    Usage.Range range = new Usage.Range(startSecs, endSecs, iv.secs);
    if (range.buckets() > Usage.POINTS_MAX) {
      throw ApiError.invalid("the range holds " + range.buckets() + " intervals; at most " + Usage.POINTS_MAX
          + " are returned: narrow it or use a longer interval");
    }
    return new Query(set, range, iv, nowSecs);
  }

  private static Long u32(String v, String name) {
    if (v == null) {
      return null;
    }
    try {
      long n = Long.parseLong(v);
      if (n < 0 || n > 0xFFFF_FFFFL) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException ex) {
      throw ApiError.badQuery("invalid `" + name + "`: expected an unsigned 32-bit number of epoch seconds, got `" + v + "`");
    }
  }

  // ---------------------------------------------------------------- responses

  static ObjectNode account(Query q, Usage usage) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    ArrayNode values = o.putArray("values");
    if (q.set().equals("active-basins")) {
      ObjectNode label = values.addObject().putObject("label").put("name", "active-basins");
      ArrayNode names = label.putArray("values");
      usage.activeBasins(q.range()).forEach(names::add);
    } else {
      opSeries(values, usage.ops(null, q.range()), q.interval());
    }
    return o;
  }

  /** A basin set other than storage. */
  static ObjectNode basin(Query q, String basin, Usage usage) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    ArrayNode values = o.putArray("values");
    switch (q.set()) {
      case "basin-ops" -> opSeries(values, usage.ops(basin, q.range()), q.interval());
      case "append-ops" -> accumulation(values, "append-ops", "operations", q.interval(), usage.basinData(basin, Usage.APPEND_OPS, q.range()));
      case "read-ops" -> accumulation(values, "read-ops", "operations", q.interval(), usage.basinData(basin, Usage.READ_OPS, q.range()));
      case "append-throughput" ->
          accumulation(values, "append-throughput", "bytes", q.interval(), usage.basinData(basin, Usage.APPEND_BYTES, q.range()));
      case "read-throughput" ->
          accumulation(values, "read-throughput", "bytes", q.interval(), usage.basinData(basin, Usage.READ_BYTES, q.range()));
      default -> throw new IllegalArgumentException(q.set());
    }
    return o;
  }

  /** The storage gauge: one point at now if the range reaches it. */
  static ObjectNode storage(Query q, long bytes) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    ObjectNode gauge = o.putArray("values").addObject().putObject("gauge").put("name", "storage").put("unit", "bytes");
    ArrayNode points = gauge.putArray("values");
    if (q.range().startSecs() <= q.nowSecs() && q.nowSecs() < q.range().endSecs()) {
      points.addArray().add(q.nowSecs()).add((double) bytes);
    }
    return o;
  }

  private static void opSeries(ArrayNode values, Map<Operation, List<Usage.Point>> series, Interval interval) {
    series.forEach((op, points) -> accumulation(values, op.wireName, "operations", interval, points));
  }

  private static void accumulation(ArrayNode values, String name, String unit, Interval interval, List<Usage.Point> points) {
    ObjectNode a = values.addObject().putObject("accumulation")
        .put("name", name).put("unit", unit).put("interval", interval.wireName);
    ArrayNode v = a.putArray("values");
    points.forEach(p -> v.addArray().add(p.epochSecs()).add((double) p.value()));
  }

  // ---------------------------------------------------------------- storage from the segment index

  /** Bytes of the segment objects of one stream; 404 if the basin or stream does not exist. */
  static CompletableFuture<Outcome<Long>> streamStorage(Frontend fe, BasinName basin, StreamName stream) {
    return fe.call(f -> {
      MetadataStore store = f.env().metadataStore();
      Scheduler s = f.env().scheduler();
      return store.get(MetaKey.basin(basin.value())).flatMap(b -> {
        if (b.isEmpty()) {
          return Promise.completed(s, Outcome.<Long>failed(S2Error.basinNotFound(basin)));
        }
        return store.get(MetaKey.stream(basin.value(), stream.value())).flatMap(kv -> kv.isEmpty()
            ? Promise.completed(s, Outcome.<Long>failed(S2Error.streamNotFound(basin, stream)))
            : streamBytes(store, s, streamMeta(kv.get()).getStreamId()).map(Outcome::ok));
      }).handle(MetricsApi::storeFailure);
    });
  }

  /** Bytes of the segment objects of every stream of a basin; 404 if it does not exist. */
  static CompletableFuture<Outcome<Long>> basinStorage(Frontend fe, BasinName basin) {
    return fe.call(f -> {
      MetadataStore store = f.env().metadataStore();
      Scheduler s = f.env().scheduler();
      return store.get(MetaKey.basin(basin.value())).flatMap(b -> b.isEmpty()
          ? Promise.completed(s, Outcome.<Long>failed(S2Error.basinNotFound(basin)))
          : sumScan(store, s, MetaKey.streamsPrefix(basin.value(), ""), kv -> streamBytes(store, s, streamMeta(kv).getStreamId()))
              .map(Outcome::ok))
          .handle(MetricsApi::storeFailure);
    });
  }

  /** Bytes of every segment of every streamlet of a stream. */
  static Promise<Long> streamBytes(MetadataStore store, Scheduler s, long streamId) {
    return sumScan(store, s, MetaKey.streamletsPrefix(streamId), kv -> {
      long streamletId = parse(kv, StreamletMeta.parser()).getStreamletId();
      return sumScan(store, s, MetaKey.segmentsPrefix(streamletId),
          seg -> Promise.completed(s, parse(seg, SegmentMeta.parser()).getObjectBytes()));
    });
  }

  /** The sum of {@code each} over every key with {@code prefix}, a page at a time. */
  private static Promise<Long> sumScan(MetadataStore store, Scheduler s, ByteString prefix,
      java.util.function.Function<KeyValue, Promise<Long>> each) {
    return sumFrom(store, s, prefix, MetadataStore.prefixEnd(prefix), each, 0L);
  }

  private static Promise<Long> sumFrom(MetadataStore store, Scheduler s, ByteString from, ByteString end,
      java.util.function.Function<KeyValue, Promise<Long>> each, long acc) {
    return store.scan(from, end, MetadataStore.SCAN_LIMIT_MAX).flatMap(page -> {
      Promise<Long> total = Promise.completed(s, acc);
      for (KeyValue kv : page.entries()) {
        total = total.flatMap(sum -> each.apply(kv).map(v -> sum + v));
      }
      if (!page.more() || page.entries().isEmpty()) {
        return total;
      }
      ByteString next = page.entries().get(page.entries().size() - 1).key().concat(ByteString.copyFrom(new byte[] {0}));
      return total.flatMap(sum -> sumFrom(store, s, next, end, each, sum));
    });
  }

  private static StreamMeta streamMeta(KeyValue kv) {
    return parse(kv, StreamMeta.parser());
  }

  private static <T> T parse(KeyValue kv, com.google.protobuf.Parser<T> parser) {
    try {
      return parser.parseFrom(kv.value());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt metadata value", e);
    }
  }

  private static <T> Outcome<T> storeFailure(Outcome<T> value, Throwable failure) {
    if (failure == null) {
      return value;
    }
    if (failure instanceof IoFailure) {
      return Outcome.failed(new S2Error(ErrorCode.UNAVAILABLE, "metrics: metadata store unavailable"));
    }
    throw failure instanceof RuntimeException re ? re : new IllegalStateException(failure);
  }
}
