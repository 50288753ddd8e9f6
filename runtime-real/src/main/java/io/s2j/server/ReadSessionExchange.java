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
 * <p>Back-pressure: when the connection (HTTP/1.1: Netty's write-buffer high-water mark) or the
 * HTTP/2 stream (its flow-control window, through the stream channel's writability) stops being
 * writable, the exchange pauses the {@link ReadSession}, which stops reading ahead after the step
 * in flight; it resumes when the channel drains. A slow client is slowed down, not cut. What a
 * session has written but not yet sent stays bounded by the step in flight plus the high-water
 * mark; as a last resort beyond {@code unsentBytesMax} unsent (only reachable when one step is
 * larger than the knob, which the default 64 MiB never is), the session ends with {@code 503
 * unavailable} and the client resumes from its last position. A client that stops reading
 * entirely keeps its session paused (holding that bounded buffer) until it closes the connection:
 * no idle-session timeout yet.
 */
final class ReadSessionExchange {
  enum Kind { SSE, S2S }


  private final Frontend fe;
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
  /** The session was paused because the channel is not writable (event loop only). */
  private boolean paused;
  /** Set and read on the frontend's executor. */
  private ReadSession session;

  ReadSessionExchange(Frontend fe, ServerMetrics metrics, ChannelHandlerContext ctx, Kind kind, RecordFormat format,
      S2sFrames.Compression compression, long deliveredCount, long deliveredBytes, long unsentBytesMax) {
    this.unsentBytesMax = unsentBytesMax;
    this.fe = fe;
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
      ReadSession s = fe.data().openSession(basin, stream, from, clamp, end, key,
          event -> ctx.executor().execute(() -> onEvent(event)));
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

  /** On the event loop: the channel's writability changed (forwarded by {@link ApiHandler}). */
  void writabilityChanged() {
    if (paused && !finished && ctx.channel().isWritable()) {
      paused = false;
      fe.run(() -> {
        if (session != null) {
          session.resume();
        }
      });
    }
  }

  /** On the event loop, after a write: pauses the session while the channel cannot take more. */
  private void pauseIfUnwritable() {
    if (!paused && !finished && !ctx.channel().isWritable()) {
      paused = true;
      fe.run(() -> {
        if (session != null) {
          session.pause();
        }
      });
      // The channel may have drained between the write and this check without an event to tell.
      if (ctx.channel().isWritable()) {
        writabilityChanged();
      }
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

  /** On the channel's event loop, in the session's order. */
  private void onEvent(ReadSession.Event event) {
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
          cancel();
          S2Error slow = new S2Error(io.s2j.api.ErrorCode.UNAVAILABLE,
              "read session ended: the client is not reading (" + unsentBytes + " bytes unsent)");
          fail(slow, slow.code().httpStatus(), Json.bytes(Json.error(slow)));
          return;
        }
        batch(b);
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
    ctx.writeAndFlush(r);
  }

  private void batch(ReadSession.Batch b) {
    long metered = 0;
    for (SequencedRecord r : b.records()) {
      metered += r.meteredBytes();
    }
    if (!b.records().isEmpty()) {
      metrics.readDelivered(kind == Kind.SSE ? "sse" : "s2s", basinName, streamName, b.records().size(), metered);
    }
    if (kind == Kind.S2S) {
      write(S2sFrames.message(ctx.alloc(), Protos.readBatch(b.records(), b.tail()), compression));
      return;
    }
    if (b.records().isEmpty()) {
      return;
    }
    for (SequencedRecord r : b.records()) {
      deliveredCount++;
      deliveredBytes += r.meteredBytes();
    }
    long last = b.records().get(b.records().size() - 1).seqNum();
    write(text("event: batch\nid: " + last + "," + deliveredCount + "," + deliveredBytes + "\ndata: "
        + new String(Json.bytes(Json.readBatch(b.records(), b.tail(), format)), StandardCharsets.UTF_8) + "\n\n"));
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
    int n = buf.readableBytes();
    unsentBytes += n;
    ctx.writeAndFlush(new DefaultHttpContent(buf)).addListener(f -> unsentBytes -= n)
        .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    pauseIfUnwritable();
  }
}
