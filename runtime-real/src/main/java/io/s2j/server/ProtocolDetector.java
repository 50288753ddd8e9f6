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
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
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

  /**
   * An HTTP/2 connection's outbound buffer bounds. The flow controller hands the socket at most
   * what fits under the high mark per round and starts the next round when the buffer drains under
   * the low mark; each round walks every stream with pending data and each writability flip visits
   * every stream, so with Netty's 32/64 KiB hundreds of tailing sessions on one connection (the
   * 1,000-reader fan-out) cost a round per 64 KiB sent. A few MiB make the rounds rare; a
   * connection holds at most this much beyond what its streams' own bounds let through.
   */
  static final WriteBufferWaterMark H2_CONNECTION_WATER_MARK = new WriteBufferWaterMark(1 << 20, 4 << 20);
  /**
   * What the byte distributor gives a stream at least per round: one full DATA frame (16 KiB), so a
   * session's S2S message is not cut into 1 KiB DATA frames when hundreds of streams share a round
   * (Netty's weighted fair queue gives 1 KiB quanta and keeps a priority queue per round).
   */
  static final int H2_STREAM_CHUNK_BYTES = 16 * 1024;

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
      ctx.channel().config().setWriteBufferWaterMark(H2_CONNECTION_WATER_MARK);
      p.addAfter(ctx.name(), "h2-codec", new H2CodecBuilder()
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

  /** The server's HTTP/2 codec on a connection whose remote flow controller suits many streams (below). */
  static final class H2CodecBuilder extends Http2FrameCodecBuilder {
    H2CodecBuilder() {
      // A server's connection (the builder takes its side from it; server() and connection() exclude each other).
      Http2Connection connection = new DefaultHttp2Connection(true, maxReservedStreams());
      UniformStreamByteDistributor distributor = new UniformStreamByteDistributor(connection);
      distributor.minAllocationChunk(H2_STREAM_CHUNK_BYTES);
      connection.remote().flowController(new ManyStreamsFlowController(connection, distributor));
      connection(connection);
    }
  }

  /**
   * Netty's remote flow controller without per-stream writability tracking. {@link Http2FrameCodec}
   * installs a listener that turns every stream's flow-control writability change into a user
   * event, which {@link Http2MultiplexHandler} ignores (a stream channel's writability is its own
   * pending bytes and the connection's); with a listener the controller re-checks every active
   * stream on each change of the connection's writability or window. Without it, it does not.
   */
  static final class ManyStreamsFlowController extends DefaultHttp2RemoteFlowController {
    /** False while the superclass's constructor runs (it installs the listener-less monitor through {@link #listener}). */
    private final boolean constructed;

    ManyStreamsFlowController(Http2Connection connection, UniformStreamByteDistributor distributor) {
      super(connection, distributor);
      constructed = true;
    }

    @Override
    public void listener(Http2RemoteFlowController.Listener listener) {
      if (!constructed) {
        super.listener(null);
      }
      // else: the codec's listener; its events would go unused (see above)
    }
  }
}
