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
  private final java.util.List<java.util.function.Consumer<InetSocketAddress>> goneListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Calls {@code listener} with an address that no node maps to any more (its nodes were removed or
   * moved elsewhere): {@link NettyNetwork} then closes its connection there, so that calls still in
   * flight to a process that vanished without closing its connections (paused, cut off) fail now,
   * indefinitely, instead of at their timeouts.
   */
  public void onAddressGone(java.util.function.Consumer<InetSocketAddress> listener) {
    goneListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  private void maybeGone(InetSocketAddress address) {
    if (address != null && !addresses.containsValue(address)) {
      goneListeners.forEach(l -> l.accept(address));
    }
  }

  /** The address of {@code node}'s process, or empty if the node is unknown. */
  public Optional<InetSocketAddress> resolve(NodeId node) {
    return Optional.ofNullable(addresses.get(node));
  }

  /** Records (or moves) {@code node} at {@code address}. */
  public void put(NodeId node, InetSocketAddress address) {
    InetSocketAddress old = addresses.put(Objects.requireNonNull(node, "node"), Objects.requireNonNull(address, "address"));
    if (old != null && !old.equals(address)) {
      maybeGone(old);
    }
  }

  /** The nodes this directory knows, in no particular order. */
  public java.util.Set<NodeId> knownNodes() {
    return java.util.Set.copyOf(addresses.keySet());
  }

  /** Forgets {@code node}: calls to it fail as definitely unavailable. */
  public void remove(NodeId node) {
    maybeGone(addresses.remove(node));
  }
}
