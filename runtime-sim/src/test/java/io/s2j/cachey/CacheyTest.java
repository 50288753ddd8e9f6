package io.s2j.cachey;

import static io.s2j.cachey.CacheyHarness.bytes;
import static io.s2j.cachey.CacheyHarness.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.cachey.proto.ReadRangeResponse;
import io.s2j.channel.PlantedBug;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One cachey node under the simulator: hits, misses, coalescing, eviction, hedging, versions, failures. */
class CacheyTest {
  /** Small pages and memory, no hedging (so GETs can be counted exactly). */
  static final CacheyKnobs PLAIN = new CacheyKnobs(4096, 64 << 10, 64, 1 << 20, 64, 0, 5_000).conclude();

  private static ByteString found(ReadRangeResponse r) {
    assertTrue(r.hasFound(), "expected found, got " + r);
    return r.getFound().getData();
  }

  @Test
  void aMissFetchesEachPageOnceAndTheNextReadHits() {
    CacheyHarness h = new CacheyHarness(PLAIN);
    ByteString object = bytes(10_000, 1); // pages of 4096, 4096, 1808
    h.put("obj/a", object);
    long gets = h.world.bucket().getsApplied();

    assertEquals(object, found(h.read("obj/a", 0, 10_000)));
    assertEquals(3, h.world.bucket().getsApplied() - gets, "one ranged GET per page");
    assertEquals(3, h.cachey().counters().pageMisses());

    assertEquals(0, h.cachey().counters().pageHits());
    assertEquals(object.substring(3_000, 9_000), found(h.read("obj/a", 3_000, 6_000)));
    assertEquals(3, h.cachey().counters().pageHits(), "the second read hit pages 0..2");
    assertEquals(object.substring(9_000), found(h.read("obj/a", 9_000, 5_000)), "cut at the end of the object");
    assertEquals(4, h.cachey().counters().pageHits(), "the third read hit page 2");
    assertEquals(3, h.world.bucket().getsApplied() - gets, "later reads are answered from pages");
    assertEquals(10_000, h.read("obj/a", 0, 1).getFound().getObjectBytes());
  }

  @Test
  void concurrentMissesOfOnePageShareOneGet() {
    CacheyHarness h = new CacheyHarness(PLAIN);
    h.put("obj/a", bytes(3_000, 1));
    long gets = h.world.bucket().getsApplied();
    List<Promise<ReadRangeResponse>> reads = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      reads.add(h.start(0, request("obj/a", i * 100, 100)));
    }
    for (int i = 0; i < 20; i++) {
      assertEquals(bytes(3_000, 1).substring(i * 100, i * 100 + 100), found(h.await(reads.get(i))));
    }
    assertEquals(1, h.world.bucket().getsApplied() - gets, "20 concurrent readers of one page -> 1 GET");
    assertEquals(1, h.cachey().counters().pageMisses());
    assertEquals(19, h.cachey().counters().pageCoalesced());
  }

  @Test
  void memoryStaysBoundedAndLeastRecentlyUsedPagesGoFirst() {
    CacheyKnobs knobs = new CacheyKnobs(4096, 16 << 10, 64, 1 << 20, 64, 0, 60_000).conclude();
    CacheyHarness h = new CacheyHarness(knobs);
    for (int i = 0; i < 10; i++) {
      h.put("obj/" + i, bytes(4096, i));
    }
    for (int i = 0; i < 10; i++) {
      assertEquals(bytes(4096, i), found(h.read("obj/" + i, 0, 4096)));
      assertTrue(h.cachey().pageBytesHeld() <= 16 << 10, "held " + h.cachey().pageBytesHeld());
    }
    assertEquals(4, h.cachey().pagesHeld());
    assertEquals(6, h.cachey().counters().evictions());
    long gets = h.world.bucket().getsApplied();
    assertEquals(bytes(4096, 9), found(h.read("obj/9", 0, 4096)));
    assertEquals(gets, h.world.bucket().getsApplied(), "the most recent page is still held");
    assertEquals(bytes(4096, 0), found(h.read("obj/0", 0, 4096)));
    assertEquals(gets + 1, h.world.bucket().getsApplied(), "the oldest page was evicted");
  }

  @Test
  void aMissingObjectIsADefiniteNotFoundAndIsNotRemembered() {
    CacheyHarness h = new CacheyHarness(PLAIN);
    assertTrue(h.read("obj/late", 0, 10).hasNotFound());
    h.put("obj/late", bytes(100, 3));
    assertEquals(bytes(100, 3).substring(0, 10), found(h.read("obj/late", 0, 10)));
    assertEquals(100, h.read("obj/late", 100, 10).getRangeNotSatisfiable(), "a range past the end: 416 with the size");
  }

  @Test
  void storeFailuresAreAnsweredWithTheirKindAndNeverCached() {
    CacheyHarness h = new CacheyHarness(PLAIN);
    h.put("obj/a", bytes(5_000, 1));
    h.world.bucket().setOutage(true);
    ReadRangeResponse r = h.read("obj/a", 0, 5_000);
    assertTrue(r.hasFailure(), r.toString());
    IoFailure f = CacheyRpc.fromProto(r.getFailure());
    assertEquals(IoFailure.Kind.UNAVAILABLE, f.kind());
    assertFalse(f.indefinite());
    h.world.bucket().setOutage(false);
    assertEquals(bytes(5_000, 1), found(h.read("obj/a", 0, 5_000)), "the failure was not cached");
    assertEquals(1, h.cachey().counters().failures());
  }

  @Test
  void badRequestsAreRefusedAndTheInFlightBoundThrottles() {
    CacheyKnobs knobs = new CacheyKnobs(4096, 64 << 10, 64, 8192, 2, 0, 5_000).conclude();
    CacheyHarness h = new CacheyHarness(knobs);
    assertEquals("REJECTED", h.read("obj/a", 0, 0).getFailure().getKind());
    assertEquals("REJECTED", h.read("obj/a", 0, 8193).getFailure().getKind());
    assertEquals("REJECTED", h.read("/bad", 0, 1).getFailure().getKind());
    for (int i = 0; i < 5; i++) {
      h.put("obj/" + i, bytes(100, i));
    }
    List<Promise<ReadRangeResponse>> reads = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      reads.add(h.start(0, request("obj/" + i, 0, 100)));
    }
    int throttled = 0;
    for (int i = 0; i < 5; i++) {
      ReadRangeResponse r = h.await(reads.get(i));
      if (r.hasFailure()) {
        assertEquals("THROTTLED", r.getFailure().getKind());
        throttled++;
      } else {
        assertEquals(bytes(100, i), found(r));
      }
    }
    assertEquals(3, throttled, "2 served at once, 3 refused");
    assertEquals(3, h.cachey().counters().throttled());
  }

  @Test
  void pagesOfDifferentObjectsAreNeverMixed() {
    CacheyHarness h = new CacheyHarness(PLAIN);
    for (int i = 0; i < 6; i++) {
      h.put("obj/" + i, bytes(9_000, i));
    }
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 6; i++) {
        assertEquals(bytes(9_000, i).substring(1_000, 8_500), found(h.read("obj/" + i, 1_000, 7_500)));
      }
    }
  }

  @Test
  void aRewrittenKeyIsServedFromOneVersionOnly() {
    CacheyHarness h = new CacheyHarness(PLAIN);
    ByteString v1 = bytes(8_192, 1);
    ByteString v2 = bytes(8_192, 2);
    h.put("obj/k", v1);
    assertEquals(v1.substring(0, 100), found(h.read("obj/k", 0, 100))); // caches page 0 of v1 only
    String etag1 = h.read("obj/k", 0, 1).getFound().getEtag();
    h.delete("obj/k");
    h.put("obj/k", v2); // same key, same size, other bytes (keys can be reused after deletion)

    // Page 0 is held for v1, page 1 is not: the GET of page 1 sees v2, so the read is planned
    // again on v2 instead of stitching v1's page 0 to v2's page 1.
    ReadRangeResponse both = h.read("obj/k", 0, 8_192);
    assertEquals(v2, found(both));
    assertNotEquals(etag1, both.getFound().getEtag());
    assertTrue(h.cachey().counters().versionChanges() >= 1);
    assertEquals(v2.substring(0, 100), found(h.read("obj/k", 0, 100)), "page 0 of v1 is never served again");
  }

  @Test
  void aRememberedVersionIsReReadAfterItsTtlOrWhenTheCallerExpectsAnother() {
    CacheyHarness h = new CacheyHarness(PLAIN); // version TTL 5 s
    ByteString v1 = bytes(4_000, 1);
    h.put("obj/k", v1);
    assertEquals(v1, found(h.read("obj/k", 0, 4_000)));
    h.delete("obj/k");
    ByteString v2 = bytes(4_000, 2);
    h.put("obj/k", v2);
    // Within the TTL, with no expectation, the old version may still be served (whole, never mixed).
    assertEquals(v1, found(h.read("obj/k", 0, 4_000)));
    h.world.simulator().runFor(6 * Simulator.SECOND);
    assertEquals(v2, found(h.read("obj/k", 0, 4_000)), "after the TTL the version is read again");
    assertEquals(1, h.cachey().counters().revalidations());

    ByteString v3 = bytes(3_000, 3);
    h.delete("obj/k");
    h.put("obj/k", v3);
    ReadRangeResponse expecting = h.read(request("obj/k", 0, 4_000).toBuilder().setExpectedObjectBytes(3_000).build());
    assertEquals(v3, found(expecting), "a caller expecting another size makes the node read the object again");
    assertEquals(2, h.cachey().counters().revalidations());
  }

  @Test
  void slowGetsAreHedgedAndTheFirstAnswerWins() {
    // A third of GETs are 10-100x slower than usual; the same seed with and without hedging.
    FaultProfile slow = new FaultProfile(0, 0, 0, 0, 0, 0, 0.3, 0, 0, 0, false, false, false, false);
    long[] totalNanos = new long[2];
    for (int hedging = 0; hedging < 2; hedging++) {
      CacheyKnobs knobs = new CacheyKnobs(4096, 1 << 20, 256, 1 << 20, 64, hedging == 1 ? 60 : 0, 60_000).conclude();
      CacheyHarness h = new CacheyHarness(5, knobs, slow, 1, PlantedBug.NONE);
      h.world.bucket().setRequestTimeoutNanos(30 * Simulator.SECOND);
      for (int i = 0; i < 40; i++) {
        h.put("obj/" + i, bytes(1_000, i));
      }
      for (int i = 0; i < 40; i++) {
        long start = h.world.simulator().nowNanos();
        assertEquals(bytes(1_000, i), found(h.read("obj/" + i, 0, 1_000)));
        totalNanos[hedging] += h.world.simulator().nowNanos() - start;
      }
      Cachey.Counters c = h.cachey().counters();
      if (hedging == 0) {
        assertEquals(0, c.hedges());
      } else {
        assertTrue(c.hedges() >= 5, "hedges " + c.hedges());
        assertTrue(c.hedgesWon() >= 1, "hedges won " + c.hedgesWon());
        assertTrue(c.hedgesWon() <= c.hedges());
      }
    }
    assertTrue(totalNanos[1] < totalNanos[0] / 2,
        "hedging cut the time of 40 misses: " + totalNanos[1] / Simulator.MS + " ms vs " + totalNanos[0] / Simulator.MS + " ms");
  }

  @Test
  void thePlantedWrongPageBugServesAnotherObjectsPage() {
    CacheyHarness h = new CacheyHarness(11, PLAIN, FaultProfile.NONE, 1, PlantedBug.CACHEY_WRONG_PAGE);
    h.put("obj/a", bytes(4096, 1));
    h.put("obj/b", bytes(4096, 2));
    assertEquals(bytes(4096, 1), found(h.read("obj/a", 0, 4096)));
    assertEquals(bytes(4096, 2), found(h.read("obj/b", 0, 4096)), "b's first read fetches its page 0 (over a's)");
    assertEquals(bytes(4096, 2), found(h.read("obj/a", 0, 4096)), "with the bug, a's page 0 is now b's");
  }
}
