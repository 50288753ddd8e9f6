package io.s2j.bench.tool;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.s2j.wire.proto.ReadBatch;
import io.s2j.wire.proto.SequencedRecord;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One reader of one stream over S2S read sessions (S2-API §10.4), verifying everything it receives
 * with a {@link ChainVerifier}. A <em>tailing</em> reader follows the stream from the run's first
 * record (no bounds: it may follow forever) and measures end-to-end latency until told where the
 * writes ended ({@link #stopAt}); a <em>catch-up</em> reader reads a known range ({@code count}, no
 * follow) as fast as it can. A session the server ends early (e.g. {@code 503} for a slow reader)
 * is resumed at the next seq_num, at most {@link #RESUMES_MAX} times, as the SDKs do.
 */
final class StreamReader {
  static final int RESUMES_MAX = 20;
  /** Idle bound of a bounded tailing session (re-armed by every batch): the bench ends it first. */
  static final int TAILING_SESSION_WAIT_SECS = 60;

  final String who;
  private final String streamName;
  private final H2cConnection connection;
  private final Map<String, String> headers;
  private final boolean tailing;
  private final ChainVerifier verifier;
  private final LatencyHistogram e2eLatency = new LatencyHistogram();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private final EventLoop eventLoop;
  private final Consumer<String> notices;
  private byte[] scratch;

  // Event loop only (volatile for the progress line).
  private volatile long receivedRecords;
  private volatile long receivedBodyBytes;
  private volatile long lastE2eNanos;
  private volatile long startNanos;
  private volatile long endNanos;
  private volatile int resumes;
  private long endSeqNum = Long.MAX_VALUE;
  private long sessionRecordsMax;
  private int sessions;
  private Http2StreamChannel session;
  /** Where the current catch-up session's count ends. */
  private long sessionEndSeqNum;
  private String failure;

  private StreamReader(String who, String streamName, H2cConnection connection, Map<String, String> headers,
      long startSeqNum, int recordBytes, boolean tailing, Consumer<String> notices) {
    this.who = who;
    this.notices = notices;
    this.streamName = streamName;
    this.connection = connection;
    this.headers = headers;
    this.tailing = tailing;
    this.verifier = new ChainVerifier(who, startSeqNum, recordBytes);
    this.scratch = new byte[recordBytes];
    this.eventLoop = connection.eventLoop();
  }

  /**
   * A tailing reader from {@code startSeqNum}: one unbounded session (it may follow forever), or,
   * with {@code sessionRecordsMax > 0}, sessions of at most that many records that still follow
   * ({@code count} plus {@code wait}, S2-API §8.3), each reopened where the last one ended.
   */
  static StreamReader tailing(String who, String streamName, H2cConnection connection, Map<String, String> headers,
      long startSeqNum, long sessionRecordsMax, int recordBytes, Consumer<String> notices) {
    StreamReader r = new StreamReader(who, streamName, connection, headers, startSeqNum, recordBytes, true, notices);
    r.sessionRecordsMax = sessionRecordsMax;
    return r;
  }

  /** A catch-up reader of {@code [startSeqNum, endSeqNum)}, in sessions of at most {@code sessionRecordsMax} (0: one). */
  static StreamReader catchup(String who, String streamName, H2cConnection connection, Map<String, String> headers,
      long startSeqNum, long endSeqNum, long sessionRecordsMax, int recordBytes, Consumer<String> notices) {
    StreamReader r = new StreamReader(who, streamName, connection, headers, startSeqNum, recordBytes, false, notices);
    r.endSeqNum = endSeqNum;
    r.sessionRecordsMax = sessionRecordsMax;
    return r;
  }

  /** Opens the first session; {@link #started()} completes when the server answered 200 (or it failed). */
  void start() {
    eventLoop.execute(() -> {
      startNanos = System.nanoTime();
      if (verifier.nextSeqNum() >= endSeqNum) {
        finish(null);
        return;
      }
      openSession();
    });
  }

  CompletableFuture<Void> started() {
    return started;
  }

  /** Completes when the reader has verified up to its end, or failed. */
  CompletableFuture<Void> done() {
    return done;
  }

  /** Tells a tailing reader that the writes ended at {@code seqNum} (exclusive). */
  void stopAt(long seqNum) {
    eventLoop.execute(() -> {
      endSeqNum = seqNum;
      if (!done.isDone() && verifier.nextSeqNum() >= endSeqNum) {
        finish(null);
      }
    });
  }

  /** Ends the reader now (e.g. after a timeout), recording why; safe from any thread. */
  void abort(String why) {
    eventLoop.execute(() -> finish(why));
  }

  long receivedRecords() {
    return receivedRecords;
  }

  long receivedBodyBytes() {
    return receivedBodyBytes;
  }

  long lastE2eNanos() {
    return lastE2eNanos;
  }

  long startNanos() {
    return startNanos;
  }

  long endNanos() {
    return endNanos;
  }

  int resumes() {
    return resumes;
  }

  /** Read sessions opened, resumes included. */
  int sessions() {
    return sessions;
  }

  long nextSeqNum() {
    return verifier.nextSeqNum();
  }

  /** The first integrity or session failure, or null; read after {@link #done()}. */
  String failure() {
    return failure != null ? failure : verifier.failure();
  }

  long lastHash() {
    return verifier.lastHash();
  }

  long verified() {
    return verifier.verified();
  }

  LatencyHistogram e2eLatency() {
    return e2eLatency;
  }

  private void openSession() {
    long from = verifier.nextSeqNum();
    long count = endSeqNum - from;
    if (sessionRecordsMax > 0) {
      count = Math.min(count, sessionRecordsMax);
    }
    sessions++;
    sessionEndSeqNum = from + count;
    String query;
    if (!tailing) {
      query = "seq_num=" + from + "&count=" + count;
    } else if (sessionRecordsMax > 0) {
      query = "seq_num=" + from + "&count=" + count + "&wait=" + TAILING_SESSION_WAIT_SECS;
    } else {
      query = "seq_num=" + from;
    }
    connection.open("GET", "/v1/streams/" + ControlPlane.pathSegment(streamName) + "/records?" + query, headers, true,
        new Exchange()).addListener(f -> {
          if (!f.isSuccess()) {
            finish("cannot open a read session: " + f.cause());
          } else if (done.isDone()) {
            ((Http2StreamChannel) f.getNow()).close();
          } else {
            session = (Http2StreamChannel) f.getNow();
          }
        });
  }

  private void finish(String why) {
    if (done.isDone()) {
      return;
    }
    if (why != null && failure == null && verifier.failure() == null) {
      failure = who + ": " + why;
    }
    endNanos = System.nanoTime();
    if (session != null) {
      session.close();
    }
    started.complete(null);
    done.complete(null);
  }

  private void resumeOrFail(String why) {
    if (done.isDone()) {
      return;
    }
    if (verifier.failure() != null) {
      finish(null);
    } else if (verifier.nextSeqNum() >= endSeqNum) {
      finish(null);
    } else if (resumes >= RESUMES_MAX) {
      finish(why + " (after " + resumes + " resumed sessions)");
    } else {
      resumes++;
      notices.accept(who + ": resuming at seq_num " + verifier.nextSeqNum() + " after: " + why);
      session = null;
      openSession();
    }
  }

  private final class Exchange extends S2sExchange {
    /** This session's end was already dealt with (a terminal frame resumed or failed the reader). */
    private boolean over;

    @Override
    protected void onResponse(int status) {
      started.complete(null);
    }

    @Override
    protected void onMessage(ByteBuf body) {
      if (done.isDone()) {
        return;
      }
      ReadBatch batch;
      try {
        byte[] bytes = ByteBufUtil.getBytes(body);
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        in.enableAliasing(true);
        batch = ReadBatch.parseFrom(in);
      } catch (IOException e) {
        finish("undecodable ReadBatch: " + e.getMessage());
        return;
      }
      if (batch.getRecordsCount() == 0) {
        return;
      }
      long nowNanos = WallClock.nowNanos();
      long records = 0;
      long bytes = 0;
      for (SequencedRecord r : batch.getRecordsList()) {
        ByteString b = r.getBody();
        int len = b.size();
        if (scratch.length < len) {
          scratch = new byte[len];
        }
        b.copyTo(scratch, 0);
        long writeNanos = verifier.accept(r.getSeqNum(), scratch, 0, len);
        if (writeNanos < 0) {
          finish(null);
          return;
        }
        if (tailing) {
          long e2e = nowNanos - writeNanos;
          e2eLatency.record(e2e);
          lastE2eNanos = e2e;
        }
        records++;
        bytes += len;
        if (verifier.nextSeqNum() >= endSeqNum) {
          break;
        }
      }
      receivedRecords += records;
      receivedBodyBytes += bytes;
      if (verifier.nextSeqNum() >= endSeqNum) {
        finish(null);
      }
    }

    @Override
    protected void onTerminal(int status, String json) {
      over = true;
      resumeOrFail("read session failed: " + status + " " + json);
    }

    @Override
    protected void onHttpError(int status, String body) {
      finish("read session refused: HTTP " + status + " " + body);
    }

    @Override
    protected void onEnd(String problem) {
      if (done.isDone() || over) {
        return;
      }
      over = true;
      if (problem == null && sessionRecordsMax > 0 && verifier.nextSeqNum() == sessionEndSeqNum && sessionEndSeqNum < endSeqNum) {
        session = null;
        openSession(); // the next bounded session
      } else if (problem == null && !tailing && verifier.nextSeqNum() < endSeqNum) {
        resumeOrFail("catch-up session ended at seq_num " + verifier.nextSeqNum() + " before " + endSeqNum);
      } else if (problem != null) {
        resumeOrFail(problem);
      } else if (tailing) {
        resumeOrFail("tailing session ended at seq_num " + verifier.nextSeqNum());
      }
    }
  }
}
