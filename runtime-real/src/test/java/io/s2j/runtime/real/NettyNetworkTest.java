package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcMethod;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link NettyNetwork} beyond the contract: connections, back-pressure, peers that die and return. */
class NettyNetworkTest {
  static final RpcMethod<StringValue, StringValue> ECHO = RpcMethod.of("test.Echo", StringValue.parser(), StringValue.parser());
  static final RpcMethod<Int64Value, Int64Value> NEVER = RpcMethod.of("test.Never", Int64Value.parser(), Int64Value.parser());
  static final RpcMethod<BytesValue, Int64Value> SINK = RpcMethod.of("test.Sink", BytesValue.parser(), Int64Value.parser());
  static final long SECOND_NS = 1_000_000_000L;
  static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();
  private final PeerDirectory directory = new PeerDirectory();
  /** test.Never handler invocations, so tests wait for delivery instead of sleeping. */
  private final AtomicInteger neverInvoked = new AtomicInteger();

  /** One node: its own executor thread, as RealRuntime gives it. */
  final class Node {
    final EventLoopScheduler scheduler;
    final Network network;

    Node(String name, NettyNetwork on) {
      IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
      toClose.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS));
      scheduler = new EventLoopScheduler((EventLoop) group.next(), t -> { throw new AssertionError(t); });
      network = on.attach(NodeId.of(name), scheduler);
      directory.put(NodeId.of(name), on.localAddress());
    }

    <T> CompletableFuture<T> start(Function<Network, Promise<T>> op) {
      CompletableFuture<T> cf = new CompletableFuture<>();
      scheduler.execute(() -> op.apply(network).onComplete((v, f) -> {
        if (f != null) {
          cf.completeExceptionally(f);
        } else {
          cf.complete(v);
        }
      }));
      return cf;
    }

    <T> T await(Function<Network, Promise<T>> op) {
      try {
        return start(op).get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw new AssertionError(e.getCause());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }

    String echo(String to, String s) {
      return await(n -> n.call(NodeId.of(to), ECHO, StringValue.of(s), 5 * SECOND_NS)).getValue();
    }
  }

  NettyNetwork network(NettyNetwork.Options options, InetSocketAddress bind) throws InterruptedException {
    NettyNetwork n = NettyNetwork.start(bind, directory, options);
    toClose.add(n);
    return n;
  }

  Node server(NettyNetwork on, String name) {
    Node s = new Node(name, on);
    s.network.serve(ECHO, (caller, req) -> Promise.completed(s.scheduler, StringValue.of(caller + ":" + req.getValue())));
    s.network.serve(NEVER, (caller, req) -> {
      neverInvoked.incrementAndGet();
      return Promise.create(s.scheduler);
    });
    s.network.serve(SINK, (caller, req) -> Promise.completed(s.scheduler, Int64Value.of(req.getValue().size())));
    return s;
  }

  void awaitNeverInvoked(int n) throws InterruptedException {
    for (int i = 0; i < 1000 && neverInvoked.get() < n; i++) {
      Thread.sleep(10);
    }
    assertEquals(n, neverInvoked.get(), "test.Never calls delivered");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  static IoFailure failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof IoFailure, String.valueOf(e.getCause()));
    return (IoFailure) e.getCause();
  }

  @Test
  void callsFromSeveralNodesShareOneConnectionPerPeerProcess() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    Node a = new Node("a", clientNet);
    Node b = new Node("b", clientNet);
    server(serverNet, "s1");
    server(serverNet, "s2");
    List<CompletableFuture<StringValue>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Node from = i % 2 == 0 ? a : b;
      String to = i % 3 == 0 ? "s1" : "s2";
      String v = Integer.toString(i);
      calls.add(from.start(n -> n.call(NodeId.of(to), ECHO, StringValue.of(v), 5 * SECOND_NS)));
    }
    for (int i = 0; i < calls.size(); i++) {
      assertEquals((i % 2 == 0 ? "a" : "b") + ":" + i, calls.get(i).get(30, TimeUnit.SECONDS).getValue());
    }
    assertEquals(1, clientNet.connectsStarted(), "both nodes, both destinations: one connection to the peer process");
    assertEquals(0, clientNet.inFlightTo(serverNet.localAddress()));
  }

  @Test
  void aProcessThatDoesNotHostTheNodeRefusesDefinitely() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    directory.put(NodeId.of("moved"), serverNet.localAddress()); // a stale directory entry
    IoFailure f = assertThrows(IoFailure.class, () -> c.echo("moved", "x"));
    assertEquals(IoFailure.Kind.UNAVAILABLE, f.kind());
    assertFalse(f.indefinite());
    assertTrue(f.getMessage().contains("not hosted"), f.getMessage());
  }

  @Test
  void aDeadPeerIsDefinitelyUnavailableAndReachedAgainWhenItReturns() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults().withReconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    InetSocketAddress address = serverNet.localAddress();
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    assertEquals("c:1", c.echo("s", "1"));
    CompletableFuture<Int64Value> inFlight = c.start(n -> n.call(NodeId.of("s"), NEVER, Int64Value.of(1), 30 * SECOND_NS));
    awaitNeverInvoked(1);
    long t0 = System.nanoTime();
    serverNet.close();
    IoFailure lost = failure(inFlight);
    assertEquals(IoFailure.Kind.SERVER_ERROR, lost.kind(), lost.toString());
    assertTrue(lost.indefinite(), "written before the peer died: it may have run");
    assertTrue(System.nanoTime() - t0 < 5 * SECOND_NS, "failed when the connection closed, not at its 30 s timeout");

    for (int i = 0; i < 3; i++) {
      IoFailure down = assertThrows(IoFailure.class, () -> c.echo("s", "down"));
      assertEquals(IoFailure.Kind.UNAVAILABLE, down.kind(), down.toString());
      assertFalse(down.indefinite());
    }
    // The same address, a new process incarnation.
    NettyNetwork again = network(NettyNetwork.Options.defaults(), address);
    server(again, "s");
    String answer = null;
    for (int i = 0; i < 100 && answer == null; i++) {
      try {
        answer = c.echo("s", "2");
      } catch (IoFailure f) {
        assertFalse(f.indefinite(), f.toString());
        Thread.sleep(20); // inside the reconnect backoff
      }
    }
    assertEquals("c:2", answer);
    assertTrue(clientNet.connectsStarted() >= 2);
  }

  /**
   * A peer that leaves the directory (its lease expired: paused, cut off) may still hold its
   * connections open; calls in flight to it fail at once, indefinitely, not at their timeouts.
   */
  @Test
  void callsInFlightToAPeerLeavingTheDirectoryFailAtOnce() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    CompletableFuture<Int64Value> waiting = c.start(n -> n.call(NodeId.of("s"), NEVER, Int64Value.of(1), 60 * SECOND_NS));
    awaitNeverInvoked(1);
    long started = System.nanoTime();
    directory.remove(NodeId.of("s"));
    IoFailure failed = failure(waiting);
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertTrue(failed.indefinite(), "the call was delivered: its outcome is unknown: " + failed);
    assertTrue(tookMs < 5_000, "failed at once, not at its 60 s timeout: " + tookMs + " ms");
    IoFailure unknown = assertThrows(IoFailure.class, () -> c.echo("s", "gone"));
    assertEquals(IoFailure.Kind.UNAVAILABLE, unknown.kind());
    assertFalse(unknown.indefinite());
  }

  @Test
  void theInFlightBoundRefusesCallsBeyondItWithoutSendingThem() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults().withInFlightPerConnectionMax(4), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    List<CompletableFuture<Int64Value>> waiting = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      waiting.add(c.start(n -> n.call(NodeId.of("s"), NEVER, Int64Value.of(1), SECOND_NS / 2)));
    }
    IoFailure refused = assertThrows(IoFailure.class, () -> c.echo("s", "fifth"));
    assertEquals(IoFailure.Kind.THROTTLED, refused.kind());
    assertFalse(refused.indefinite());
    assertEquals(1, clientNet.throttledCalls());
    for (CompletableFuture<Int64Value> w : waiting) {
      assertEquals(IoFailure.Kind.TIMEOUT, failure(w).kind());
    }
    assertEquals("c:after", c.echo("s", "after"), "timed-out calls give their slots back");
  }

  /**
   * The serving side stops reading a connection with its bound of unanswered calls, so a caller
   * that allows more is pushed back by TCP; the server forgets calls at their timeouts and reads
   * again.
   */
  @Test
  void theServerStopsReadingAtItsBoundAndResumesWhenCallsAreForgotten() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults().withInFlightPerConnectionMax(2), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    List<CompletableFuture<Int64Value>> waiting = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      waiting.add(c.start(n -> n.call(NodeId.of("s"), NEVER, Int64Value.of(1), 3 * SECOND_NS)));
    }
    awaitNeverInvoked(2);
    IoFailure unread = assertThrows(IoFailure.class,
        () -> c.await(n -> n.call(NodeId.of("s"), ECHO, StringValue.of("x"), SECOND_NS / 2)));
    assertEquals(IoFailure.Kind.TIMEOUT, unread.kind(), "not read while two calls are unanswered: " + unread);
    for (CompletableFuture<Int64Value> w : waiting) {
      assertEquals(IoFailure.Kind.TIMEOUT, failure(w).kind());
    }
    assertEquals("c:y", c.echo("s", "y"), "reading again once the server forgot the calls");
  }

  @Test
  void aFullWriteBufferRefusesCallsAtTheCaller() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults().withWriteBufferWaterMarks(64 << 10, 128 << 10), ANY_LOOPBACK);
    // One unanswered call and the server stops reading: everything else piles up in buffers.
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults().withInFlightPerConnectionMax(1), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    c.start(n -> n.call(NodeId.of("s"), NEVER, Int64Value.of(1), 10 * SECOND_NS));
    awaitNeverInvoked(1);
    BytesValue big = BytesValue.of(ByteString.copyFrom(new byte[1 << 20]));
    AtomicInteger throttled = new AtomicInteger();
    List<CompletableFuture<Int64Value>> sent = new ArrayList<>();
    for (int i = 0; i < 64 && throttled.get() == 0; i++) {
      CompletableFuture<Int64Value> f = c.start(n -> n.call(NodeId.of("s"), SINK, big, 10 * SECOND_NS));
      try {
        f.get(50, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IoFailure io && io.kind() == IoFailure.Kind.THROTTLED) {
          assertFalse(io.indefinite());
          assertTrue(io.getMessage().contains("watermark"), io.getMessage());
          throttled.incrementAndGet();
        }
      } catch (java.util.concurrent.TimeoutException e) {
        sent.add(f); // written (or buffered) and unanswered: expected
      }
    }
    assertEquals(1, throttled.get(), "the write buffer filled before 64 MiB were queued; " + sent.size() + " calls buffered");
    assertTrue(sent.size() >= 1);
  }

  /** Oversized and undecodable frames close that connection only; the network serves others on. */
  @Test
  void aBadFrameClosesItsConnectionOnly() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    NettyNetwork serverNet = network(NettyNetwork.Options.defaults(), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    server(serverNet, "s");
    byte[][] bad = {
        {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // a length beyond frameBytesMax
        {0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // a frame that is not protobuf
    };
    for (byte[] bytes : bad) {
      try (java.net.Socket raw = new java.net.Socket(serverNet.localAddress().getAddress(), serverNet.localAddress().getPort())) {
        raw.setSoTimeout(5_000);
        raw.getOutputStream().write(bytes);
        raw.getOutputStream().flush();
        assertEquals(-1, raw.getInputStream().read(), "the server closes the connection");
      }
    }
    assertEquals("c:fine", c.echo("s", "fine"));
  }

  /** A second real process (a JVM started by the test) serving ECHO; killed with -9 and started again. */
  @Test
  void aPeerInAnotherJvmIsCalledKilledAndReachedAgain() throws Exception {
    NettyNetwork clientNet = network(NettyNetwork.Options.defaults().withReconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)), ANY_LOOPBACK);
    Node c = new Node("c", clientNet);
    Process first = startEchoProcess(0);
    int port = readPort(first);
    directory.put(NodeId.of("remote"), new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    assertEquals("c:hello", c.echo("remote", "hello"));
    first.destroyForcibly();
    first.waitFor(10, TimeUnit.SECONDS);
    IoFailure down = assertThrows(IoFailure.class, () -> c.echo("remote", "x"));
    assertFalse(down.indefinite(), down.toString());
    Process second = startEchoProcess(port);
    assertEquals(port, readPort(second));
    String answer = null;
    for (int i = 0; i < 100 && answer == null; i++) {
      try {
        answer = c.echo("remote", "again");
      } catch (IoFailure f) {
        Thread.sleep(20);
      }
    }
    assertEquals("c:again", answer);
  }

  private Process startEchoProcess(int port) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), RpcEchoProcess.class.getName(),
        Integer.toString(port)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    toClose.add(() -> {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    });
    return p;
  }

  private static int readPort(Process p) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    String l = line.get(60, TimeUnit.SECONDS);
    assertTrue(l != null && l.startsWith("READY "), "child said: " + l);
    return Integer.parseInt(l.substring("READY ".length()).trim());
  }
}
