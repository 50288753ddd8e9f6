package io.s2j.bench.tool;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.s2j.wire.proto.AppendAck;
import io.s2j.wire.proto.AppendInput;
import io.s2j.wire.proto.AppendRecord;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One stream's writer: a single pipelined S2S append session (S2-API §10.3). Its thread builds
 * batches of chained records, paces them with a token bucket (or not at all), and sends each as one
 * {@code AppendInput} frame while at most {@code inflightBytesMax} metered bytes await their acks.
 * Acks come back on the connection's event loop in input order; each is checked against the
 * sequence numbers its input must have received and timed from the input's send.
 */
final class StreamWriter {
  /** A sent input awaiting its ack. */
  private record Pending(long sentNanos, long firstSeqNum, int records, long bodyBytes, int permits) {}

  /** How far the token bucket may run ahead after a stall: bursts stay short. */
  private static final long BURST_NS = 20_000_000L;

  final String streamName;
  private final BenchOptions options;
  private final long startSeqNum;
  private final RecordCodec.Encoder encoder;
  private final Semaphore inflight;
  private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
  private final LatencyHistogram ackLatency = new LatencyHistogram();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private Http2StreamChannel stream;
  /** Where in one batch interval this writer's first batch goes, in [0, 1). */
  private double phase;

  // Written by the writer thread only.
  private volatile long sentRecords;
  private volatile long startNanos;
  private volatile boolean requestEnded;
  // Written by the event loop only.
  private volatile long ackedRecords;
  private volatile long ackedBodyBytes;
  private volatile long lastAckNanos;
  private volatile String failure;

  StreamWriter(BenchOptions options, String streamName, long startSeqNum, long seed) {
    this.options = options;
    this.streamName = streamName;
    this.startSeqNum = startSeqNum;
    this.encoder = new RecordCodec.Encoder(options.recordBytes(), seed);
    this.inflight = new Semaphore((int) Math.min(Integer.MAX_VALUE, options.inflightBytesMax()));
  }

  /** Sets where in one batch interval this paced writer starts, in [0, 1) (before {@link #run}). */
  void phase(double fraction) {
    this.phase = fraction;
  }

  /** Opens the append session (waits for the HTTP/2 stream, not for the response). */
  void open(H2cConnection connection, Map<String, String> headers) throws InterruptedException {
    stream = connection.open("POST", "/v1/streams/" + ControlPlane.pathSegment(streamName) + "/records", headers, false,
        new Exchange()).sync().getNow();
  }

  /** Writes until {@code deadlineNanos} (System.nanoTime) or a failure, then ends the request body. */
  void run(long deadlineNanos) {
    long intervalNanos = options.batchIntervalNanos();
    int batchPermits = (int) options.batchMeteredBytes();
    long batchBodyBytes = (long) options.batchRecords() * options.recordBytes();
    long nextSeqNum = startSeqNum;
    startNanos = System.nanoTime();
    // Paced writers start at their own phase of the interval, so many streams do not send in lockstep.
    long allowedAtNanos = startNanos + (long) (phase * intervalNanos);
    try {
      while (failure == null) {
        long now = System.nanoTime();
        if (now >= deadlineNanos) {
          break;
        }
        if (intervalNanos > 0) {
          allowedAtNanos = Math.max(allowedAtNanos, now - BURST_NS);
          if (allowedAtNanos > now) {
            LockSupport.parkNanos(Math.min(allowedAtNanos, deadlineNanos) - now);
            continue;
          }
        }
        if (!inflight.tryAcquire(batchPermits, 50, TimeUnit.MILLISECONDS)) {
          continue;
        }
        AppendInput.Builder input = AppendInput.newBuilder();
        long stamp = WallClock.nowNanos();
        for (int i = 0; i < options.batchRecords(); i++) {
          input.addRecords(AppendRecord.newBuilder().setBody(UnsafeByteOperations.unsafeWrap(encoder.next(stamp))));
        }
        ByteBuf frame = frame(input.build());
        pending.add(new Pending(System.nanoTime(), nextSeqNum, options.batchRecords(), batchBodyBytes, batchPermits));
        nextSeqNum += options.batchRecords();
        sentRecords = encoder.records();
        stream.writeAndFlush(new DefaultHttp2DataFrame(frame, false));
        if (intervalNanos > 0) {
          allowedAtNanos += intervalNanos;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("writer interrupted");
    }
    requestEnded = true;
    stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
  }

  /** An S2S regular frame: 3-byte length of flag + body, flag 0 (no compression), protobuf body. */
  static ByteBuf frame(AppendInput input) {
    int size = input.getSerializedSize();
    byte[] frame = new byte[4 + size];
    int length = size + 1;
    frame[0] = (byte) (length >>> 16);
    frame[1] = (byte) (length >>> 8);
    frame[2] = (byte) length;
    frame[3] = 0;
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(frame, 4, size);
      input.writeTo(out);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("protobuf into a sized array", e);
    }
    return Unpooled.wrappedBuffer(frame);
  }

  /** Completes when the session's response has ended (all acks in, or a failure). */
  CompletableFuture<Void> ended() {
    return ended;
  }

  long startNanos() {
    return startNanos;
  }

  long sentRecords() {
    return sentRecords;
  }

  long ackedRecords() {
    return ackedRecords;
  }

  long ackedBodyBytes() {
    return ackedBodyBytes;
  }

  long lastAckNanos() {
    return lastAckNanos;
  }

  /** The seq_num after the last acknowledged record. */
  long ackedEndSeqNum() {
    return startSeqNum + ackedRecords;
  }

  long startSeqNum() {
    return startSeqNum;
  }

  /** Metered bytes sent and not yet acknowledged. */
  long inflightBytes() {
    return options.inflightBytesMax() - inflight.availablePermits();
  }

  /** The chain hash of the last record sent. */
  long lastHash() {
    return encoder.lastHash();
  }

  /** Ack latencies; read only after {@link #ended()}. */
  LatencyHistogram ackLatency() {
    return ackLatency;
  }

  String failure() {
    return failure;
  }

  void abort() {
    if (stream != null) {
      stream.close();
    }
  }

  private void fail(String why) {
    if (failure == null) {
      failure = "writer " + streamName + ": " + why;
    }
  }

  private final class Exchange extends S2sExchange {
    @Override
    protected void onMessage(ByteBuf body) {
      long now = System.nanoTime();
      AppendAck ack;
      try {
        ack = AppendAck.parseFrom(body.nioBuffer());
      } catch (InvalidProtocolBufferException e) {
        fail("undecodable AppendAck: " + e.getMessage());
        stream.close();
        return;
      }
      Pending p = pending.poll();
      if (p == null) {
        fail("an ack [" + ack.getStart().getSeqNum() + ", " + ack.getEnd().getSeqNum() + ") for no outstanding input");
        stream.close();
        return;
      }
      long start = ack.getStart().getSeqNum();
      long end = ack.getEnd().getSeqNum();
      if (start != p.firstSeqNum() || end - start != p.records()) {
        fail("ack [" + start + ", " + end + ") for the input expected at [" + p.firstSeqNum() + ", "
            + (p.firstSeqNum() + p.records()) + ") (someone else appended, or a batch was lost or duplicated)");
      }
      ackLatency.record(now - p.sentNanos());
      ackedRecords += p.records();
      ackedBodyBytes += p.bodyBytes();
      lastAckNanos = now;
      inflight.release(p.permits());
    }

    @Override
    protected void onTerminal(int status, String json) {
      fail("append session failed: " + status + " " + json);
    }

    @Override
    protected void onHttpError(int status, String body) {
      fail("append session refused: HTTP " + status + " " + body);
    }

    @Override
    protected void onEnd(String problem) {
      if (problem != null) {
        fail(problem);
      }
      if (!pending.isEmpty()) {
        fail("append session ended with " + pending.size() + " inputs unacknowledged");
      }
      if (!requestEnded) {
        // The writer (polling the in-flight bound every 50 ms) sees this and stops.
        fail("append session ended while the writer was still sending");
      }
      ended.complete(null);
    }
  }
}
