package io.s2j.runtime.real;

import io.s2j.runtime.Env;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.contract.SeamHarness;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A {@link RealRuntime} whose nodes talk over {@link NettyNetwork}: each node gets its own network
 * (own I/O event loop group, own listening socket on loopback), as if each were a process of its
 * own, and one shared {@link PeerDirectory} says where each listens.
 */
final class NettyHarness implements SeamHarness {
  private final PeerDirectory directory = new PeerDirectory();
  private final Map<NodeId, NettyNetwork> networks = new ConcurrentHashMap<>();
  private final List<NettyNetwork> toClose = new CopyOnWriteArrayList<>();
  private final NettyNetwork.Options options;
  private final RealHarness real;

  NettyHarness(NettyNetwork.Options options) {
    this.options = options;
    this.real = new RealHarness(new RealRuntime(new InMemoryObjectStore(), new SecureRandom().nextLong(),
        new InMemoryMetadataStore()::view, () -> {}, this::attach));
  }

  private Network attach(NodeId node, Scheduler scheduler) {
    try {
      NettyNetwork net = NettyNetwork.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), directory, options);
      toClose.add(net);
      networks.put(node, net);
      directory.put(node, net.localAddress());
      return net.attach(node, scheduler);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting a network", e);
    }
  }

  PeerDirectory directory() {
    return directory;
  }

  /** The network of node {@code name} (created with its env). */
  NettyNetwork network(String name) {
    env(name);
    return networks.get(NodeId.of(name));
  }

  @Override
  public Env env(String name) {
    return real.env(name);
  }

  @Override
  public <T> T await(Env env, Function<Env, Promise<T>> op) {
    return real.await(env, op);
  }

  @Override
  public void close() {
    real.close();
    for (NettyNetwork n : toClose) {
      n.close();
    }
  }
}
