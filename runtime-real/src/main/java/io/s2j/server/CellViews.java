package io.s2j.server;

import io.s2j.cachey.CacheyNode;
import io.s2j.cachey.CacheyRing;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.View;
import io.s2j.runtime.real.EtcdCellRegistry;
import io.s2j.runtime.real.PeerDirectory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One role process's view of its cell, kept current: the cell registry ({@link EtcdCellRegistry})
 * is re-read every {@link #REFRESH_MS} on the process's watcher thread, and each new snapshot is
 * handed to the views of the component that uses it by an update submitted to that component's
 * executor (core components read their views on their own executor only; {@link View}).
 *
 * <p>A periodic re-read rather than an etcd watch: the registry is a few keys per member, read in
 * four small range reads, and the peer directory beside it already works this way; a missed or
 * failed read changes nothing (the last snapshot stays), and a member added is seen within one
 * period on every process.
 *
 * <p>What changes how:
 * <ul>
 *   <li>Channels only join: a channel id, once seen, stays in the directory until the process
 *       restarts (registered channel ids are permanent; streams keep links on them). Its hosts are
 *       its registered node, then every registered spare.
 *   <li>Spares join (and leave only if their registration is deleted by hand).
 *   <li>The cachey ring is the registered cachey nodes that are live (announced in the peer
 *       directory): a node that dies or whose registration is deleted leaves the ring, and
 *       rendezvous placement moves only the keys it held; it joins again when it is back.
 *   <li>Cops: the registered ones (never empty: the last non-empty list stays).
 * </ul>
 */
final class CellViews {
  private static final Logger log = LoggerFactory.getLogger(CellViews.class);
  /** How often the registry is re-read. */
  static final long REFRESH_MS = 500;

  /** The registry as one process sees it at one time. */
  record Snapshot(ChannelDirectory directory, List<NodeId> spares, CacheyRing ring, List<NodeId> cops) {
    Snapshot {
      Objects.requireNonNull(directory, "directory");
      spares = List.copyOf(spares);
      Objects.requireNonNull(ring, "ring");
      cops = List.copyOf(cops);
    }
  }

  private CellViews() {}

  /** The channel directory of {@code channels} (id → primary node): each channel's own node, then every spare. */
  static ChannelDirectory directoryOf(Map<String, String> channels, List<NodeId> spares) {
    Map<String, List<NodeId>> hosts = new LinkedHashMap<>();
    channels.forEach((id, primary) -> {
      List<NodeId> h = new ArrayList<>();
      h.add(NodeId.of(primary));
      for (NodeId s : spares) {
        if (!s.equals(h.get(0))) {
          h.add(s);
        }
      }
      hosts.put(id, h);
    });
    return new ChannelDirectory(hosts);
  }

  /**
   * Reads the registry now: the snapshot that follows {@code previous} (channels it listed that the
   * registry no longer has stay; an empty cop list keeps the previous one).
   */
  static Snapshot read(EtcdCellRegistry registry, PeerDirectory peers, Snapshot previous) throws Exception {
    Map<String, String> channels = new TreeMap<>(registry.members("channel").get(10, TimeUnit.SECONDS));
    List<NodeId> spares = registry.members("spare").get(10, TimeUnit.SECONDS).keySet().stream().map(NodeId::of).toList();
    Map<String, String> cachey = registry.members("cachey").get(10, TimeUnit.SECONDS);
    List<NodeId> cops = registry.members("cop").get(10, TimeUnit.SECONDS).keySet().stream().map(NodeId::of).toList();
    if (previous != null) {
      for (String id : previous.directory().channelIds()) {
        if (!channels.containsKey(id)) {
          channels.put(id, previous.directory().hostsOf(id).get(0).value());
        }
      }
      if (cops.isEmpty()) {
        cops = previous.cops();
      }
    }
    List<CacheyNode> ring = new ArrayList<>();
    cachey.forEach((name, zone) -> {
      if (peers.resolve(NodeId.of(name)).isPresent()) {
        ring.add(CacheyNode.of(name, zone));
      }
    });
    ChannelDirectory directory = channels.isEmpty() ? null : directoryOf(channels, spares);
    if (directory == null) {
      return previous;
    }
    return new Snapshot(directory, spares, new CacheyRing(ring), cops);
  }

  /** What a component sees (null: a view it does not have; versions -1 then). */
  record Seen(ChannelDirectory directory, long directoryVersion, List<NodeId> spares, CacheyRing ring, long ringVersion,
      List<NodeId> cops) {}

  /** The views one component executor reads (a null view: that component does not use it). */
  record Views(Env env, View<ChannelDirectory> directory, View<List<NodeId>> spares, View<CacheyRing> ring, View<List<NodeId>> cops) {
    /** Views starting at {@code s}, for the component on {@code env}. */
    static Views of(Env env, Snapshot s, boolean directory, boolean spares, boolean ring, boolean cops) {
      return new Views(env, directory ? View.of(s.directory()) : null, spares ? View.of(s.spares()) : null,
          ring ? View.of(s.ring()) : null, cops ? View.of(s.cops()) : null);
    }

    /** The views' snapshots and versions now (to be called on their executor). */
    Seen seen() {
      return new Seen(directory == null ? null : directory.current(), directory == null ? -1 : directory.version(),
          spares == null ? null : spares.current(), ring == null ? null : ring.current(), ring == null ? -1 : ring.version(),
          cops == null ? null : cops.current());
    }

    /** Hands {@code s} to the views on their executor (directory before spares: a spare is a host first). */
    void push(String node, Snapshot s) {
      env.scheduler().execute(() -> {
        List<String> changed = new ArrayList<>();
        if (directory != null && directory.update(s.directory())) {
          changed.add("channels " + s.directory().hosts() + " (v" + directory.version() + ")");
        }
        if (spares != null && spares.update(s.spares())) {
          changed.add("spares " + s.spares() + " (v" + spares.version() + ")");
        }
        if (ring != null && ring.update(s.ring())) {
          changed.add("cachey " + s.ring().nodes() + " (v" + ring.version() + ")");
        }
        if (cops != null && cops.update(s.cops())) {
          changed.add("cops " + s.cops() + " (v" + cops.version() + ")");
        }
        if (!changed.isEmpty()) {
          log.info("{}: the cell changed: {}", node, String.join("; ", changed));
        }
      });
    }
  }
}
