package io.s2j.server;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;

/**
 * One flush per connection per event-loop pass for what read sessions write. A session writes its
 * frame without flushing and asks for a flush here; the flush runs once the event loop has run the
 * tasks it has queued (Netty's after-iteration tasks), so the frames of every session of a
 * connection that got a batch in that pass go out with one flush. For HTTP/2 the flush is the
 * connection's (the parent channel's), not each stream's: every HTTP/2 flush runs the flow
 * controller's byte distribution over all streams with pending data, which with hundreds of
 * sessions per connection was most of the server's CPU when each session flushed on its own.
 *
 * <p>Only on event-loop threads; one instance per thread.
 */
final class PassFlusher {
  private static final FastThreadLocal<PassFlusher> LOCAL = new FastThreadLocal<>() {
    @Override
    protected PassFlusher initialValue() {
      return new PassFlusher();
    }
  };

  private List<Channel> pending = new ArrayList<>();
  private List<Channel> spare = new ArrayList<>();
  /** The connections in {@code pending}, each listed once. */
  private final java.util.Set<Channel> listed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private boolean scheduled;
  private final Runnable flushAll = this::flushAll;

  private PassFlusher() {}

  /** Flushes {@code channel}'s connection at the end of this event-loop pass; on its event loop. */
  static void flushLater(Channel channel) {
    Channel connection = channel instanceof Http2StreamChannel ? channel.parent() : channel;
    EventLoop loop = connection.eventLoop();
    if (!loop.inEventLoop()) {
      channel.flush();
      return;
    }
    LOCAL.get().add(connection, loop);
  }

  private void add(Channel connection, EventLoop loop) {
    if (listed.add(connection)) {
      pending.add(connection);
    }
    if (!scheduled) {
      scheduled = true;
      if (loop instanceof SingleThreadEventLoop s) {
        s.executeAfterEventLoopIteration(flushAll);
      } else {
        loop.execute(flushAll);
      }
    }
  }

  private void flushAll() {
    scheduled = false;
    List<Channel> now = pending;
    pending = spare;
    spare = now;
    listed.clear();
    for (Channel c : now) {
      if (c.isActive()) {
        c.flush();
      }
    }
    now.clear();
  }
}
