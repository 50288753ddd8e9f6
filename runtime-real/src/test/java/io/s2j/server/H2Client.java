package io.s2j.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test client speaking HTTP/2 with prior knowledge (h2c), as the SDKs' S2S sessions do: one
 * connection, one HTTP/2 stream per {@link #open} exchange, the request body sent piecewise.
 */
final class H2Client implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel connection;

  H2Client(int port) throws InterruptedException {
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
            new ChannelInboundHandlerAdapter() {
              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // a reset connection (the server was killed): the streams see it closed
              }
            });
      }
    });
    connection = b.connect("127.0.0.1", port).sync().channel();
  }

  /** One request/response exchange on its own HTTP/2 stream. */
  static final class Exchange {
    final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
    /** Body chunks as they arrive; an empty array marks the end of the body. */
    final BlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
    final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final ByteArrayOutputStream all = new ByteArrayOutputStream();
    Http2StreamChannel stream;

    void send(byte[] data) {
      stream.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(data)));
    }

    void finish() {
      stream.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** Cancels the exchange: closing an open HTTP/2 stream sends RST_STREAM (CANCEL). */
    void cancel() {
      stream.close().syncUninterruptibly();
    }

    /** The whole response body, once it ended. */
    byte[] awaitBody() throws Exception {
      return body.get(30, TimeUnit.SECONDS);
    }

    HttpResponse awaitResponse() throws Exception {
      return response.get(30, TimeUnit.SECONDS);
    }
  }

  /** Opens a stream and sends the request headers (the body follows with send/finish). */
  Exchange open(HttpMethod method, String path, Map<String, String> headers, boolean endOfRequest) throws InterruptedException {
    return open(method, path, headers, endOfRequest, true);
  }

  /**
   * {@link #open(HttpMethod, String, Map, boolean)}; with {@code autoRead} false the response is
   * read only on {@link Exchange#stream}{@code .read()}, so the stream's flow-control window is
   * returned to the server only as fast as the test reads (a slow reader).
   */
  Exchange open(HttpMethod method, String path, Map<String, String> headers, boolean endOfRequest, boolean autoRead)
      throws InterruptedException {
    Exchange ex = new Exchange();
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.config().setAutoRead(autoRead);
        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
              if (msg instanceof HttpResponse r) {
                ex.response.complete(r);
              }
              if (msg instanceof HttpContent c) {
                byte[] bytes = ByteBufUtil.getBytes(c.content());
                if (bytes.length > 0) {
                  ex.chunks.add(bytes);
                  ex.all.writeBytes(bytes);
                }
                if (c instanceof LastHttpContent) {
                  ex.chunks.add(new byte[0]);
                  ex.body.complete(ex.all.toByteArray());
                }
              }
            } finally {
              ReferenceCountUtil.release(msg);
            }
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            ex.response.completeExceptionally(new IllegalStateException("stream closed"));
            ex.body.completeExceptionally(new IllegalStateException("stream closed before the body ended"));
          }
        });
      }
    }).open().sync().getNow();
    ex.stream = stream;
    DefaultHttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, path);
    req.headers().set(HttpHeaderNames.HOST, "127.0.0.1");
    headers.forEach((k, v) -> req.headers().set(k, v));
    stream.write(req);
    if (endOfRequest) {
      stream.write(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    stream.flush();
    return ex;
  }

  @Override
  public void close() {
    connection.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
