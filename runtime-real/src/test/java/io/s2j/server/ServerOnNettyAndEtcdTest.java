package io.s2j.server;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.real.EtcdMetadataStore;
import io.s2j.runtime.real.EtcdProcess;
import io.s2j.runtime.real.InMemoryObjectStore;
import io.s2j.runtime.real.NettyNetwork;
import io.s2j.runtime.real.PeerDirectory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole data-plane suite of the server ({@link ServerDataPlaneTest}) with the cell's
 * components unchanged on another runtime: every node (frontend, each channel) on its own {@link
 * NettyNetwork}, so every frontend-to-channel call crosses TCP on loopback, and the metadata in a
 * real etcd (started by the test; skipped without the binary).
 */
class ServerOnNettyAndEtcdTest extends ServerDataPlaneTest {
  private static EtcdProcess etcd;
  private static final List<NettyNetwork> networks = new CopyOnWriteArrayList<>();

  /**
   * Runs after ServerFixture's own @BeforeAll (JUnit runs a superclass's static lifecycle methods
   * even when a subclass declares one of the same name), so it replaces that in-memory server.
   */
  @BeforeAll
  static void startServerOnNettyAndEtcd() {
    if (server != null) {
      server.close();
      server = null;
    }
    try {
      etcd = EtcdProcess.startOrSkip();
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException("etcd did not start", e);
    }
    EtcdMetadataStore meta = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(
        List.of(etcd.clientUrl()), ByteString.copyFromUtf8("server/" + UUID.randomUUID() + "/")));
    PeerDirectory directory = new PeerDirectory();
    server = Server.start(ServerConfig.inMemory(0).withHost("127.0.0.1"), new InMemoryObjectStore(),
        new Server.Metadata(meta::view, meta::close, "etcd"), (NodeId node, Scheduler scheduler) -> onItsOwnNetwork(directory, node, scheduler));
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  private static Network onItsOwnNetwork(PeerDirectory directory, NodeId node, Scheduler scheduler) {
    try {
      NettyNetwork net = NettyNetwork.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), directory,
          NettyNetwork.Options.defaults());
      networks.add(net);
      directory.put(node, net.localAddress());
      return net.attach(node, scheduler);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Runs before ServerFixture's @AfterAll, which then finds no server to stop. */
  @AfterAll
  static void stopServerOnNettyAndEtcd() {
    Server s = server;
    server = null;
    try {
      if (s != null) {
        s.close();
        if (s.firstTaskFailure().isPresent()) {
          throw new AssertionError("a task threw on a node", s.firstTaskFailure().get());
        }
      }
    } finally {
      networks.forEach(NettyNetwork::close);
      if (etcd != null) {
        etcd.close();
      }
    }
    if (networks.size() < 2) {
      throw new AssertionError("expected the frontend and the channels on their own networks: " + networks.size());
    }
  }
}
