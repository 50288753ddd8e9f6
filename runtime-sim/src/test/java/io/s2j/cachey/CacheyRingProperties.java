package io.s2j.cachey;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.runtime.NodeId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Rendezvous hashing with bounded load and zone preference ({@link CacheyRing}). */
class CacheyRingProperties {
  private static List<CacheyNode> nodes(int count, int zones) {
    List<CacheyNode> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(CacheyNode.of("cachey-" + i, "z" + (i % zones)));
    }
    return out;
  }

  private static List<String> keys(int count, long salt) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add("seg/" + salt + "/" + i);
    }
    return out;
  }

  @Property(tries = 200)
  void preferenceIsDeterministicAndIndependentOfListingOrder(@ForAll @IntRange(min = 1, max = 12) int count,
      @ForAll @IntRange(min = 1, max = 3) int zones, @ForAll long salt) {
    List<CacheyNode> listed = nodes(count, zones);
    List<CacheyNode> shuffled = new ArrayList<>(listed);
    Collections.shuffle(shuffled, new Random(salt)); // test-only shuffle, seeded by jqwik
    CacheyRing a = new CacheyRing(listed);
    CacheyRing b = new CacheyRing(shuffled);
    for (String key : keys(50, salt)) {
      for (int z = 0; z < zones; z++) {
        List<NodeId> pa = a.preference(key, "z" + z);
        assertEquals(pa, b.preference(key, "z" + z));
        assertEquals(pa, a.preference(key, "z" + z));
        assertEquals(count, new TreeSet<>(pa).size(), "a permutation of the nodes");
      }
    }
  }

  @Property(tries = 200)
  void theCallersZoneComesFirst(@ForAll @IntRange(min = 1, max = 12) int count,
      @ForAll @IntRange(min = 1, max = 3) int zones, @ForAll long salt) {
    List<CacheyNode> listed = nodes(count, zones);
    TreeMap<NodeId, String> zoneOf = new TreeMap<>();
    listed.forEach(n -> zoneOf.put(n.node(), n.zone()));
    CacheyRing ring = new CacheyRing(listed);
    for (String key : keys(50, salt)) {
      for (int z = 0; z <= zones; z++) { // z == zones: a zone without nodes
        String zone = "z" + z;
        List<NodeId> pref = ring.preference(key, zone);
        boolean left = false;
        for (NodeId n : pref) {
          boolean in = zoneOf.get(n).equals(zone);
          assertTrue(!(in && left), "an in-zone node after another zone's: " + pref);
          left |= !in;
        }
        NodeId chosen = ring.order(key, zone, n -> 0L).get(0);
        boolean zoneHasNodes = zoneOf.containsValue(zone);
        assertTrue(!zoneHasNodes || zoneOf.get(chosen).equals(zone), "chose " + chosen + " outside " + zone);
      }
    }
  }

  @Property(tries = 200)
  void aLeavingNodeMovesOnlyItsOwnKeysAndAJoiningNodeTakesOnlyKeys(@ForAll @IntRange(min = 2, max = 12) int count,
      @ForAll @IntRange(min = 0, max = 11) int leaving, @ForAll long salt) {
    List<CacheyNode> all = nodes(count, 1);
    CacheyNode gone = all.get(leaving % count);
    List<CacheyNode> rest = new ArrayList<>(all);
    rest.remove(gone);
    CacheyRing before = new CacheyRing(all);
    CacheyRing after = new CacheyRing(rest);
    for (String key : keys(200, salt)) {
      List<NodeId> pBefore = before.preference(key, "z0");
      List<NodeId> pAfter = after.preference(key, "z0");
      List<NodeId> expected = new ArrayList<>(pBefore);
      expected.remove(gone.node());
      assertEquals(expected, pAfter, "the others keep their relative order");
      if (!pBefore.get(0).equals(gone.node())) {
        assertEquals(pBefore.get(0), pAfter.get(0), "a key not on the leaving node stays put");
      }
      // Joining is the reverse: a key moves only to the joining node.
      if (!pAfter.get(0).equals(pBefore.get(0))) {
        assertEquals(gone.node(), pBefore.get(0));
      }
    }
  }

  @Property(tries = 200)
  void boundedLoadCapsEveryNodeAtItsShareOfTheGroup(@ForAll @IntRange(min = 1, max = 10) int count,
      @ForAll @IntRange(min = 1, max = 3) int zones, @ForAll @IntRange(min = 1, max = 400) int keyCount,
      @ForAll long salt) {
    List<CacheyNode> listed = nodes(count, zones);
    CacheyRing ring = new CacheyRing(listed, 1.25);
    String zone = "z0"; // always has node 0
    int inZone = (int) listed.stream().filter(n -> n.zone().equals(zone)).count();
    TreeMap<NodeId, Long> load = new TreeMap<>();
    for (String key : keys(keyCount, salt)) {
      NodeId chosen = ring.order(key, zone, n -> load.getOrDefault(n, 0L)).get(0);
      load.merge(chosen, 1L, Long::sum);
    }
    long cap = (long) Math.ceil(1.25 * keyCount / inZone);
    load.forEach((n, l) -> assertTrue(l <= cap, n + " carries " + l + " > " + cap + " of " + keyCount + " keys over " + inZone));
    assertEquals(keyCount, load.values().stream().mapToLong(Long::longValue).sum());
  }

  @Property(tries = 50)
  void withoutABoundTheFirstChoiceIsThePureRendezvousWinner(@ForAll @IntRange(min = 1, max = 10) int count, @ForAll long salt) {
    CacheyRing ring = new CacheyRing(nodes(count, 1), Double.POSITIVE_INFINITY);
    for (String key : keys(50, salt)) {
      assertEquals(ring.preference(key, "z0").get(0), ring.order(key, "z0", n -> 1_000_000L).get(0));
    }
  }

  @Property(tries = 20)
  void rendezvousSpreadsKeysEvenly(@ForAll @IntRange(min = 2, max = 8) int count, @ForAll long salt) {
    CacheyRing ring = new CacheyRing(nodes(count, 1), Double.POSITIVE_INFINITY);
    TreeMap<NodeId, Integer> owned = new TreeMap<>();
    int keyCount = 4000;
    for (String key : keys(keyCount, salt)) {
      owned.merge(ring.preference(key, "z0").get(0), 1, Integer::sum);
    }
    assertEquals(count, owned.size(), "every node owns keys");
    double share = (double) keyCount / count;
    // 4000 keys: a node's count is binomial; 30% off its share is more than 5 standard deviations.
    owned.forEach((n, c) -> assertTrue(Math.abs(c - share) < 0.3 * share, n + " owns " + c + " of " + keyCount));
  }
}
