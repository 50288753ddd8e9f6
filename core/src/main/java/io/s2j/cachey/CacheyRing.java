package io.s2j.cachey;

import com.dynatrace.hash4j.hashing.Hashing;
import io.s2j.runtime.NodeId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * Which cachey node serves which object: rendezvous (highest random weight) hashing with bounded
 * load, preferring the caller's zone.
 *
 * <p>Every node gets a score per placement key, {@code xxh3(key · 0 · node)}; a key's preference
 * order is the caller's zone's nodes by descending score, then every other node by descending
 * score. Scores depend on the key and the node alone, so the order is the same on every frontend
 * whatever order nodes were listed in, and a node joining or leaving moves only the keys it wins
 * or held. Bounded load: the caller takes the first node of its group (its zone's nodes, or all
 * nodes if its zone has none) whose load is below {@code ceil(loadFactor × (groupLoad + 1) /
 * groupSize)}, so no node gets more than {@code loadFactor} times its share of the group's load,
 * and some node is always below the cap. The rest of the preference order is the fallback.
 */
public final class CacheyRing {
  private final List<CacheyNode> nodes;
  private final double loadFactor;

  /**
   * @param loadFactor {@code 1 + ε}: the most a node may carry relative to the average of its group
   *     (at least 1; {@link Double#POSITIVE_INFINITY} turns the bound off)
   */
  public CacheyRing(List<CacheyNode> nodes, double loadFactor) {
    if (!(loadFactor >= 1.0)) {
      throw new IllegalArgumentException("load factor below 1: " + loadFactor);
    }
    TreeMap<NodeId, CacheyNode> byId = new TreeMap<>();
    for (CacheyNode n : nodes) {
      if (byId.put(n.node(), n) != null) {
        throw new IllegalArgumentException("cachey node listed twice: " + n.node());
      }
    }
    this.nodes = List.copyOf(byId.values());
    this.loadFactor = loadFactor;
  }

  /** The default bound: 1.25 × the average (ε = 0.25). */
  public static final double LOAD_FACTOR_DEFAULT = 1.25;

  public CacheyRing(List<CacheyNode> nodes) {
    this(nodes, LOAD_FACTOR_DEFAULT);
  }

  /** The nodes, ordered by id. */
  public List<CacheyNode> nodes() {
    return nodes;
  }

  public boolean isEmpty() {
    return nodes.isEmpty();
  }

  public double loadFactor() {
    return loadFactor;
  }

  /** The rendezvous score of {@code node} for {@code placementKey}. */
  static long score(String placementKey, NodeId node) {
    return Hashing.xxh3_64().hashCharsToLong(placementKey + '\u0000' + node.value());
  }

  /** Every node, in the order a caller in {@code zone} prefers them for {@code placementKey}. */
  public List<NodeId> preference(String placementKey, String zone) {
    List<CacheyNode> sorted = new ArrayList<>(nodes);
    Comparator<CacheyNode> byZone = Comparator.comparing(n -> n.zone().equals(zone) ? 0 : 1);
    Comparator<CacheyNode> byScore = (a, b) -> Long.compareUnsigned(score(placementKey, b.node()), score(placementKey, a.node()));
    sorted.sort(byZone.thenComparing(byScore).thenComparing(CacheyNode::node));
    List<NodeId> out = new ArrayList<>(sorted.size());
    for (CacheyNode n : sorted) {
      out.add(n.node());
    }
    return out;
  }

  /**
   * The order to try nodes in: first the first node of the caller's group (its zone, or everyone)
   * in preference order whose {@code load} is under the cap, then the rest in preference order.
   */
  public List<NodeId> order(String placementKey, String zone, ToLongFunction<NodeId> load) {
    List<NodeId> pref = preference(placementKey, zone);
    if (pref.isEmpty()) {
      return pref;
    }
    List<NodeId> group = new ArrayList<>();
    for (CacheyNode n : nodes) {
      if (n.zone().equals(zone)) {
        group.add(n.node());
      }
    }
    if (group.isEmpty()) {
      group = new ArrayList<>(pref);
    }
    long groupLoad = 0;
    for (NodeId n : group) {
      groupLoad += load.applyAsLong(n);
    }
    long cap = cap(groupLoad, group.size());
    for (int i = 0; i < group.size(); i++) {
      NodeId candidate = pref.get(i); // the group is a prefix of the preference order
      if (load.applyAsLong(candidate) < cap) {
        List<NodeId> out = new ArrayList<>(pref);
        out.remove(i);
        out.add(0, candidate);
        return out;
      }
    }
    throw new IllegalStateException("no node under the load cap " + cap + ": impossible");
  }

  /** Rings are equal when they have the same nodes (with zones) and the same bound. */
  @Override
  public boolean equals(Object o) {
    return o instanceof CacheyRing r && r.nodes.equals(nodes) && Double.compare(r.loadFactor, loadFactor) == 0;
  }

  @Override
  public int hashCode() {
    return nodes.hashCode() * 31 + Double.hashCode(loadFactor);
  }

  @Override
  public String toString() {
    return "CacheyRing" + nodes;
  }

  /** {@code ceil(loadFactor × (groupLoad + 1) / groupSize)}: the most load a node may have before taking one more. */
  long cap(long groupLoad, int groupSize) {
    if (Double.isInfinite(loadFactor)) {
      return Long.MAX_VALUE;
    }
    return (long) Math.ceil(loadFactor * (groupLoad + 1) / groupSize);
  }
}
