package io.s2j.bench.tool;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One run of the load generator, in the S2 CLI's {@code bench} order: create what is missing; open
 * the tailing readers at each stream's tail; write for the duration (one pipelined append session
 * per stream); wait for the outstanding acks and for every tailing reader to verify all acked
 * records; pause {@code catchupDelay}; then read everything back from the run's first record with
 * one catch-up reader per stream, as fast as it goes. Integrity is every reader having verified
 * exactly the acked records, in order, with the writer's final chain hash.
 */
public final class Bench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double MIB = 1 << 20;

  private final BenchOptions options;
  private final PrintStream progressOut;
  private final List<String> problems = new ArrayList<>();

  public Bench(BenchOptions options, PrintStream progressOut) {
    this.options = options;
    this.progressOut = progressOut;
  }

  /** Runs the bench and returns the result object (the JSON line's content). */
  public ObjectNode run() throws InterruptedException {
    ControlPlane cp = new ControlPlane(options.endpoint(), options.accessToken());
    List<String> names = options.streamNames();
    String basinResult = cp.ensureBasin(options.basin());
    Map<String, Long> startSeqNums = new LinkedHashMap<>();
    for (String name : names) {
      cp.ensureStream(options.basin(), name, options.storageClass());
      startSeqNums.put(name, cp.tailSeqNum(options.basin(), name));
    }
    log("basin %s (%s), %d stream(s) from seq_num %s; %d B records, %d per batch, %s, %s, %d tailing reader(s) per stream",
        options.basin(), basinResult, names.size(), startSeqNums.values(), options.recordBytes(), options.batchRecords(),
        options.targetMibps() > 0 ? String.format(Locale.ROOT, "%.1f MiB/s per stream", options.targetMibps()) : "unthrottled",
        options.duration(), options.readers());

    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("content-type", "s2s/proto");
    headers.put("accept", "application/protobuf");
    headers.put("s2-basin", options.basin());
    if (options.accessToken() != null) {
      headers.put("authorization", "Bearer " + options.accessToken());
    }

    int sessions = names.size() * (options.readers() + 2);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(
        Math.min(sessions, Math.max(2, Runtime.getRuntime().availableProcessors())), NioIoHandler.newFactory());
    List<H2cConnection> connections = new ArrayList<>();
    sharedConnections = 0;
    List<StreamWriter> writers = new ArrayList<>();
    List<StreamReader> tailers = new ArrayList<>();
    List<StreamReader> catchups = new ArrayList<>();
    long writeStartNanos = 0;
    long writeEndNanos = 0;
    try {
      // Tailing readers first, so they see the run from its first record as it is written.
      int seed = 0;
      for (String name : names) {
        for (int r = 0; r < options.readers(); r++) {
          H2cConnection c = connect(group, connections);
          StreamReader reader = StreamReader.tailing("tailing reader " + r + " of " + name, name, c, headers,
              startSeqNums.get(name), options.sessionRecords(), options.recordBytes(), this::notice);
          tailers.add(reader);
          reader.start();
        }
        H2cConnection c = connect(group, connections);
        StreamWriter w = new StreamWriter(options, name, startSeqNums.get(name), 0x5eed0000L + seed);
        w.phase((double) seed++ / names.size());
        w.open(c, headers);
        writers.add(w);
      }
      for (StreamReader r : tailers) {
        await(r.started(), 30_000, r.who + " did not start");
      }

      Progress progress = new Progress(writers, tailers);
      Thread progressThread = progress.start();
      writeStartNanos = System.nanoTime();
      long deadline = writeStartNanos + options.duration().toNanos();
      List<Thread> threads = new ArrayList<>();
      for (StreamWriter w : writers) {
        // Virtual threads: ten thousand paced writers park cheaply (one platform thread each would not).
        Thread t = Thread.ofVirtual().name("writer-" + w.streamName).start(() -> w.run(deadline));
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      long drainDeadline = System.nanoTime() + options.drainTimeout().toNanos();
      for (StreamWriter w : writers) {
        if (!awaitUntil(w.ended(), drainDeadline)) {
          problems.add("writer " + w.streamName + ": acks still outstanding after " + options.drainTimeout());
          w.abort();
        }
        writeEndNanos = Math.max(writeEndNanos, w.lastAckNanos());
      }
      progress.phase("draining");
      for (int i = 0; i < writers.size(); i++) {
        StreamWriter w = writers.get(i);
        for (int r = 0; r < options.readers(); r++) {
          tailers.get(i * options.readers() + r).stopAt(w.ackedEndSeqNum());
        }
      }
      awaitOrAbort(tailers, drainDeadline, " of draining");
      progress.stop();
      progressThread.join();
      for (StreamWriter w : writers) {
        addProblem(w.failure());
      }
      for (StreamReader r : tailers) {
        addProblem(r.failure());
      }

      // Catch-up: everything this run wrote, from history, after the delay.
      log("writes done; catch-up read in %s", options.catchupDelay());
      Thread.sleep(options.catchupDelay().toMillis());
      for (StreamWriter w : writers) {
        H2cConnection c = connect(group, connections);
        catchups.add(StreamReader.catchup("catch-up reader of " + w.streamName, w.streamName, c, headers,
            w.startSeqNum(), w.ackedEndSeqNum(), options.sessionRecords(), options.recordBytes(), this::notice));
      }
      Progress catchupProgress = new Progress(List.of(), catchups);
      catchupProgress.phase("catch-up");
      Thread catchupThread = catchupProgress.start();
      catchups.forEach(StreamReader::start);
      long catchupDeadline = System.nanoTime() + options.drainTimeout().toNanos();
      awaitOrAbort(catchups, catchupDeadline, "");
      for (StreamReader r : catchups) {
        addProblem(r.failure());
      }
      catchupProgress.stop();
      catchupThread.join();
    } finally {
      for (H2cConnection c : connections) {
        c.close();
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
    return result(writers, tailers, catchups, writeStartNanos, writeEndNanos);
  }

  private ObjectNode result(List<StreamWriter> writers, List<StreamReader> tailers, List<StreamReader> catchups,
      long writeStartNanos, long writeEndNanos) {
    LatencyHistogram ack = new LatencyHistogram();
    long ackedRecords = 0;
    long ackedBytes = 0;
    for (StreamWriter w : writers) {
      ack.merge(w.ackLatency());
      ackedRecords += w.ackedRecords();
      ackedBytes += w.ackedBodyBytes();
    }
    LatencyHistogram e2e = new LatencyHistogram();
    long tailRecords = 0;
    int resumes = 0;
    for (StreamReader r : tailers) {
      e2e.merge(r.e2eLatency());
      tailRecords += r.receivedRecords();
      resumes += r.resumes();
    }
    long catchupBytes = 0;
    long catchupRecords = 0;
    long catchupStart = Long.MAX_VALUE;
    long catchupEnd = Long.MIN_VALUE;
    int sessions = 0;
    for (StreamReader r : tailers) {
      sessions += r.sessions();
    }
    for (StreamReader r : catchups) {
      sessions += r.sessions();
      catchupBytes += r.receivedBodyBytes();
      catchupRecords += r.receivedRecords();
      catchupStart = Math.min(catchupStart, r.startNanos());
      catchupEnd = Math.max(catchupEnd, r.endNanos());
      resumes += r.resumes();
    }
    checkCounts(writers, tailers, catchups);

    double writeSeconds = writeEndNanos > writeStartNanos ? (writeEndNanos - writeStartNanos) / 1e9 : 0;
    double catchupSeconds = catchupEnd > catchupStart ? (catchupEnd - catchupStart) / 1e9 : 0;
    ObjectNode out = JSON.createObjectNode();
    out.put("write_mibps", round(writeSeconds > 0 ? ackedBytes / MIB / writeSeconds : 0));
    out.put("write_records_per_s", round(writeSeconds > 0 ? ackedRecords / writeSeconds : 0));
    out.set("ack_ms", latencyMs(ack));
    out.set("e2e_ms", latencyMs(e2e));
    out.put("catchup_mibps", round(catchupSeconds > 0 ? catchupBytes / MIB / catchupSeconds : 0));
    out.put("catchup_records_per_s", round(catchupSeconds > 0 ? catchupRecords / catchupSeconds : 0));
    out.put("integrity", problems.isEmpty() ? "ok" : String.join("; ", problems));
    out.put("records_written", ackedRecords);
    out.put("bytes_written", ackedBytes);
    out.put("write_seconds", round(writeSeconds));
    out.put("tailing_records_verified", tailRecords);
    out.put("catchup_records_verified", catchupRecords);
    out.put("catchup_seconds", round(catchupSeconds));
    out.put("read_session_resumes", resumes);
    out.put("read_sessions", sessions);
    out.put("endpoint", options.endpoint().toString());
    out.put("basin", options.basin());
    out.put("streams", options.streams());
    out.put("readers", options.readers());
    out.put("record_bytes", options.recordBytes());
    out.put("batch_records", options.batchRecords());
    out.put("target_mibps", options.targetMibps());
    out.put("target_records_per_s", options.targetRecordsPerS());
    out.put("connections", options.connections());
    out.put("duration_s", round(options.duration().toNanos() / 1e9));
    if (options.storageClass() != null) {
      out.put("storage_class", options.storageClass());
    }
    return out;
  }

  /** Every reader must have verified exactly the acked records and ended on the writer's chain hash. */
  private void checkCounts(List<StreamWriter> writers, List<StreamReader> tailers, List<StreamReader> catchups) {
    long total = 0;
    for (int i = 0; i < writers.size(); i++) {
      StreamWriter w = writers.get(i);
      total += w.ackedRecords();
      List<StreamReader> readers = new ArrayList<>(tailers.subList(i * options.readers(), (i + 1) * options.readers()));
      if (i < catchups.size()) {
        readers.add(catchups.get(i));
      } else {
        problems.add("no catch-up read of " + w.streamName);
      }
      for (StreamReader r : readers) {
        if (r.failure() != null) {
          continue; // already reported
        }
        if (r.verified() != w.ackedRecords()) {
          problems.add(r.who + ": verified " + r.verified() + " records, the writer had " + w.ackedRecords() + " acknowledged");
        } else if (w.ackedRecords() == w.sentRecords() && r.lastHash() != w.lastHash()) {
          problems.add(r.who + ": chain ends on hash " + Long.toHexString(r.lastHash()) + ", the writer's on "
              + Long.toHexString(w.lastHash()));
        }
      }
    }
    if (total == 0 && problems.isEmpty()) {
      problems.add("no records were acknowledged, nothing was verified");
    }
  }

  private void addProblem(String p) {
    if (p != null && !problems.contains(p)) {
      problems.add(p);
    }
  }

  private static ObjectNode latencyMs(LatencyHistogram h) {
    ObjectNode o = JSON.createObjectNode();
    o.put("min", ms(h.min()));
    o.put("p50", ms(h.quantile(0.50)));
    o.put("p90", ms(h.quantile(0.90)));
    o.put("p99", ms(h.quantile(0.99)));
    o.put("max", ms(h.max()));
    o.put("count", h.count());
    return o;
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1e3) / 1e3;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  /** Connections handed out round-robin once {@code --connections} are open. */
  private int sharedConnections;

  /** A connection for the next session: a new one each, or with {@code --connections N} the next of N shared ones. */
  private H2cConnection connect(EventLoopGroup group, List<H2cConnection> connections) throws InterruptedException {
    if (options.connections() > 0 && connections.size() >= options.connections()) {
      return connections.get(sharedConnections++ % connections.size());
    }
    H2cConnection c = H2cConnection.connect(group, options.endpoint());
    connections.add(c);
    return c;
  }

  private static void await(CompletableFuture<Void> f, long millis, String what) throws InterruptedException {
    try {
      f.get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + " within " + millis + " ms");
    } catch (ExecutionException e) {
      throw new IllegalStateException(what + ": " + e.getCause(), e.getCause());
    }
  }

  /**
   * Waits for every reader until {@code deadlineNanos}, aborts those not done, then gives them 5 s
   * together to stop (a run with a thousand stalled readers still ends, with its JSON line).
   */
  private void awaitOrAbort(List<StreamReader> readers, long deadlineNanos, String during) throws InterruptedException {
    List<StreamReader> stalled = new ArrayList<>();
    for (StreamReader r : readers) {
      if (!awaitUntil(r.done(), deadlineNanos)) {
        r.abort("stalled at seq_num " + r.nextSeqNum() + " after " + options.drainTimeout() + during);
        stalled.add(r);
      }
    }
    long stopDeadline = System.nanoTime() + 5_000_000_000L;
    for (StreamReader r : stalled) {
      if (!awaitUntil(r.done(), stopDeadline)) {
        problems.add(r.who + " did not stop within 5 s of being aborted");
      }
    }
  }

  private static boolean awaitUntil(CompletableFuture<Void> f, long deadlineNanos) throws InterruptedException {
    try {
      f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    }
  }

  private void notice(String line) {
    if (options.progress()) {
      progressOut.println(line);
    }
  }

  private void log(String fmt, Object... args) {
    if (options.progress()) {
      progressOut.println(String.format(Locale.ROOT, fmt, args));
    }
  }

  /** The once-a-second line on stderr: write rate, acks, in-flight bytes, readers' lag. */
  private final class Progress {
    private final List<StreamWriter> writers;
    private final List<StreamReader> readers;
    private volatile boolean running = true;
    private volatile String phase = "write";

    Progress(List<StreamWriter> writers, List<StreamReader> readers) {
      this.writers = writers;
      this.readers = readers;
    }

    void phase(String p) {
      phase = p;
    }

    void stop() {
      running = false;
    }

    Thread start() {
      return Thread.ofPlatform().daemon().name("bench-progress").start(this::loop);
    }

    private void loop() {
      long t0 = System.nanoTime();
      long lastNanos = t0;
      long lastWritten = 0;
      long lastRead = 0;
      while (running) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
        if (!running || !options.progress()) {
          continue;
        }
        long now = System.nanoTime();
        double dt = (now - lastNanos) / 1e9;
        long acked = 0;
        long ackedBytes = 0;
        long inflight = 0;
        for (StreamWriter w : writers) {
          acked += w.ackedRecords();
          ackedBytes += w.ackedBodyBytes();
          inflight += w.inflightBytes();
        }
        long readBytes = 0;
        long lagMax = 0;
        long e2eMax = 0;
        long verified = 0;
        for (int i = 0; i < readers.size(); i++) {
          StreamReader r = readers.get(i);
          readBytes += r.receivedBodyBytes();
          verified += r.receivedRecords();
          e2eMax = Math.max(e2eMax, r.lastE2eNanos());
          if (!writers.isEmpty() && options.readers() > 0) {
            StreamWriter w = writers.get(i / options.readers());
            lagMax = Math.max(lagMax, w.ackedEndSeqNum() - r.nextSeqNum());
          }
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "[%5.1fs %s]", (now - t0) / 1e9, phase));
        if (!writers.isEmpty()) {
          line.append(String.format(Locale.ROOT, " write %.1f MiB/s | acked %,d records | in flight %.1f MiB",
              (ackedBytes - lastWritten) / MIB / dt, acked, inflight / MIB));
          if (!readers.isEmpty()) {
            line.append(String.format(Locale.ROOT, " | readers: lag max %,d records, last e2e max %.1f ms",
                lagMax, e2eMax / 1e6));
          }
        } else {
          line.append(String.format(Locale.ROOT, " read %.1f MiB/s | verified %,d records", (readBytes - lastRead) / MIB / dt, verified));
        }
        progressOut.println(line);
        lastNanos = now;
        lastWritten = ackedBytes;
        lastRead = readBytes;
      }
    }
  }
}
