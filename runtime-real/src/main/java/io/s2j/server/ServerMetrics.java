package io.s2j.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What the server counts, for Prometheus ({@code GET /metrics}, text exposition format) and, per
 * basin and stream over time, for S2's metrics API ({@link Usage}). Everything here is measured by
 * this process since it started: counters restart at 0 with the server.
 *
 * <p>Thread-safe: recorded from every connection's event loop and from object store threads.
 */
final class ServerMetrics {
  /** lite's append latency buckets (S2-API §14.2), seconds. */
  static final double[] LATENCY_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  final Usage usage;

  private final Counter requests;
  private final Counter appendRecords;
  private final Counter appendBytes;
  private final Counter appendAcks;
  private final Counter readRecords;
  private final Counter readBytes;
  private final Gauge sessions;
  private final Histogram appendAckLatency;
  private final Counter storeRequests;
  private final Counter storeBytesWritten;
  private final Gauge storeWritesInFlight;
  private final Counter authFailures;

  ServerMetrics(java.util.function.LongSupplier clockMs) {
    this.usage = new Usage(clockMs);
    requests = Counter.builder().name("s2j_http_requests_total")
        .help("HTTP requests answered, by S2 operation (or health, prometheus, none) and response status")
        .labelNames("operation", "status").register(registry);
    appendRecords = Counter.builder().name("s2j_append_records_total")
        .help("Records acknowledged by appends (unary and session)").register(registry);
    appendBytes = Counter.builder().name("s2j_append_bytes_total")
        .help("Metered bytes acknowledged by appends (unary and session)").register(registry);
    appendAcks = Counter.builder().name("s2j_append_acks_total")
        .help("Append batches acknowledged, by transport").labelNames("transport").register(registry);
    readRecords = Counter.builder().name("s2j_read_records_total")
        .help("Records delivered by reads, by transport").labelNames("transport").register(registry);
    readBytes = Counter.builder().name("s2j_read_bytes_total")
        .help("Metered bytes delivered by reads, by transport").labelNames("transport").register(registry);
    sessions = Gauge.builder().name("s2j_active_sessions")
        .help("Sessions open now: append (S2S), read (SSE or S2S)").labelNames("kind").register(registry);
    appendAckLatency = Histogram.builder().name("s2j_append_ack_latency_seconds")
        .help("Unary append: request dispatched to the frontend until the acknowledgement (durable)")
        .classicOnly().classicUpperBounds(LATENCY_BUCKETS).register(registry);
    storeRequests = Counter.builder().name("s2j_object_store_requests_total")
        .help("Object store requests completed, by operation, key class (wal = write-ahead log chunks, "
            + "seg = segments, meta = durable metadata, other) and outcome (ok, failed)")
        .labelNames("op", "class", "outcome").register(registry);
    storeBytesWritten = Counter.builder().name("s2j_object_store_written_bytes_total")
        .help("Bytes of successful object store puts, by key class").labelNames("class").register(registry);
    storeWritesInFlight = Gauge.builder().name("s2j_object_store_puts_in_flight")
        .help("Object store puts started and not completed, by key class (wal = channel chunk writes in flight)")
        .labelNames("class").register(registry);
    authFailures = Counter.builder().name("s2j_auth_failures_total")
        .help("Requests refused by authentication (authn) or authorization (permission_denied)")
        .labelNames("code").register(registry);
  }

  // ---------------------------------------------------------------- recording

  void request(Operation op, String fallbackLabel, int status) {
    requests.labelValues(op == null ? fallbackLabel : op.wireName, Integer.toString(status)).inc();
  }

  void appendAcked(String transport, String basin, String stream, long records, long meteredBytes) {
    appendRecords.inc(records);
    appendBytes.inc(meteredBytes);
    appendAcks.labelValues(transport).inc();
    usage.append(basin, stream, meteredBytes);
  }

  void appendLatency(long nanos) {
    appendAckLatency.observe(nanos / 1e9);
  }

  void readDelivered(String transport, String basin, String stream, long records, long meteredBytes) {
    readRecords.labelValues(transport).inc(records);
    readBytes.labelValues(transport).inc(meteredBytes);
    usage.readBytes(basin, stream, meteredBytes);
  }

  void sessionOpened(String kind) {
    sessions.labelValues(kind).inc();
  }

  void sessionClosed(String kind) {
    sessions.labelValues(kind).dec();
  }

  void storeRequest(String op, String keyClass, boolean ok) {
    storeRequests.labelValues(op, keyClass, ok ? "ok" : "failed").inc();
  }

  void storeWritten(String keyClass, long bytes) {
    storeBytesWritten.labelValues(keyClass).inc(bytes);
  }

  void storePutStarted(String keyClass) {
    storeWritesInFlight.labelValues(keyClass).inc();
  }

  void storePutEnded(String keyClass) {
    storeWritesInFlight.labelValues(keyClass).dec();
  }

  void authFailed(String code) {
    authFailures.labelValues(code).inc();
  }

  // ---------------------------------------------------------------- exposition

  String contentType() {
    return writer.getContentType();
  }

  byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
