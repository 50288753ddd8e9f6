package io.s2j.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.api.StreamName;

/** An S2S append session (S2-API §10.3). Not yet: needs the frontend's pipelined append session. */
final class AppendSessionExchange {
  private final ChannelHandlerContext ctx;

  AppendSessionExchange(Frontend fe, ChannelHandlerContext ctx, HttpRequest req, BasinName basin, StreamName stream) {
    this.ctx = ctx;
  }

  void start() {
    ApiHandler.sendError(ctx, new S2Error(ErrorCode.NOT_IMPLEMENTED, "S2S append sessions are not implemented yet"));
  }

  void data(ByteBuf content) {}

  void endOfInput() {}

  void abort() {}
}
