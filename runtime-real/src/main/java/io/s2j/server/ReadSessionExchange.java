package io.s2j.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.s2j.api.BasinName;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.S2Error;
import io.s2j.api.StreamName;
import io.s2j.frontend.ReadSession;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.nio.charset.StandardCharsets;

/**
 * One streaming read (S2-API §9.2, §10.4) on one HTTP exchange: a {@link ReadSession} on the
 * frontend whose events are written as Server-Sent Events or S2S frames. Errors before the first
 * event (404, 416, ...) are ordinary HTTP error responses; after it, an SSE {@code error} event or
 * an S2S terminal frame. A closed connection cancels the session.
 *
 * <p>Back-pressure: the session is paused when the connection (HTTP/1.1: Netty's write-buffer
 * high-water mark) or the HTTP/2 stream (its flow-control window, through the stream channel's
 * writability) stops being writable, or when more than {@link #QUEUED_BYTES_HIGH} of its batches
 * are handed over but not yet written (checked on the frontend as the session emits, since the
 * event loop may lag far behind it); a paused {@link ReadSession} stops reading ahead after the
 * step in flight. It resumes once the channel is writable and under {@link #QUEUED_BYTES_LOW} is
 * queued. A slow client is slowed down, not cut: what a session has written but not sent stays
 * within about {@code QUEUED_BYTES_HIGH} plus one catch-up step (4 MiB) plus the high-water mark.
 * As a last resort beyond {@code unsentBytesMax} unsent (only reachable with a knob below that,
 * never with the default 64 MiB), the session ends with {@code 503 unavailable} and the client
 * resumes from its last position. A client that stops reading entirely keeps its session paused
 * (holding that bounded buffer) until it closes the connection: no idle-session timeout yet.
 */
final class ReadSessionExchange {
  enum Kind { SSE, S2S }


  private final Frontend fe;
  private final LiveFrames liveFrames;
  private final ServerMetrics metrics;
  private final ChannelHandlerContext ctx;
  private final Kind kind;
  private final RecordFormat format;
  private final S2sFrames.Compression compression;
  /** Records and metered bytes delivered so far (SSE event ids), from Last-Event-ID on a resume. */
  private long deliveredCount;
  private long deliveredBytes;
  /** Bytes handed to the connection whose writes have not completed yet. */
  private long unsentBytes;
  private final long unsentBytesMax;
  private boolean started;
  private boolean finished;
  private boolean counted;
  private String basinName;
  private String streamName;
  private volatile boolean cancelled;
  /**
   * Batch bytes the session has handed over whose writes have not completed (queued on the event
   * loop or in the channel): the session is paused above {@link #QUEUED_BYTES_HIGH} (on the
   * frontend, as it emits) or while the channel is not writable (on the event loop), and resumed
   * once the channel is writable and this is below {@link #QUEUED_BYTES_LOW}.
   */
  private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
  static final long QUEUED_BYTES_HIGH = 8L << 20;
  static final long QUEUED_BYTES_LOW = 4L << 20;
  /** The session was asked to pause and not yet to resume. */
  private final java.util.concurrent.atomic.AtomicBoolean pauseRequested = new java.util.concurrent.atomic.AtomicBoolean();
  /** Set and read on the frontend's executor. */
  private ReadSession session;

  ReadSessionExchange(Frontend fe, LiveFrames liveFrames, ServerMetrics metrics, ChannelHandlerContext ctx, Kind kind,
      RecordFormat format, S2sFrames.Compression compression, long deliveredCount, long deliveredBytes, long unsentBytesMax) {
    this.unsentBytesMax = unsentBytesMax;
    this.fe = fe;
    this.liveFrames = liveFrames;
    this.metrics = metrics;
    this.ctx = ctx;
    this.kind = kind;
    this.format = format;
    this.compression = compression;
    this.deliveredCount = deliveredCount;
    this.deliveredBytes = deliveredBytes;
  }

  void open(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd end, io.s2j.crypto.EncryptionKey key) {
    basinName = basin.value();
    streamName = stream.value();
    counted = true;
    metrics.sessionOpened(sessionKind());
    ctx.channel().closeFuture().addListener(f -> {
      cancel();
      ctx.executor().execute(this::uncount);
    });
    fe.run(() -> {
      ReadSession s = fe.data().openSession(basin, stream, from, clamp, end, key, event -> {
        // On the frontend's executor, in the session's emit: count what is handed over, and pause
        // right here once too much is queued (the event loop may be far behind the frontend).
        long queued = event instanceof ReadSession.Batch b ? meteredBytes(b) : 0;
        if (queued > 0 && queuedBytes.addAndGet(queued) > QUEUED_BYTES_HIGH && session != null) {
          pauseRequested.set(true);
          session.pause();
        }
        // A live batch every follower at the tail takes whole is encoded once for all of them.
        ByteBuf encoded = event instanceof ReadSession.Batch b && b.shared() && !b.records().isEmpty()
            ? (kind == Kind.S2S ? liveFrames.s2s(b, compression, ctx.alloc()) : liveFrames.sseData(b, format, ctx.alloc()))
            : null;
        try {
          ctx.executor().execute(() -> onEvent(event, queued, encoded));
        } catch (RuntimeException e) {
          if (encoded != null) {
            encoded.release();
          }
          throw e;
        }
      });
      session = s;
      if (cancelled) {
        s.cancel();
      }
    });
  }

  private String sessionKind() {
    return kind == Kind.SSE ? "read-sse" : "read-s2s";
  }

  /** On the event loop; once per session. */
  private void uncount() {
    if (counted) {
      counted = false;
      metrics.sessionClosed(sessionKind());
    }
  }

  private static long meteredBytes(ReadSession.Batch b) {
    long n = 0;
    for (SequencedRecord r : b.records()) {
      n += r.meteredBytes();
    }
    return n;
  }

  /** On the event loop: the channel's writability changed (forwarded by {@link ApiHandler}). */
  void writabilityChanged() {
    resumeIfDrained();
  }

  /** On the event loop: resumes a paused session once the channel is writable and the queue is low. */
  private void resumeIfDrained() {
    if (!finished && ctx.channel().isWritable() && queuedBytes.get() < QUEUED_BYTES_LOW
        && pauseRequested.compareAndSet(true, false)) {
      fe.run(() -> {
        if (session != null) {
          session.resume();
        }
      });
    }
  }

  /** On the event loop, after a write: pauses the session while the channel cannot take more. */
  private void pauseIfUnwritable() {
    if (!finished && !ctx.channel().isWritable() && pauseRequested.compareAndSet(false, true)) {
      fe.run(() -> {
        if (session != null) {
          session.pause();
        }
      });
      // The channel may have drained between the write and this check without an event to tell.
      resumeIfDrained();
    }
  }

  private void cancel() {
    cancelled = true;
    fe.run(() -> {
      if (session != null) {
        session.cancel();
      }
    });
  }

  /**
   * On the channel's event loop, in the session's order. {@code encoded} is a shared batch's wire
   * form made once for every session (see {@link LiveFrames}), owned by this call; null otherwise.
   */
  private void onEvent(ReadSession.Event event, long queued, ByteBuf encoded) {
    if (finished || !ctx.channel().isActive() || !(event instanceof ReadSession.Batch)) {
      queuedBytes.addAndGet(-queued); // not written: no longer queued
      if (encoded != null) {
        encoded.release();
        encoded = null;
      }
    }
    if (finished) {
      return;
    }
    if (!ctx.channel().isActive()) {
      finished = true;
      uncount();
      cancel();
      return;
    }
    switch (event) {
      case ReadSession.Unsatisfiable u -> {
        if (!started) {
          finished = true;
          uncount();
          ApiHandler.sendJson(ctx, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Json.tail(u.tail()));
        } else {
          fail(new S2Error(io.s2j.api.ErrorCode.OTHER, "range not satisfiable"), 416, Json.bytes(Json.tail(u.tail())));
        }
      }
      case ReadSession.Failed f -> {
        if (!started) {
          finished = true;
          uncount();
          ApiHandler.sendError(ctx, f.error());
        } else {
          fail(f.error(), f.error().code().httpStatus(), Json.bytes(Json.error(f.error())));
        }
      }
      case ReadSession.Batch b -> {
        start();
        if (unsentBytes > unsentBytesMax) {
          queuedBytes.addAndGet(-queued);
          if (encoded != null) {
            encoded.release();
          }
          cancel();
          S2Error slow = new S2Error(io.s2j.api.ErrorCode.UNAVAILABLE,
              "read session ended: the client is not reading (" + unsentBytes + " bytes unsent)");
          fail(slow, slow.code().httpStatus(), Json.bytes(Json.error(slow)));
          return;
        }
        batch(b, queued, encoded);
      }
      case ReadSession.Heartbeat h -> {
        start();
        heartbeat(h.tail());
      }
      case ReadSession.End e -> {
        start();
        if (kind == Kind.SSE) {
          write(text("data: [DONE]\n\n"));
        }
        finish();
      }
    }
  }

  private void start() {
    if (started) {
      return;
    }
    started = true;
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, kind == Kind.SSE ? ApiHandler.EVENT_STREAM : ApiHandler.S2S);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, no-transform");
    r.headers().set("x-accel-buffering", "no");
    HttpUtil.setTransferEncodingChunked(r, true);
    ctx.write(r); // flushed with the event that follows it in this call
    PassFlusher.flushLater(ctx.channel());
  }

  private void batch(ReadSession.Batch b, long queued, ByteBuf encoded) {
    long metered = queued;
    if (!b.records().isEmpty()) {
      metrics.readDelivered(kind == Kind.SSE ? "sse" : "s2s", basinName, streamName, b.records().size(), metered);
    }
    if (kind == Kind.S2S) {
      write(encoded != null ? encoded : S2sFrames.message(ctx.alloc(), Protos.readBatch(b.records(), b.tail()), compression), queued);
      return;
    }
    if (b.records().isEmpty()) {
      return; // queued is 0
    }
    for (SequencedRecord r : b.records()) {
      deliveredCount++;
      deliveredBytes += r.meteredBytes();
    }
    long last = b.records().get(b.records().size() - 1).seqNum();
    ByteBuf head = text("event: batch\nid: " + last + "," + deliveredCount + "," + deliveredBytes + "\n");
    ByteBuf data = encoded != null ? encoded : LiveFrames.sseDataOf(b.records(), b.tail(), format, ctx.alloc());
    write(Unpooled.wrappedBuffer(head, data), queued);
  }

  private void heartbeat(StreamPosition tail) {
    if (kind == Kind.S2S) {
      write(S2sFrames.message(ctx.alloc(), Protos.readBatch(java.util.List.of(), tail), compression));
      return;
    }
    var ping = Json.MAPPER.createObjectNode().put("timestamp", System.currentTimeMillis());
    ping.set("tail", Json.position(tail));
    write(text("event: ping\ndata: " + new String(Json.bytes(ping), StandardCharsets.UTF_8) + "\n\n"));
  }

  private void fail(S2Error error, int status, byte[] json) {
    if (kind == Kind.S2S) {
      write(S2sFrames.terminal(ctx.alloc(), status, json));
    } else {
      write(text("event: error\ndata: " + new String(json, StandardCharsets.UTF_8) + "\n\n"));
    }
    finish();
  }

  private void finish() {
    finished = true;
    uncount();
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
  }

  private ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  private void write(ByteBuf buf) {
    write(buf, 0);
  }

  /**
   * Writes {@code buf}; once the write completes, {@code queued} batch bytes are no longer queued.
   * The connection is flushed once at the end of this event-loop pass ({@link PassFlusher}).
   */
  private void write(ByteBuf buf, long queued) {
    int n = buf.readableBytes();
    unsentBytes += n;
    ctx.write(new DefaultHttpContent(buf)).addListener(f -> {
      unsentBytes -= n;
      if (queued > 0) {
        queuedBytes.addAndGet(-queued);
        resumeIfDrained();
      }
    }).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    PassFlusher.flushLater(ctx.channel());
    pauseIfUnwritable();
  }
}
