package io.s2j.runtime.real;

import static io.s2j.runtime.real.ObjectStoreMetadataStoreTest.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.StringValue;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two seams together: processes (each its own etcd client, lease, directory and {@link
 * NettyNetwork}) find each other through etcd announcements, lose a dead one after its lease, and
 * find it again at a new address.
 */
class EtcdPeerDirectoryTest {
  private static final Duration TTL = Duration.ofSeconds(2);
  private static final Duration REFRESH = Duration.ofMillis(200);
  private static EtcdProcess etcd;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final String namespace = "dir/" + UUID.randomUUID() + "/";

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdProcess.startOrSkip();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** One process hosting one node that serves test.Echo. */
  final class Proc implements AutoCloseable {
    final EtcdMetadataStore store = EtcdMetadataStoreTest.open(etcd, namespace, Duration.ofSeconds(5));
    final EtcdPeerDirectory directory = EtcdPeerDirectory.open(store, b("live/"), REFRESH);
    final NettyNetwork net;
    final IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    final EventLoopScheduler scheduler = new EventLoopScheduler((EventLoop) group.next(), t -> { throw new AssertionError(t); });
    final Network network;
    final EtcdLease lease;
    final boolean announced;

    Proc(String node) throws Exception {
      toClose.add(this);
      net = NettyNetwork.start(NettyNetworkTest.ANY_LOOPBACK, directory, NettyNetwork.Options.defaults()
          .withReconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100)));
      network = net.attach(NodeId.of(node), scheduler);
      network.serve(NettyNetworkTest.ECHO, (caller, req) -> Promise.completed(scheduler, StringValue.of(node + " answers " + caller)));
      lease = EtcdLease.grant(store, TTL).get(10, TimeUnit.SECONDS);
      announced = directory.announce(lease, NodeId.of(node), net.localAddress()).get(10, TimeUnit.SECONDS);
    }

    /** Echo to {@code to}: the answer, or the failure. */
    Object echo(String to) throws Exception {
      CompletableFuture<Object> cf = new CompletableFuture<>();
      scheduler.execute(() -> network.call(NodeId.of(to), NettyNetworkTest.ECHO, StringValue.of("x"), NettyNetworkTest.SECOND_NS)
          .onComplete((v, f) -> cf.complete(f != null ? f : v.getValue())));
      return cf.get(30, TimeUnit.SECONDS);
    }

    /** The process dies: sockets close, renewals stop, nothing is revoked. */
    void kill() {
      net.close();
      directory.close();
      store.close();
    }

    @Override
    public void close() {
      kill();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void processesFindEachOtherLoseTheDeadAndFindTheRestarted() throws Exception {
    Proc a = new Proc("a");
    Proc b = new Proc("b");
    a.directory.refresh().get(10, TimeUnit.SECONDS);
    assertEquals("b answers a", a.echo("b"));
    assertEquals("a answers b", b.echo("a"));
    assertTrue(a.announced && b.announced);
    Proc impostor = new Proc("b");
    assertFalse(impostor.announced, "a second process cannot announce a name held by a live lease");
    impostor.kill();

    long t0 = System.nanoTime();
    b.kill();
    Object down = a.echo("b");
    assertTrue(down instanceof IoFailure f && !f.indefinite(), "refused at once, definitely: " + down);
    Object gone = down;
    while (!(gone instanceof IoFailure f && f.getMessage().contains("unknown node"))) {
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(TTL.toSeconds() + 5), "still known: " + gone);
      Thread.sleep(50);
      gone = a.echo("b");
    }
    long forgottenMs = (System.nanoTime() - t0) / 1_000_000;
    System.err.printf("directory: b forgotten %d ms after its process died (TTL %d s, refresh %d ms)%n",
        forgottenMs, TTL.toSeconds(), REFRESH.toMillis());
    assertFalse(((IoFailure) gone).indefinite());

    Proc b2 = new Proc("b"); // restarted elsewhere (another port)
    assertTrue(b2.announced);
    Object answer = null;
    for (int i = 0; i < 100 && !"b answers a".equals(answer); i++) {
      Thread.sleep(50);
      answer = a.echo("b");
    }
    assertEquals("b answers a", answer);
    assertEquals(b2.net.localAddress().getPort(), a.directory.resolve(NodeId.of("b")).orElseThrow().getPort());
  }
}
