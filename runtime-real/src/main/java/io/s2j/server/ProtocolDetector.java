package io.s2j.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.util.List;

/**
 * The first handler of every connection: HTTP/2 with prior knowledge (h2c, what the SDKs' S2S
 * sessions use) starts with the 24-byte connection preface; anything else is HTTP/1.1. Once it
 * knows, it installs that protocol's handlers and steps aside (the bytes read so far go on to them).
 * Both end in an {@link ApiHandler} that sees HTTP messages: on HTTP/2, one per stream. HTTP/1.1
 * also gets CORS, request body decompression and unary response compression.
 */
final class ProtocolDetector extends ByteToMessageDecoder {
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
  static final int HTTP1_HEADER_BYTES_MAX = 64 * 1024;

  /** Permissive, as lite's default: browsers may call the API from any origin (the fetch transport). */
  static final CorsConfig CORS = CorsConfigBuilder.forAnyOrigin()
      .allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE)
      .allowedRequestHeaders("authorization", "content-type", "accept", "s2-basin", "s2-format", "s2-request-token",
          "s2-encryption-key", "last-event-id", "content-encoding")
      .exposeHeaders("s2-provision-result")
      .maxAge(3600)
      .build();

  /** Streams one HTTP/2 connection may have open at once (the SDKs multiplex sessions on one). */
  static final int MAX_CONCURRENT_STREAMS = 1000;
  /**
   * The rapid-reset guard: a connection whose client resets more streams than this in one window
   * is closed. Netty's default (200 per 30 s) closes a connection whose client legitimately
   * cancels its sessions (a bench or consumer ending 1,000 read sessions at once); this allows
   * every open stream to be cancelled five times over per window, which still bounds the work a
   * client can cause with resets.
   */
  static final int MAX_RST_FRAMES_PER_WINDOW = 5 * MAX_CONCURRENT_STREAMS;
  static final int RST_WINDOW_SECONDS = 30;

  private final Services services;

  ProtocolDetector(Services services) {
    this.services = services;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
    boolean prefaceSoFar = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, PREFACE.readerIndex(), n);
    if (prefaceSoFar && n < PREFACE.readableBytes()) {
      return; // could still be HTTP/2: wait for more
    }
    ChannelPipeline p = ctx.pipeline();
    if (prefaceSoFar) {
      p.addAfter(ctx.name(), "h2-codec", Http2FrameCodecBuilder.forServer()
          .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(MAX_CONCURRENT_STREAMS))
          .decoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES_PER_WINDOW, RST_WINDOW_SECONDS)
          .build());
      p.addAfter("h2-codec", "h2-multiplex", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
          RequestCounter counter = new RequestCounter(services.metrics());
          ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), counter, new ApiHandler(services, true, counter));
        }
      }));
    } else {
      RequestCounter counter = new RequestCounter(services.metrics());
      p.addAfter(ctx.name(), "api", new ApiHandler(services, false, counter));
      p.addAfter(ctx.name(), "count", counter);
      p.addAfter(ctx.name(), "keep-alive", new HttpServerKeepAliveHandler());
      p.addAfter(ctx.name(), "compress", new ResponseCompressor());
      p.addAfter(ctx.name(), "decompress", new HttpContentDecompressor(0));
      p.addAfter(ctx.name(), "cors", new CorsHandler(CORS));
      p.addAfter(ctx.name(), "http1", new HttpServerCodec(4096, HTTP1_HEADER_BYTES_MAX, 8192));
    }
    p.remove(this);
  }
}
