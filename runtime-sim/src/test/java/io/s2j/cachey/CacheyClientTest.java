package io.s2j.cachey;

import static io.s2j.cachey.CacheyHarness.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.channel.PlantedBug;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.View;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The frontend side: node choice, failover to the next node and to the object store. */
class CacheyClientTest {
  private static CacheyClient client(CacheyHarness h, String zone) {
    return h.now(env -> new CacheyClient(env, new CacheyRing(h.ring()), zone, 2 * Simulator.SECOND));
  }

  private static GetResult get(CacheyHarness h, CacheyClient c, String key, long offset, long length, long expected) {
    return h.await(h.now(env -> c.get(ObjectKey.of(key), ByteRange.of(offset, length), expected)));
  }

  @Test
  void readsGoToTheOwnZonesNodeAndAreCachedThere() {
    CacheyHarness h = new CacheyHarness(3, CacheyTest.PLAIN, FaultProfile.NONE, 4, PlantedBug.NONE);
    h.put("seg/1", bytes(6_000, 1));
    CacheyClient c = client(h, "z2");
    for (int i = 0; i < 3; i++) {
      GetResult.Found f = assertInstanceOf(GetResult.Found.class, get(h, c, "seg/1", 100, 5_000, 6_000));
      assertEquals(bytes(6_000, 1).substring(100, 5_100), f.data());
      assertEquals(6_000, f.objectBytes());
    }
    assertEquals(3, c.answeredByCachey());
    // Only one node served it, and it is in zone z2 (cachey-2 and cachey-4).
    long served = 0;
    for (int i = 0; i < 4; i++) {
      long requests = h.caches.get(i).counters().requests();
      if (requests > 0) {
        served++;
        assertEquals("z2", h.ring().get(i).zone());
        assertEquals(2, h.caches.get(i).counters().pageMisses());
        assertEquals(4, h.caches.get(i).counters().pageHits());
      }
    }
    assertEquals(1, served);
    assertInstanceOf(GetResult.NotFound.class, get(h, c, "seg/none", 0, 10, -1));
    assertInstanceOf(GetResult.RangeNotSatisfiable.class, get(h, c, "seg/1", 6_000, 10, -1));
  }

  /**
   * Scale-out: nodes joining the client's ring view take exactly the keys they win from the next
   * read on (rendezvous placement); every other key stays on its node, whose cache still holds it.
   */
  @Test
  void nodesJoiningTheRingViewTakeOnlyTheKeysTheyWin() {
    CacheyHarness h = new CacheyHarness(3, CacheyTest.PLAIN, FaultProfile.NONE, 4, PlantedBug.NONE);
    CacheyRing two = new CacheyRing(h.ring().subList(0, 2));
    CacheyRing four = new CacheyRing(h.ring());
    View<CacheyRing> ring = h.now(env -> View.of(two));
    CacheyClient c = h.now(env -> new CacheyClient(env, ring, "z1", 2 * Simulator.SECOND));
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      keys.add("seg/" + i);
      h.put("seg/" + i, bytes(1_000, i));
    }
    for (String k : keys) {
      assertInstanceOf(GetResult.Found.class, get(h, c, k, 0, 1_000, 1_000));
    }
    long[] before = new long[4];
    for (int i = 0; i < 4; i++) {
      before[i] = h.caches.get(i).counters().requests();
    }
    assertEquals(0, before[2] + before[3], "nodes outside the ring got nothing");
    boolean changed = h.now(env -> ring.update(four));
    assertTrue(changed);
    long[] expected = new long[4];
    int moved = 0;
    for (String k : keys) {
      NodeId was = two.preference(k, "z1").get(0);
      NodeId now = four.preference(k, "z1").get(0);
      if (!was.equals(now)) {
        moved++;
        assertTrue(now.equals(h.nodes.get(2).id()) || now.equals(h.nodes.get(3).id()), "a key moves only to a joining node: " + k);
      }
      for (int i = 0; i < 4; i++) {
        if (h.nodes.get(i).id().equals(now)) {
          expected[i]++;
        }
      }
      GetResult.Found f = assertInstanceOf(GetResult.Found.class, get(h, c, k, 0, 1_000, 1_000));
      assertEquals(bytes(1_000, keys.indexOf(k)), f.data());
    }
    assertTrue(moved > 0 && moved < keys.size(), "some keys moved, not all: " + moved);
    for (int i = 0; i < 4; i++) {
      assertEquals(expected[i], h.caches.get(i).counters().requests() - before[i], "reads of node " + i + " after the change");
    }
    assertEquals(120, c.answeredByCachey());
  }

  @Test
  void aDownNodeIsSkippedAndWithEveryNodeDownTheStoreIsReadDirectly() {
    CacheyHarness h = new CacheyHarness(3, CacheyTest.PLAIN, FaultProfile.NONE, 3, PlantedBug.NONE);
    h.put("seg/1", bytes(3_000, 1));
    CacheyClient c = client(h, "z1");
    NodeId first = h.now(env -> new CacheyRing(h.ring()).preference("seg/1", "z1").get(0));
    h.world.process(first).crash();
    GetResult.Found f = assertInstanceOf(GetResult.Found.class, get(h, c, "seg/1", 0, 3_000, 3_000));
    assertEquals(bytes(3_000, 1), f.data());
    assertEquals(1, c.failovers());
    assertEquals(1, c.answeredByCachey());
    for (var p : h.nodes) {
      if (p.up()) {
        p.crash();
      }
    }
    f = assertInstanceOf(GetResult.Found.class, get(h, c, "seg/1", 0, 3_000, 3_000));
    assertEquals(bytes(3_000, 1), f.data());
    assertEquals(1, c.direct());
    assertEquals(4, c.failovers());
  }

  @Test
  void aNodeCrashingMidReadMakesTheClientReadTheStore() {
    CacheyHarness h = new CacheyHarness(3, CacheyTest.PLAIN, FaultProfile.NONE, 1, PlantedBug.NONE);
    h.put("seg/1", bytes(3_000, 1));
    CacheyClient c = client(h, "z1");
    Promise<GetResult> p = h.now(env -> c.get(ObjectKey.of("seg/1"), ByteRange.of(0, 3_000), 3_000));
    // Let the request reach the node and its GET start, then crash the node.
    h.world.simulator().runUntil(() -> h.caches.get(0).counters().pageMisses() > 0, h.world.simulator().nowNanos() + Simulator.SECOND);
    assertTrue(h.caches.get(0).counters().pageMisses() > 0);
    h.nodes.get(0).crash();
    GetResult.Found f = assertInstanceOf(GetResult.Found.class, h.await(p));
    assertEquals(bytes(3_000, 1), f.data());
    assertEquals(1, c.direct(), "timed out on the node, then read the store");
    assertEquals(0, c.answeredByCachey());
  }

  @Test
  void storeFailuresSeenByTheNodeKeepTheirKind() {
    CacheyHarness h = new CacheyHarness(3, CacheyTest.PLAIN, FaultProfile.NONE, 1, PlantedBug.NONE);
    h.put("seg/1", bytes(3_000, 1));
    CacheyClient c = client(h, "z1");
    h.world.bucket().setOutage(true);
    Promise<GetResult> p = h.now(env -> c.get(ObjectKey.of("seg/1"), ByteRange.of(0, 100), -1));
    h.world.simulator().runUntil(p::isDone, h.world.simulator().nowNanos() + 60 * Simulator.SECOND);
    io.s2j.runtime.IoFailure f = assertInstanceOf(io.s2j.runtime.IoFailure.class, p.failure());
    assertEquals(io.s2j.runtime.IoFailure.Kind.UNAVAILABLE, f.kind());
    assertTrue(!f.indefinite());
  }

  @Test
  void aRequestANodeRefusesItselfGoesToTheNextNodeOrTheStore() {
    CacheyKnobs knobs = new CacheyKnobs(4096, 64 << 10, 64, 1_000, 64, 0, 5_000).conclude(); // at most 1,000 bytes a request
    CacheyHarness h = new CacheyHarness(3, knobs, FaultProfile.NONE, 1, PlantedBug.NONE);
    h.put("seg/1", bytes(3_000, 1));
    CacheyClient c = client(h, "z1");
    GetResult.Found f = assertInstanceOf(GetResult.Found.class, get(h, c, "seg/1", 0, 2_000, 3_000));
    assertEquals(bytes(3_000, 1).substring(0, 2_000), f.data());
    assertEquals(1, c.refusals());
    assertEquals(1, c.direct());
    assertEquals(0, c.answeredByCachey());
  }

  @Test
  void withoutARingEveryReadGoesToTheStore() {
    CacheyHarness h = new CacheyHarness(3, CacheyTest.PLAIN, FaultProfile.NONE, 1, PlantedBug.NONE);
    h.put("seg/1", bytes(3_000, 1));
    CacheyClient c = h.now(CacheyClient::direct);
    GetResult.Found f = assertInstanceOf(GetResult.Found.class, get(h, c, "seg/1", 10, 20, -1));
    assertEquals(bytes(3_000, 1).substring(10, 30), f.data());
    assertEquals(1, c.direct());
    assertEquals(0, h.cachey().counters().requests());
  }
}
