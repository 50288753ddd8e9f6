package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PeerDirectory} fed from etcd: every node announces {@code <prefix><node>} =
 * {@code host:port} attached to its process's {@link EtcdLease}, and every process re-reads the
 * prefix every {@code refreshInterval}. A node whose lease expired (its process died or lost etcd)
 * leaves every directory within its TTL plus one refresh, and calls to it then fail definitely
 * ({@code UNAVAILABLE}: unknown node); a node that comes back elsewhere is found at its new address.
 *
 * <p>A failed refresh keeps the last known table (and logs): etcd being away must not make every
 * peer unknown.
 */
public final class EtcdPeerDirectory extends PeerDirectory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EtcdPeerDirectory.class);

  private final EtcdMetadataStore store;
  private final ByteString prefix;
  private final ScheduledExecutorService refresher;

  private EtcdPeerDirectory(EtcdMetadataStore store, ByteString prefix, Duration refreshInterval) {
    this.store = store;
    this.prefix = prefix;
    this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "s2j-peer-directory");
      t.setDaemon(true);
      return t;
    });
    long nanos = refreshInterval.toNanos();
    refresher.scheduleWithFixedDelay(this::refreshQuietly, nanos, nanos, TimeUnit.NANOSECONDS);
  }

  /** A directory of the nodes announced under store key {@code prefix}, read now and every {@code refreshInterval}. */
  public static EtcdPeerDirectory open(EtcdMetadataStore store, ByteString prefix, Duration refreshInterval) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(prefix, "prefix");
    if (prefix.isEmpty() || refreshInterval.isNegative() || refreshInterval.isZero()) {
      throw new IllegalArgumentException("need a non-empty prefix and a positive refresh interval");
    }
    EtcdPeerDirectory d = new EtcdPeerDirectory(store, prefix, refreshInterval);
    d.refresh().join();
    return d;
  }

  /** Announces {@code node} at {@code address} for as long as {@code lease} lives; false if another holds the name. */
  public CompletableFuture<Boolean> announce(EtcdLease lease, NodeId node, InetSocketAddress address) {
    // The numeric address when there is one: a host name could resolve differently elsewhere.
    String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    ByteString value = ByteString.copyFromUtf8(host + ":" + address.getPort());
    return lease.putAttached(keyOf(node), value).thenApply(revision -> {
      if (revision > 0) {
        put(node, address);
      }
      return revision > 0;
    });
  }

  private ByteString keyOf(NodeId node) {
    return prefix.concat(ByteString.copyFromUtf8(node.value()));
  }

  /** Re-reads the announcements now (also done every refresh interval). */
  public CompletableFuture<Void> refresh() {
    return scanFrom(prefix, new LinkedHashMap<>()).thenAccept(this::replaceWith);
  }

  private CompletableFuture<Map<NodeId, InetSocketAddress>> scanFrom(ByteString from, Map<NodeId, InetSocketAddress> acc) {
    return store.scan(from, MetadataStore.prefixEnd(prefix), MetadataStore.SCAN_LIMIT_MAX).thenCompose((ScanPage page) -> {
      for (KeyValue kv : page.entries()) {
        String name = kv.key().substring(prefix.size()).toString(StandardCharsets.UTF_8);
        String hostPort = kv.value().toString(StandardCharsets.UTF_8);
        int colon = hostPort.lastIndexOf(':');
        try {
          acc.put(NodeId.of(name), InetSocketAddress.createUnresolved(hostPort.substring(0, colon),
              Integer.parseInt(hostPort.substring(colon + 1))));
        } catch (RuntimeException e) {
          log.warn("ignoring a malformed announcement {} = {}", name, hostPort);
        }
      }
      if (!page.more()) {
        return CompletableFuture.completedFuture(acc);
      }
      ByteString last = page.entries().get(page.entries().size() - 1).key();
      return scanFrom(last.concat(ByteString.copyFrom(new byte[] {0})), acc);
    });
  }

  private void replaceWith(Map<NodeId, InetSocketAddress> announced) {
    for (NodeId known : knownNodes()) {
      if (!announced.containsKey(known)) {
        remove(known);
      }
    }
    announced.forEach((node, unresolved) -> {
      InetSocketAddress current = resolve(node).orElse(null);
      if (current == null || !current.getHostString().equals(unresolved.getHostString()) || current.getPort() != unresolved.getPort()) {
        put(node, new InetSocketAddress(unresolved.getHostString(), unresolved.getPort()));
      }
    });
  }

  private void refreshQuietly() {
    try {
      refresh().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("peer directory refresh failed; keeping the last known peers: {}", e.toString());
    }
  }

  @Override
  public void close() {
    refresher.shutdownNow();
  }
}
