package io.s2j.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayDeque;

/**
 * Counts each response of a connection (HTTP/1.1) or stream (HTTP/2) by the operation of its
 * request and its status, for {@code s2j_http_requests_total}. Sits just before the
 * {@link ApiHandler}, which names each request's operation as it arrives; responses leave in request
 * order (HTTP/1.1), or there is one request (an HTTP/2 stream), so the first name waiting is the
 * response's.
 */
final class RequestCounter extends ChannelOutboundHandlerAdapter {
  private final ServerMetrics metrics;
  private final ArrayDeque<String> labels = new ArrayDeque<>();

  RequestCounter(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  /** A request arrived; its response will be counted under {@code label}. Event loop only. */
  void expect(String label) {
    labels.addLast(label);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof HttpResponse r && r.status().code() != HttpResponseStatus.CONTINUE.code()) {
      String label = labels.pollFirst();
      metrics.request(null, label == null ? "none" : label, r.status().code());
    }
    super.write(ctx, msg, promise);
  }
}
