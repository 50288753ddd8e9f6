package io.s2j.bench.tool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One cleartext HTTP/2 connection with prior knowledge (h2c), as the S2 SDKs open for S2S
 * sessions: no Upgrade, no TLS. Each {@link #open} is one HTTP/2 stream whose response body is
 * decoded as S2S frames by an {@link S2sExchange}.
 */
final class H2cConnection implements AutoCloseable {
  /** Receive windows large enough that a fast reader is not paced by WINDOW_UPDATE round trips. */
  static final int STREAM_WINDOW_BYTES = 8 << 20;
  static final int CONNECTION_WINDOW_BYTES = 32 << 20;

  private final Channel channel;
  private final String authority;

  private H2cConnection(Channel channel, String authority) {
    this.channel = channel;
    this.authority = authority;
  }

  static H2cConnection connect(EventLoopGroup group, URI endpoint) throws InterruptedException {
    String host = endpoint.getHost();
    int port = endpoint.getPort() < 0 ? 80 : endpoint.getPort();
    Http2FrameCodec[] codec = new Http2FrameCodec[1];
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            codec[0] = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW_BYTES))
                .build();
            ch.pipeline().addLast(codec[0], new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
          }
        });
    ChannelFuture f = b.connect(host, port).await();
    if (!f.isSuccess()) {
      throw new IllegalStateException("cannot connect to " + host + ":" + port + ": " + f.cause(), f.cause());
    }
    Channel ch = f.channel();
    // The connection-level window is not a SETTINGS value: widen it with a WINDOW_UPDATE on stream 0.
    ch.eventLoop().submit(() -> {
      Http2Connection c = codec[0].connection();
      try {
        c.local().flowController().incrementWindowSize(c.connectionStream(),
            CONNECTION_WINDOW_BYTES - c.local().flowController().windowSize(c.connectionStream()));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      ch.flush();
    }).sync();
    return new H2cConnection(ch, host + ":" + port);
  }

  /**
   * Opens an HTTP/2 stream and sends the request headers ({@code endOfRequest} for requests without
   * a body, i.e. read sessions); the exchange hears the response. Safe on any thread, the event
   * loop included (nothing blocks): the returned future completes once the headers are written.
   */
  Future<Http2StreamChannel> open(String method, String pathAndQuery, Map<String, String> headers, boolean endOfRequest,
      S2sExchange exchange) {
    Promise<Http2StreamChannel> opened = channel.eventLoop().newPromise();
    new Http2StreamChannelBootstrap(channel).handler(exchange).open().addListener((Future<Http2StreamChannel> f) -> {
      if (!f.isSuccess()) {
        opened.tryFailure(f.cause());
        return;
      }
      Http2StreamChannel stream = f.getNow();
      Http2Headers h = new DefaultHttp2Headers()
          .method(method)
          .path(pathAndQuery)
          .scheme("http")
          .authority(authority);
      headers.forEach(h::set);
      stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, endOfRequest)).addListener(w -> {
        if (w.isSuccess()) {
          opened.trySuccess(stream);
        } else {
          opened.tryFailure(w.cause());
        }
      });
    });
    return opened;
  }

  EventLoop eventLoop() {
    return channel.eventLoop();
  }

  boolean isActive() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
