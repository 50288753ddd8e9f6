package io.s2j.frontend;

import io.s2j.runtime.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each channel may be served: its candidate hosts, in the order to try them. Static for now;
 * cop (issue 6) will keep it current.
 */
public record ChannelDirectory(Map<String, List<NodeId>> hosts) {
  public ChannelDirectory {
    TreeMap<String, List<NodeId>> copy = new TreeMap<>();
    hosts.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    hosts = java.util.Collections.unmodifiableMap(copy);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("no channels");
    }
  }

  public List<String> channelIds() {
    return new ArrayList<>(hosts.keySet());
  }

  public List<NodeId> hostsOf(String channelId) {
    List<NodeId> h = hosts.get(channelId);
    if (h == null) {
      throw new IllegalArgumentException("unknown channel " + channelId);
    }
    return h;
  }
}
