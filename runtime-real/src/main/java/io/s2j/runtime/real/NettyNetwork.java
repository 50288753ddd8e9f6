package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcHandler;
import io.s2j.runtime.RpcMethod;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.real.proto.RpcFailure;
import io.s2j.runtime.real.proto.RpcFrame;
import io.s2j.runtime.real.proto.RpcRequest;
import io.s2j.runtime.real.proto.RpcResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's {@link Network} between processes, over Netty TCP: one instance per process, with
 * its own I/O event loop group, a listening socket, and one outgoing connection per peer process,
 * reused by every call and every local node, and re-established on demand after it closes.
 *
 * <p>Frames are a 4-byte length and one {@code RpcFrame} (src/main/proto/s2j/rpc/rpc.proto). The
 * connecting side sends requests; the accepting side answers on the same connection, so a response
 * never reaches another process incarnation than the caller's. Outcomes, as the Network contract
 * states them:
 *
 * <ul>
 *   <li>definite {@code UNAVAILABLE}: the destination is unknown to the {@link PeerDirectory}, its
 *       process refuses the connection (or is inside the reconnect backoff after such a refusal),
 *       the request could not be written, or the process does not host the node or the method;
 *   <li>definite {@code THROTTLED} (back-pressure, nothing sent): the connection already has {@link
 *       Options#inFlightPerConnectionMax} calls in flight, or its write buffer is above the high
 *       watermark; the accepting side stops reading a connection with that many calls unanswered,
 *       so TCP pushes back on a caller that ignores the bound;
 *   <li>indefinite {@code SERVER_ERROR}: the handler failed, or the connection closed after the
 *       request was written (the handler may have run);
 *   <li>indefinite {@code TIMEOUT}: no response within the call's timeout, timed on the caller's
 *       executor; the server forgets the call after the same time, dropping a late answer.
 * </ul>
 *
 * <p>Threads: handlers and completions run on the nodes' executors (requests and responses are
 * parsed there, with the method's parsers, as in the other networks); sockets run on this
 * network's I/O threads. The only shared state is concurrent maps and atomics.
 */
public final class NettyNetwork implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NettyNetwork.class);

  /** Tunables; {@link #defaults()} are for production. */
  public record Options(
      int inFlightPerConnectionMax,
      int frameBytesMax,
      int writeBufferLowBytes,
      int writeBufferHighBytes,
      Duration connectTimeout,
      Duration reconnectBackoffMin,
      Duration reconnectBackoffMax,
      int ioThreads) {
    public Options {
      if (inFlightPerConnectionMax < 1) {
        throw new IllegalArgumentException("inFlightPerConnectionMax must be positive");
      }
      if (frameBytesMax < 1024) {
        throw new IllegalArgumentException("frameBytesMax must be at least 1 KiB");
      }
      if (writeBufferLowBytes < 1 || writeBufferHighBytes < writeBufferLowBytes) {
        throw new IllegalArgumentException("write buffer watermarks need 0 < low <= high");
      }
      if (connectTimeout.isNegative() || connectTimeout.isZero()
          || reconnectBackoffMin.isNegative() || reconnectBackoffMax.compareTo(reconnectBackoffMin) < 0) {
        throw new IllegalArgumentException("need connectTimeout > 0 and 0 <= reconnectBackoffMin <= reconnectBackoffMax");
      }
      if (ioThreads < 1) {
        throw new IllegalArgumentException("ioThreads must be positive");
      }
    }

    /**
     * 1024 calls in flight per connection; frames up to 16 MiB (an append batch is at most 1 MiB
     * of records); write buffer watermarks 1/4 MiB; connect timeout 2 s; reconnect backoff 50 ms
     * doubling to 1 s after refused connects; 2 I/O threads.
     */
    public static Options defaults() {
      return new Options(1024, 16 << 20, 256 << 10, 4 << 20, Duration.ofSeconds(2),
          Duration.ofMillis(50), Duration.ofSeconds(1), 2);
    }

    public Options withInFlightPerConnectionMax(int n) {
      return new Options(n, frameBytesMax, writeBufferLowBytes, writeBufferHighBytes, connectTimeout,
          reconnectBackoffMin, reconnectBackoffMax, ioThreads);
    }

    public Options withWriteBufferWaterMarks(int lowBytes, int highBytes) {
      return new Options(inFlightPerConnectionMax, frameBytesMax, lowBytes, highBytes, connectTimeout,
          reconnectBackoffMin, reconnectBackoffMax, ioThreads);
    }

    public Options withReconnectBackoff(Duration min, Duration max) {
      return new Options(inFlightPerConnectionMax, frameBytesMax, writeBufferLowBytes, writeBufferHighBytes,
          connectTimeout, min, max, ioThreads);
    }
  }

  private record Served<Req extends Message, Resp extends Message>(
      RpcMethod<Req, Resp> method, RpcHandler<Req, Resp> handler) {}

  private record Hosted(Scheduler scheduler, Map<String, Served<?, ?>> handlers) {}

  private final Options options;
  private final PeerDirectory directory;
  private final IoEventLoopGroup group;
  private final Channel serverChannel;
  private final Map<NodeId, Hosted> hosted = new ConcurrentHashMap<>();
  private final Map<InetSocketAddress, Peer> peers = new ConcurrentHashMap<>();
  /** Accepted connections, closed with the network. */
  private final Map<Channel, Boolean> accepted = new ConcurrentHashMap<>();
  private final AtomicLong throttledCalls = new AtomicLong();
  private final AtomicLong connectsStarted = new AtomicLong();
  private volatile boolean closed;

  private NettyNetwork(Options options, PeerDirectory directory, IoEventLoopGroup group, InetSocketAddress bind)
      throws InterruptedException {
    this.options = options;
    this.directory = directory;
    this.group = group;
    ServerBootstrap server = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(options.writeBufferLowBytes(), options.writeBufferHighBytes()))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            framing(ch.pipeline());
            ch.pipeline().addLast(new InboundCalls());
          }
        });
    directory.onAddressGone(this::dropConnection);
    ChannelFuture bound = server.bind(bind).sync();
    this.serverChannel = bound.channel();
  }

  /**
   * A network listening on {@code bind} (port 0 picks a free one), reaching other nodes at the
   * addresses {@code directory} gives.
   */
  public static NettyNetwork start(InetSocketAddress bind, PeerDirectory directory, Options options)
      throws InterruptedException {
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(options, "options");
    IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(
        options.ioThreads(), new DefaultThreadFactory("s2j-net", true), NioIoHandler.newFactory());
    try {
      return new NettyNetwork(options, directory, group, bind);
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The address this network accepts connections on. */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** Calls refused for back-pressure so far (in-flight bound or write buffer full). */
  public long throttledCalls() {
    return throttledCalls.get();
  }

  /** Outgoing connections attempted so far (one per peer unless connections closed). */
  public long connectsStarted() {
    return connectsStarted.get();
  }

  /** Hosts {@code node}, whose executor is {@code scheduler}, in this process and returns its view. */
  public Network attach(NodeId node, Scheduler scheduler) {
    Objects.requireNonNull(node, "node");
    Hosted h = new Hosted(Objects.requireNonNull(scheduler, "scheduler"), new ConcurrentHashMap<>());
    if (hosted.putIfAbsent(node, h) != null) {
      throw new IllegalStateException("node already attached: " + node);
    }
    return new NodeView(node, h);
  }

  /** Stops hosting {@code node}: requests for it are refused (definitely) from now on. */
  public void detach(NodeId node) {
    hosted.remove(node);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    for (Channel c : new ArrayList<>(accepted.keySet())) {
      c.close();
    }
    for (Peer p : new ArrayList<>(peers.values())) {
      p.closeConnection();
    }
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
  }

  private void framing(ChannelPipeline p) {
    p.addLast(new LengthFieldBasedFrameDecoder(options.frameBytesMax(), 0, 4, 0, 4));
    p.addLast(new ProtobufDecoder(RpcFrame.getDefaultInstance()));
    p.addLast(new LengthFieldPrepender(4));
    p.addLast(new ProtobufEncoder());
  }

  private static IoFailure failureOf(RpcFailure f, String what) {
    String message = what + ": " + f.getMessage();
    IoFailure.Kind kind = switch (f.getKind()) {
      case UNAVAILABLE -> IoFailure.Kind.UNAVAILABLE;
      case THROTTLED -> IoFailure.Kind.THROTTLED;
      case SERVER_ERROR, KIND_UNSPECIFIED, UNRECOGNIZED -> IoFailure.Kind.SERVER_ERROR;
    };
    if (kind == IoFailure.Kind.SERVER_ERROR && f.getIndefinite()) {
      return IoFailure.indefinite(kind, message);
    }
    return IoFailure.definite(kind, message);
  }

  // ---------------------------------------------------------------------------------------------
  // The calling side.

  /** One node's view: its handlers and its calls. */
  private final class NodeView implements Network {
    private final NodeId self;
    private final Hosted me;

    NodeView(NodeId self, Hosted me) {
      this.self = self;
      this.me = me;
    }

    @Override
    public NodeId self() {
      return self;
    }

    @Override
    public <Req extends Message, Resp extends Message> void serve(
        RpcMethod<Req, Resp> method, RpcHandler<Req, Resp> handler) {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(handler, "handler");
      if (me.handlers().putIfAbsent(method.name(), new Served<>(method, handler)) != null) {
        throw new IllegalStateException(self + " already serves " + method.name());
      }
    }

    @Override
    public <Req extends Message, Resp extends Message> Promise<Resp> call(
        NodeId destination, RpcMethod<Req, Resp> method, Req request, long timeoutNanos) {
      Objects.requireNonNull(destination, "destination");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(request, "request");
      if (timeoutNanos <= 0) {
        throw new IllegalArgumentException("timeout must be positive: " + timeoutNanos);
      }
      Scheduler caller = me.scheduler();
      Promise<Resp> promise = Promise.create(caller);
      String what = method.name() + " " + self + "->" + destination;
      InetSocketAddress address = directory.resolve(destination).orElse(null);
      if (address == null || closed) {
        failLater(caller, promise, IoFailure.definite(IoFailure.Kind.UNAVAILABLE,
            what + (closed ? ": network closed" : ": unknown node")));
        return promise;
      }
      Peer peer = peers.computeIfAbsent(address, Peer::new);
      Connection conn = peer.connection();
      if (conn == null) {
        failLater(caller, promise, IoFailure.definite(IoFailure.Kind.UNAVAILABLE,
            what + ": " + address + " refused a connection recently (reconnect backoff)"));
        return promise;
      }
      if (conn.inFlight.incrementAndGet() > options.inFlightPerConnectionMax()) {
        conn.inFlight.decrementAndGet();
        throttledCalls.incrementAndGet();
        failLater(caller, promise, IoFailure.definite(IoFailure.Kind.THROTTLED,
            what + ": " + options.inFlightPerConnectionMax() + " calls in flight to " + address));
        return promise;
      }
      if (conn.channel.isActive() && !conn.channel.isWritable()) {
        conn.inFlight.decrementAndGet();
        throttledCalls.incrementAndGet();
        failLater(caller, promise, IoFailure.definite(IoFailure.Kind.THROTTLED,
            what + ": write buffer to " + address + " above its high watermark"));
        return promise;
      }
      long callId = conn.nextCallId.incrementAndGet();
      Pending<Resp> pending = new Pending<>(caller, promise, method, what);
      conn.pending.put(callId, pending);
      pending.timer = caller.schedule(timeoutNanos, () -> conn.settle(callId,
          IoFailure.timeout(what + ": no response within " + timeoutNanos + " ns"), null));
      RpcFrame frame = RpcFrame.newBuilder().setRequest(RpcRequest.newBuilder()
          .setCallId(callId)
          .setMethod(method.name())
          .setCaller(self.value())
          .setDestination(destination.value())
          .setBody(request.toByteString())
          .setTimeoutNanos(timeoutNanos)).build();
      conn.connected.addListener(connected -> {
        if (!connected.isSuccess()) {
          conn.settle(callId, IoFailure.definite(IoFailure.Kind.UNAVAILABLE,
              what + ": cannot connect to " + address + ": " + connected.cause()), null);
          return;
        }
        conn.channel.writeAndFlush(frame).addListener(written -> {
          if (written.isSuccess()) {
            pending.written = true;
          } else {
            // A frame that was not completely written is never decoded by the peer.
            conn.settle(callId, IoFailure.definite(IoFailure.Kind.UNAVAILABLE,
                what + ": request not written: " + written.cause()), null);
          }
        });
      });
      return promise;
    }
  }

  private static <T> void failLater(Scheduler caller, Promise<T> promise, IoFailure failure) {
    // Completing from a task keeps callbacks off the caller's stack, as for every other outcome.
    caller.execute(() -> promise.fail(failure));
  }

  /** A call waiting for its response; settled exactly once, by whoever removes it from its connection. */
  private static final class Pending<Resp extends Message> {
    final Scheduler caller;
    final Promise<Resp> promise;
    final RpcMethod<?, Resp> method;
    final String what;
    /** Set on the caller's executor right after registration; read there only. */
    Cancellable timer;
    /** Set on the I/O thread once the frame is in the socket; read there (connection loss). */
    volatile boolean written;

    Pending(Scheduler caller, Promise<Resp> promise, RpcMethod<?, Resp> method, String what) {
      this.caller = caller;
      this.promise = promise;
      this.method = method;
      this.what = what;
    }

    void finish(IoFailure failure, ByteString body) {
      caller.execute(() -> {
        if (timer != null) {
          timer.cancel();
        }
        if (failure != null) {
          promise.fail(failure);
          return;
        }
        Resp decoded;
        try {
          decoded = method.responseParser().parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
          promise.fail(IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, what + ": undecodable response: " + e.getMessage()));
          return;
        }
        promise.complete(decoded);
      });
    }
  }

  /** One outgoing connection: its calls in flight, keyed by call id. */
  private final class Connection {
    final Channel channel;
    final ChannelFuture connected;
    final Map<Long, Pending<?>> pending = new ConcurrentHashMap<>();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicLong nextCallId = new AtomicLong();

    Connection(ChannelFuture connected) {
      this.connected = connected;
      this.channel = connected.channel();
    }

    /** Settles call {@code callId} once: with {@code failure}, or with the response {@code body}. */
    void settle(long callId, IoFailure failure, ByteString body) {
      Pending<?> p = pending.remove(callId);
      if (p == null) {
        return; // already settled (a late response after a timeout, say)
      }
      inFlight.decrementAndGet();
      p.finish(failure, body);
    }

    /** The connection closed: calls never written failed definitely, written ones indefinitely. */
    void lost(String why) {
      for (Long id : new ArrayList<>(pending.keySet())) {
        Pending<?> p = pending.get(id);
        if (p == null) {
          continue;
        }
        IoFailure failure = p.written
            ? IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, p.what + ": connection lost after the request was sent (" + why + ")")
            : IoFailure.definite(IoFailure.Kind.UNAVAILABLE, p.what + ": connection lost before the request was sent (" + why + ")");
        settle(id, failure, null);
      }
    }
  }

  /** Everything about one peer process: its current connection and the reconnect backoff. */
  private final class Peer {
    private final InetSocketAddress address;
    private Connection current;
    private long retryNotBeforeNanos;
    private long backoffNanos;

    Peer(InetSocketAddress address) {
      this.address = address;
    }

    /** The open or opening connection, a new one, or null inside the backoff after a refused connect. */
    synchronized Connection connection() {
      if (current != null) {
        return current;
      }
      if (backoffNanos > 0 && System.nanoTime() - retryNotBeforeNanos < 0) {
        return null;
      }
      connectsStarted.incrementAndGet();
      ResponseHandler responses = new ResponseHandler();
      ChannelFuture f = new Bootstrap()
          .group(group)
          .channel(NioSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.SO_KEEPALIVE, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.connectTimeout().toMillis())
          .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
              new WriteBufferWaterMark(options.writeBufferLowBytes(), options.writeBufferHighBytes()))
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              framing(ch.pipeline());
              ch.pipeline().addLast(responses);
            }
          })
          .connect(address);
      Connection conn = new Connection(f);
      // Set before any request is written, so before any response can arrive.
      responses.conn = conn;
      current = conn;
      f.addListener(done -> connectFinished(conn, done.isSuccess()));
      conn.channel.closeFuture().addListener(done -> {
        forget(conn);
        conn.lost("closed");
      });
      return conn;
    }

    private synchronized void connectFinished(Connection conn, boolean success) {
      if (success) {
        backoffNanos = 0;
        return;
      }
      if (current == conn) {
        current = null;
      }
      long min = options.reconnectBackoffMin().toNanos();
      backoffNanos = backoffNanos == 0 ? Math.max(min, 1) : Math.min(backoffNanos * 2, options.reconnectBackoffMax().toNanos());
      retryNotBeforeNanos = System.nanoTime() + backoffNanos;
    }

    private synchronized void forget(Connection conn) {
      if (current == conn) {
        current = null;
      }
    }

    synchronized void closeConnection() {
      if (current != null) {
        current.channel.close();
      }
    }
  }

  /** Responses arriving on an outgoing connection. */
  private final class ResponseHandler extends SimpleChannelInboundHandler<RpcFrame> {
    volatile Connection conn;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, RpcFrame frame) {
      if (!frame.hasResponse()) {
        log.warn("closing connection to {}: it sent a frame that is not a response", ctx.channel().remoteAddress());
        ctx.close();
        return;
      }
      RpcResponse r = frame.getResponse();
      Pending<?> p = conn.pending.get(r.getCallId());
      if (p == null) {
        return; // settled already (timed out): the late answer is dropped
      }
      switch (r.getOutcomeCase()) {
        case BODY -> conn.settle(r.getCallId(), null, r.getBody());
        case FAILURE -> conn.settle(r.getCallId(), failureOf(r.getFailure(), p.what), null);
        case OUTCOME_NOT_SET -> conn.settle(r.getCallId(),
            IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, p.what + ": empty response"), null);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("connection to {} failed", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The serving side.

  /**
   * Requests arriving on an accepted connection. Calls unanswered are counted; at the in-flight
   * bound, or while the write buffer is above its high watermark, the connection stops reading.
   * Counters are touched on the channel's event loop only.
   */
  private final class InboundCalls extends SimpleChannelInboundHandler<RpcFrame> {
    private int unanswered;
    private boolean writable = true;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      accepted.put(ctx.channel(), Boolean.TRUE);
      if (closed) {
        ctx.close();
      }
      ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      accepted.remove(ctx.channel());
      ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      writable = ctx.channel().isWritable();
      updateAutoRead(ctx);
      ctx.fireChannelWritabilityChanged();
    }

    private void updateAutoRead(ChannelHandlerContext ctx) {
      ctx.channel().config().setAutoRead(writable && unanswered < options.inFlightPerConnectionMax());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, RpcFrame frame) {
      if (!frame.hasRequest()) {
        log.warn("closing connection from {}: it sent a frame that is not a request", ctx.channel().remoteAddress());
        ctx.close();
        return;
      }
      RpcRequest req = frame.getRequest();
      unanswered++;
      updateAutoRead(ctx);
      AtomicBoolean answered = new AtomicBoolean();
      Answer answer = (response) -> {
        if (!answered.compareAndSet(false, true)) {
          return;
        }
        ctx.executor().execute(() -> {
          unanswered--;
          updateAutoRead(ctx);
          if (response != null) {
            ctx.writeAndFlush(RpcFrame.newBuilder().setResponse(response).build());
          }
        });
      };
      NodeId caller;
      NodeId destination;
      try {
        caller = NodeId.of(req.getCaller());
        destination = NodeId.of(req.getDestination());
      } catch (IllegalArgumentException e) {
        answer.send(failure(req, RpcFailure.Kind.SERVER_ERROR, false, "bad node id: " + e.getMessage()));
        return;
      }
      Hosted node = hosted.get(destination);
      if (node == null) {
        answer.send(failure(req, RpcFailure.Kind.UNAVAILABLE, false, destination + " is not hosted here"));
        return;
      }
      Served<?, ?> served = node.handlers().get(req.getMethod());
      if (served == null) {
        answer.send(failure(req, RpcFailure.Kind.UNAVAILABLE, false, "no handler for " + req.getMethod()));
        return;
      }
      Scheduler scheduler = node.scheduler();
      scheduler.execute(() -> {
        // The caller stops waiting after its timeout; so does this side (dropping a late answer).
        Cancellable forget = scheduler.schedule(Math.max(1, req.getTimeoutNanos()), () -> answer.send(null));
        Promise<? extends Message> result;
        try {
          result = invoke(served, caller, req.getBody());
        } catch (InvalidProtocolBufferException e) {
          forget.cancel();
          answer.send(failure(req, RpcFailure.Kind.SERVER_ERROR, false, "undecodable request: " + e.getMessage()));
          return;
        } catch (RuntimeException e) {
          forget.cancel();
          answer.send(failure(req, RpcFailure.Kind.SERVER_ERROR, true, "handler threw " + e));
          return;
        }
        if (result == null) {
          forget.cancel();
          answer.send(failure(req, RpcFailure.Kind.SERVER_ERROR, true, "handler returned null"));
          return;
        }
        result.onComplete((resp, failure) -> {
          forget.cancel();
          if (failure != null || resp == null) {
            answer.send(failure(req, RpcFailure.Kind.SERVER_ERROR, true,
                "handler failed: " + (failure != null ? failure : "null response")));
            return;
          }
          answer.send(RpcResponse.newBuilder().setCallId(req.getCallId()).setBody(resp.toByteString()).build());
        });
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("connection from {} failed", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }

  /** Sends one answer to a request (null: forget it without answering), at most once. */
  @FunctionalInterface
  private interface Answer {
    void send(RpcResponse response);
  }

  private static RpcResponse failure(RpcRequest req, RpcFailure.Kind kind, boolean indefinite, String message) {
    return RpcResponse.newBuilder().setCallId(req.getCallId())
        .setFailure(RpcFailure.newBuilder().setKind(kind).setIndefinite(indefinite).setMessage(message)).build();
  }

  private static <Q extends Message, R extends Message> Promise<R> invoke(
      Served<Q, R> served, NodeId caller, ByteString requestBytes) throws InvalidProtocolBufferException {
    Q decoded = served.method().requestParser().parseFrom(requestBytes);
    return served.handler().handle(caller, decoded);
  }

  /** For tests: the calls in flight on the connection to {@code address} (0 if none). */
  int inFlightTo(InetSocketAddress address) {
    Peer p = peers.get(address);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      return p.current == null ? 0 : p.current.inFlight.get();
    }
  }

  /**
   * Closes the outgoing connection to {@code address} (calls in flight on it fail indefinitely);
   * done when the directory no longer maps any node there, and by tests as a network fault.
   */
  void dropConnection(InetSocketAddress address) {
    Peer p = peers.get(address);
    if (p != null) {
      p.closeConnection();
    }
  }
}
