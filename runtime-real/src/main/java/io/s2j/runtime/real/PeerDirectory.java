package io.s2j.runtime.real;

import io.s2j.runtime.NodeId;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Where each node of a deployment listens, as {@link NettyNetwork} needs to reach it: a table
 * filled by whoever starts the processes (tests, a static configuration), or from etcd by {@link
 * EtcdPeerDirectory}.
 */
public class PeerDirectory {
  private final ConcurrentMap<NodeId, InetSocketAddress> addresses = new ConcurrentHashMap<>();

  /** The address of {@code node}'s process, or empty if the node is unknown. */
  public Optional<InetSocketAddress> resolve(NodeId node) {
    return Optional.ofNullable(addresses.get(node));
  }

  /** Records (or moves) {@code node} at {@code address}. */
  public void put(NodeId node, InetSocketAddress address) {
    addresses.put(Objects.requireNonNull(node, "node"), Objects.requireNonNull(address, "address"));
  }

  /** The nodes this directory knows, in no particular order. */
  public java.util.Set<NodeId> knownNodes() {
    return java.util.Set.copyOf(addresses.keySet());
  }

  /** Forgets {@code node}: calls to it fail as definitely unavailable. */
  public void remove(NodeId node) {
    addresses.remove(node);
  }
}
