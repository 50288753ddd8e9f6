package io.s2j.bench.tool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The response side of one S2S session on its HTTP/2 stream (S2-API §10.2): a 200 response's body
 * is split into frames (3-byte big-endian length of flag + body, 1 flag byte, body); regular
 * messages go to {@link #onMessage}, a terminal frame (flag 0x80: 2-byte status + JSON) to
 * {@link #onTerminal}. A non-200 response is an ordinary HTTP error whose JSON body goes to
 * {@link #onHttpError}. {@link #onEnd} is called exactly once, last. All callbacks run on the
 * connection's event loop.
 */
abstract class S2sExchange extends ChannelInboundHandlerAdapter {
  static final int FLAG_TERMINAL = 0x80;
  static final int FLAG_COMPRESSION = 0x60;
  /** Decoders reject frames longer than 2 MiB (flag + body). */
  static final int FRAME_LENGTH_MAX = 2 << 20;

  private CompositeByteBuf pending;
  private int status;
  private ByteBuf errorBody;
  private boolean ended;

  /** The response headers arrived with this status. */
  protected void onResponse(int status) {}

  /** One regular message body (a protobuf, uncompressed: the bench never offers compression). */
  protected abstract void onMessage(ByteBuf body);

  /** The session failed after it started: the terminal frame's status and JSON. */
  protected abstract void onTerminal(int status, String json);

  /** The session did not start: status and error body. */
  protected abstract void onHttpError(int status, String body);

  /**
   * The exchange is over: {@code problem} is null after a body that ended cleanly, else what went
   * wrong at the transport level (reset, connection closed, malformed frame). Called once.
   */
  protected abstract void onEnd(String problem);

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    pending = ctx.alloc().compositeBuffer(64);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (ended) {
        return;
      }
      if (msg instanceof Http2HeadersFrame h) {
        if (status == 0) {
          CharSequence s = h.headers().status();
          status = s == null ? -1 : Integer.parseInt(s.toString());
          if (status == 200) {
            onResponse(status);
          } else {
            errorBody = Unpooled.buffer();
          }
        }
        if (h.isEndStream()) {
          finish(ctx);
        }
      } else if (msg instanceof Http2DataFrame d) {
        if (errorBody != null) {
          errorBody.writeBytes(d.content());
        } else {
          pending.addComponent(true, d.content().retain());
          if (!drainFrames(ctx)) {
            return;
          }
        }
        if (d.isEndStream()) {
          finish(ctx);
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof Http2ResetFrame r) {
      end(ctx, "stream reset by the server (HTTP/2 error code " + r.errorCode() + ")");
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    end(ctx, "stream closed before the response ended");
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    end(ctx, "transport error: " + cause);
    ctx.close();
  }

  /** Emits every complete frame in {@link #pending}; false if the exchange ended on a bad frame. */
  private boolean drainFrames(ChannelHandlerContext ctx) {
    while (pending.readableBytes() >= 3) {
      int ri = pending.readerIndex();
      int length = pending.getUnsignedMedium(ri);
      if (length < 1 || length > FRAME_LENGTH_MAX) {
        end(ctx, "malformed S2S frame: length " + length);
        ctx.close();
        return false;
      }
      if (pending.readableBytes() < 3 + length) {
        break;
      }
      int flag = pending.getUnsignedByte(ri + 3);
      ByteBuf body = pending.slice(ri + 4, length - 1);
      pending.skipBytes(3 + length);
      if ((flag & FLAG_TERMINAL) != 0) {
        int st = body.readableBytes() >= 2 ? body.getUnsignedShort(body.readerIndex()) : -1;
        String json = body.readableBytes() > 2 ? body.toString(body.readerIndex() + 2, body.readableBytes() - 2, StandardCharsets.UTF_8) : "";
        onTerminal(st, json);
      } else if ((flag & FLAG_COMPRESSION) != 0) {
        end(ctx, "compressed S2S message (flag 0x" + Integer.toHexString(flag) + ") although none was negotiated");
        ctx.close();
        return false;
      } else {
        onMessage(body);
      }
      if (ended) {
        return false;
      }
    }
    pending.discardReadComponents();
    return true;
  }

  private void finish(ChannelHandlerContext ctx) {
    if (errorBody != null) {
      String body = errorBody.toString(StandardCharsets.UTF_8);
      onHttpError(status, body);
      end(ctx, null);
    } else if (pending.isReadable()) {
      end(ctx, "response ended inside an S2S frame (" + pending.readableBytes() + " bytes left over)");
    } else {
      end(ctx, null);
    }
  }

  private void end(ChannelHandlerContext ctx, String problem) {
    if (ended) {
      return;
    }
    ended = true;
    pending.release();
    if (errorBody != null) {
      errorBody.release();
    }
    onEnd(problem);
  }
}
