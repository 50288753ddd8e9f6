package io.s2j.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.api.StreamName;
import io.s2j.frontend.AppendSession;
import io.s2j.frontend.AutoCreate;
import io.s2j.frontend.OpenedStream;
import io.s2j.frontend.Outcome;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One S2S append session (S2-API §10.3) on one HTTP exchange: {@code AppendInput} frames from the
 * request body are validated and submitted, in order, to the frontend's {@link AppendSession},
 * which pipelines them; each ack is written as a frame as soon as it is released, in input order.
 *
 * <p>The stream is opened first (auto-create on append), so a missing basin or stream is an
 * ordinary HTTP error response. After that the first failure — a failed condition (412 with S2's
 * body), an error, an undecodable or invalid input (400 bad_frame / 422) — is sent as a terminal
 * frame once the acks of every earlier input are out, and nothing later is applied. A clean end of
 * the request body ends the response once every ack is sent.
 *
 * <p>Back-pressure: while {@link #PAUSE_AT} inputs await acks, the request body is not read
 * (HTTP/2 flow control then holds the client).
 */
final class AppendSessionExchange {
  private static final Logger log = LoggerFactory.getLogger(AppendSessionExchange.class);
  static final int PAUSE_AT = 256;
  static final int RESUME_AT = 128;

  private final Frontend fe;
  private final ServerMetrics metrics;
  private final ChannelHandlerContext ctx;
  private final BasinName basin;
  /** Set by {@link #start} (the stored name: auto-prefixed when the token says so). */
  private StreamName stream;
  private Principal principal;
  private final S2sFrames.Decoder decoder;
  private final S2sFrames.Compression compression;

  /** Everything below is confined to the channel's event loop, except {@link #session}. */
  private final List<AppendInput> waiting = new ArrayList<>();
  private boolean opened;
  private boolean started;
  private boolean finished;
  private boolean inputEnded;
  private boolean decoderReleased;
  private boolean counted;
  /** An input needed a permission the token lacks: nothing after it is submitted. */
  private boolean denied;
  private int pending;
  /** Metered bytes of the submitted inputs awaiting outcomes, in submission order. */
  private final java.util.ArrayDeque<Long> pendingBytes = new java.util.ArrayDeque<>();
  /** An error found in the input stream, sent once the acks of the inputs before it are out. */
  private S2Error inputError;
  /** Owned by the frontend's executor. */
  private AppendSession session;
  /** The client's encryption key (null if none was sent). */
  private final io.s2j.crypto.EncryptionKey key;

  AppendSessionExchange(Frontend fe, ServerMetrics metrics, ChannelHandlerContext ctx, HttpRequest req, BasinName basin,
      io.s2j.crypto.EncryptionKey key) {
    this.key = key;
    this.fe = fe;
    this.metrics = metrics;
    this.ctx = ctx;
    this.basin = basin;
    this.decoder = new S2sFrames.Decoder(ctx.alloc());
    this.compression = S2sFrames.Compression.negotiate(req.headers().getAll(HttpHeaderNames.ACCEPT_ENCODING));
  }

  /**
   * Opens the stream, then the session, for a request authorized as {@code principal}; inputs
   * that arrive meanwhile wait.
   */
  void start(StreamName stream, Principal principal) {
    if (finished) {
      return;
    }
    this.stream = stream;
    this.principal = principal;
    counted = true;
    metrics.sessionOpened("append");
    fe.call(f -> f.catalog().openStream(basin, stream, AutoCreate.ON_APPEND)).whenCompleteAsync((outcome, failure) -> {
      if (finished) {
        return;
      }
      if (failure != null) {
        log.error("opening an append session failed with a bug", failure);
        reject(new S2Error(ErrorCode.OTHER, "internal error"));
        return;
      }
      if (outcome instanceof Outcome.Failed<OpenedStream> f) {
        reject(f.error());
        return;
      }
      if (outcome.orThrow().cipher() != null && key == null) {
        reject(io.s2j.crypto.RecordEncryption.missingKey(outcome.orThrow().cipher()));
        return;
      }
      opened = true;
      startResponse();
      fe.run(() -> session = fe.data().openAppendSession(basin, stream, key));
      List<AppendInput> inputs = new ArrayList<>(waiting);
      waiting.clear();
      inputs.forEach(this::submit);
      maybeEnd();
    }, ctx.executor());
  }

  /** Refuses the session before it started (authentication, authorization, a missing stream). */
  void reject(S2Error error) {
    if (finished) {
      return;
    }
    finished = true;
    releaseDecoder();
    uncount();
    ApiHandler.sendError(ctx, error);
  }

  private void uncount() {
    if (counted) {
      counted = false;
      metrics.sessionClosed("append");
    }
  }

  /** More of the request body (not retained by the caller past this call). */
  void data(ByteBuf content) {
    if (finished || inputError != null || inputEnded) {
      return;
    }
    List<S2sFrames.Frame> frames;
    try {
      frames = decoder.feed(content.retain());
    } catch (ApiError e) {
      inputFailed(e.error());
      return;
    }
    for (S2sFrames.Frame frame : frames) {
      if (frame.terminal()) {
        inputFailed(new S2Error(ErrorCode.BAD_FRAME, "client sent a terminal frame"));
        return;
      }
      AppendInput input;
      try {
        input = Protos.appendInput(io.s2j.wire.proto.AppendInput.parseFrom(frame.body()));
      } catch (InvalidProtocolBufferException e) {
        inputFailed(new S2Error(ErrorCode.BAD_FRAME, "cannot decode AppendInput: " + e.getMessage()));
        return;
      } catch (ApiError e) {
        inputFailed(e.error());
        return;
      }
      if (opened) {
        submit(input);
      } else {
        waiting.add(input);
      }
    }
  }

  /** The request body ended. */
  void endOfInput() {
    if (finished) {
      return;
    }
    if (inputError == null && decoder.hasPartial()) {
      inputFailed(new S2Error(ErrorCode.BAD_FRAME, "request body ended inside a frame"));
    }
    inputEnded = true;
    maybeEnd();
  }

  /** True once the response has ended (or the connection went away). */
  boolean finished() {
    return finished;
  }

  /** The connection went away. */
  void abort() {
    finished = true;
    releaseDecoder();
    uncount();
    fe.run(() -> {
      if (session != null) {
        session.close();
      }
    });
  }

  private void submit(AppendInput input) {
    // Inputs reach here in order; those that waited for the stream precede any input error found
    // meanwhile, so only a denial stops them.
    if (finished || denied) {
      return;
    }
    try {
      ApiHandler.requireCommands(principal, input);
    } catch (ApiError e) {
      metrics.authFailed(e.error().code().wireCode());
      denied = true;
      inputFailed(e.error()); // earlier than any error of a later input
      return;
    }
    pending++;
    pendingBytes.addLast(input.batch().meteredBytes());
    if (pending >= PAUSE_AT) {
      ctx.channel().config().setAutoRead(false);
    }
    fe.run(() -> session.submit(input).onComplete((outcome, failure) ->
        ctx.executor().execute(() -> onResult(outcome, failure))));
  }

  private void onResult(Outcome<AppendResult> outcome, Throwable failure) {
    pending--;
    Long bytes = pendingBytes.pollFirst();
    if (pending < RESUME_AT && !ctx.channel().config().isAutoRead() && !finished) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
    if (finished) {
      return;
    }
    if (failure != null) {
      log.error("append session input failed with a bug", failure);
      terminal(500, Json.error(new S2Error(ErrorCode.OTHER, "internal error")));
      return;
    }
    switch (outcome) {
      case Outcome.Ok<AppendResult> ok -> {
        switch (ok.value()) {
          case AppendAck ack -> {
            metrics.appendAcked("s2s", basin.value(), stream.value(), ack.end().seqNum() - ack.start().seqNum(), bytes == null ? 0 : bytes);
            write(S2sFrames.message(ctx.alloc(), Protos.ack(ack).toByteArray(), compression));
          }
          case AppendResult.SeqNumMismatch m -> terminal(412, Json.seqNumMismatch(m.nextSeqNum()));
          case AppendResult.FencingTokenMismatch m -> terminal(412, Json.fencingTokenMismatch(m.currentToken()));
          case AppendResult.SeqNumLimitExceeded e -> terminal(e.toError());
          case AppendResult.Failed f -> terminal(f.error());
        }
      }
      case Outcome.Failed<AppendResult> f -> terminal(f.error());
    }
    maybeEnd();
  }

  private void inputFailed(S2Error error) {
    inputError = error;
    maybeEnd();
  }

  /** Ends the response once nothing is pending: with the input error, or cleanly at end of input. */
  private void maybeEnd() {
    if (finished || !opened || pending > 0) {
      return;
    }
    if (inputError != null) {
      terminal(inputError);
    } else if (inputEnded) {
      finish();
    }
  }

  private void startResponse() {
    started = true;
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, ApiHandler.S2S);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, no-transform");
    r.headers().set("x-accel-buffering", "no");
    HttpUtil.setTransferEncodingChunked(r, true);
    ctx.writeAndFlush(r);
  }

  private void terminal(S2Error error) {
    terminal(error.code().httpStatus(), Json.error(error));
  }

  private void terminal(int status, com.fasterxml.jackson.databind.JsonNode body) {
    if (!started) {
      startResponse();
    }
    write(S2sFrames.terminal(ctx.alloc(), status, Json.bytes(body)));
    finish();
  }

  private void releaseDecoder() {
    if (!decoderReleased) {
      decoderReleased = true;
      decoder.release();
    }
  }

  private void finish() {
    finished = true;
    releaseDecoder();
    uncount();
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    if (!ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
    fe.run(() -> {
      if (session != null) {
        session.close();
      }
    });
  }

  private void write(ByteBuf frame) {
    ctx.writeAndFlush(new DefaultHttpContent(frame)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
  }
}
