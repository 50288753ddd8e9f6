package io.s2j.frontend;

import io.s2j.api.StorageClass;
import io.s2j.runtime.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each channel may be served: its candidate hosts, in the order to try them, and the storage
 * class of its write-ahead log (docs/design.md, "Express storage"). An immutable snapshot:
 * components receive it through a {@link io.s2j.runtime.View}, which the runtime replaces when a
 * channel or a spare host joins the cell.
 */
public record ChannelDirectory(Map<String, List<NodeId>> hosts, Map<String, StorageClass> storageClasses) {
  public ChannelDirectory {
    TreeMap<String, List<NodeId>> copy = new TreeMap<>();
    hosts.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    hosts = java.util.Collections.unmodifiableMap(copy);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("no channels");
    }
    TreeMap<String, StorageClass> classes = new TreeMap<>();
    for (String id : hosts.keySet()) {
      classes.put(id, storageClasses.getOrDefault(id, StorageClass.STANDARD));
    }
    storageClasses.keySet().forEach(id -> {
      if (!copy.containsKey(id)) {
        throw new IllegalArgumentException("storage class for unknown channel " + id);
      }
    });
    storageClasses = java.util.Collections.unmodifiableMap(classes);
  }

  /** Every channel standard (a cell without zonal buckets). */
  public ChannelDirectory(Map<String, List<NodeId>> hosts) {
    this(hosts, new TreeMap<>());
  }

  public List<String> channelIds() {
    return new ArrayList<>(hosts.keySet());
  }

  /**
   * The channels a stream of {@code storageClass} is activated on: those of its class, or every
   * channel when the cell has none of that class (a cell without zonal buckets serves express
   * streams from standard channels, with standard latency).
   */
  public List<String> channelIdsFor(StorageClass storageClass) {
    List<String> ids = new ArrayList<>();
    storageClasses.forEach((id, c) -> {
      if (c == storageClass) {
        ids.add(id);
      }
    });
    return ids.isEmpty() ? channelIds() : ids;
  }

  public StorageClass storageClassOf(String channelId) {
    StorageClass c = storageClasses.get(channelId);
    if (c == null) {
      throw new IllegalArgumentException("unknown channel " + channelId);
    }
    return c;
  }

  /** Whether this snapshot lists {@code channelId}. */
  public boolean has(String channelId) {
    return hosts.containsKey(channelId);
  }

  public List<NodeId> hostsOf(String channelId) {
    List<NodeId> h = hosts.get(channelId);
    if (h == null) {
      throw new IllegalArgumentException("unknown channel " + channelId);
    }
    return h;
  }
}
