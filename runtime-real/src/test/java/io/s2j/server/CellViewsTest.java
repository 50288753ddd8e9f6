package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.cachey.CacheyNode;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.real.EtcdCellRegistry;
import io.s2j.runtime.real.EtcdMetadataStore;
import io.s2j.runtime.real.EtcdProcess;
import io.s2j.runtime.real.PeerDirectory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How a role process's view of the cell follows the registry in etcd: what joins, what leaves. */
class CellViewsTest {
  @Test
  void channelsOnlyJoinCacheyNodesFollowLivenessAndTheCopListNeverEmpties() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.startOrSkip();
        EtcdMetadataStore store = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(List.of(etcd.clientUrl()),
            ByteString.copyFromUtf8("/s2j/views-" + UUID.randomUUID() + "/cell/")))) {
      EtcdCellRegistry registry = new EtcdCellRegistry(store, ByteString.copyFromUtf8("members/"));
      PeerDirectory peers = new PeerDirectory();
      InetSocketAddress somewhere = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
      registry.register("channel", "ch-1", "node-1").get(10, TimeUnit.SECONDS);
      registry.register("cop", "cop-1", "z1").get(10, TimeUnit.SECONDS);
      registry.register("cachey", "cachey-1", "z1").get(10, TimeUnit.SECONDS);
      CellViews.Snapshot s0 = CellViews.read(registry, peers, null);
      assertEquals(List.of("ch-1"), s0.directory().channelIds());
      assertEquals(List.of(NodeId.of("node-1")), s0.directory().hostsOf("ch-1"));
      assertTrue(s0.ring().isEmpty(), "a registered cachey node that is not live is not in the ring");
      assertEquals(List.of(NodeId.of("cop-1")), s0.cops());

      // Joining: a channel, a spare (a host of every channel, after its own node), a live cachey node.
      registry.register("channel", "ch-2", "node-2").get(10, TimeUnit.SECONDS);
      registry.register("spare", "spare-1", "z1").get(10, TimeUnit.SECONDS);
      peers.put(NodeId.of("cachey-1"), somewhere);
      CellViews.Snapshot s1 = CellViews.read(registry, peers, s0);
      assertEquals(List.of("ch-1", "ch-2"), s1.directory().channelIds());
      assertEquals(List.of(NodeId.of("node-2"), NodeId.of("spare-1")), s1.directory().hostsOf("ch-2"));
      assertEquals(List.of(NodeId.of("spare-1")), s1.spares());
      assertEquals(List.of(CacheyNode.of("cachey-1", "z1")), s1.ring().nodes());

      // Leaving: a deleted channel id stays (ids are permanent), a dead cachey node leaves the ring,
      // the cop list keeps its last non-empty value.
      registry.deregister("channel", "ch-1").get(10, TimeUnit.SECONDS);
      registry.deregister("cop", "cop-1").get(10, TimeUnit.SECONDS);
      peers.remove(NodeId.of("cachey-1"));
      CellViews.Snapshot s2 = CellViews.read(registry, peers, s1);
      assertEquals(List.of("ch-1", "ch-2"), s2.directory().channelIds());
      assertEquals(List.of(NodeId.of("node-1"), NodeId.of("spare-1")), s2.directory().hostsOf("ch-1"));
      assertTrue(s2.ring().isEmpty(), s2.ring()::toString);
      assertEquals(List.of(NodeId.of("cop-1")), s2.cops());

      // The cachey node comes back: it rejoins; nothing else changed, so the snapshot equals s1.
      peers.put(NodeId.of("cachey-1"), somewhere);
      assertEquals(s1, CellViews.read(registry, peers, s2));
    }
  }
}
