package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Which members a distributed cell has, by role: permanent (unleased) etcd keys
 * {@code <prefix><role>/<name>} = a value (a channel's primary host node, a node's zone). A member
 * registers when its process first starts and stays registered when the process dies, so a dead
 * channel is still a channel (its streams are served again by a spare or by its restarted host)
 * and a dead cop is still asked by name. Whether a member is <em>alive</em>, and where it listens,
 * is {@link EtcdPeerDirectory}'s business (leased keys). A member is removed by deleting its key by
 * hand ({@code etcdctl del}).
 */
public final class EtcdCellRegistry {
  private final EtcdMetadataStore store;
  private final ByteString prefix;

  public EtcdCellRegistry(EtcdMetadataStore store, ByteString prefix) {
    this.store = Objects.requireNonNull(store, "store");
    this.prefix = Objects.requireNonNull(prefix, "prefix");
    if (prefix.isEmpty()) {
      throw new IllegalArgumentException("empty prefix");
    }
  }

  private ByteString roleKey(String role) {
    if (role.isEmpty() || role.contains("/")) {
      throw new IllegalArgumentException("bad role " + role);
    }
    return prefix.concat(ByteString.copyFromUtf8(role + "/"));
  }

  /** Registers (or re-registers with a new value) member {@code name} of {@code role}; completes when committed. */
  public CompletableFuture<Void> register(String role, String name, String value) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("empty name");
    }
    ByteString key = roleKey(role).concat(ByteString.copyFromUtf8(name));
    return store.commit(Txn.builder().put(key, ByteString.copyFromUtf8(value)).build()).thenAccept(r -> {
      if (!(r instanceof TxnResult.Committed)) {
        throw new IllegalStateException("registering " + role + "/" + name + ": " + r);
      }
    });
  }

  /**
   * Deletes member {@code name} of {@code role} (what {@code etcdctl del} of its key does; processes
   * following the registry keep channel ids they have seen, see {@code io.s2j.server.CellViews}).
   */
  public CompletableFuture<Void> deregister(String role, String name) {
    ByteString key = roleKey(role).concat(ByteString.copyFromUtf8(name));
    return store.commit(Txn.builder().delete(key).build()).thenAccept(r -> {
      if (!(r instanceof TxnResult.Committed)) {
        throw new IllegalStateException("deregistering " + role + "/" + name + ": " + r);
      }
    });
  }

  /** Every registered member of {@code role}: name → value, by name. */
  public CompletableFuture<Map<String, String>> members(String role) {
    ByteString from = roleKey(role);
    return scanFrom(from, MetadataStore.prefixEnd(from), from.size(), new TreeMap<>());
  }

  private CompletableFuture<Map<String, String>> scanFrom(ByteString from, ByteString end, int strip, TreeMap<String, String> acc) {
    return store.scan(from, end, MetadataStore.SCAN_LIMIT_MAX).thenCompose((ScanPage page) -> {
      for (KeyValue kv : page.entries()) {
        acc.put(kv.key().substring(strip).toString(StandardCharsets.UTF_8), kv.value().toString(StandardCharsets.UTF_8));
      }
      if (!page.more()) {
        return CompletableFuture.completedFuture((Map<String, String>) acc);
      }
      ByteString last = page.entries().get(page.entries().size() - 1).key();
      return scanFrom(last.concat(ByteString.copyFrom(new byte[] {0})), end, strip, acc);
    });
  }
}
