package io.s2j.cachey;

import io.s2j.runtime.NodeId;

/** A cachey node and the zone it runs in (zones are opaque labels such as {@code use1-az1}). */
public record CacheyNode(NodeId node, String zone) {
  public CacheyNode {
    if (node == null || zone == null || zone.isEmpty()) {
      throw new IllegalArgumentException("a cachey node has an id and a zone");
    }
  }

  public static CacheyNode of(String node, String zone) {
    return new CacheyNode(NodeId.of(node), zone);
  }
}
