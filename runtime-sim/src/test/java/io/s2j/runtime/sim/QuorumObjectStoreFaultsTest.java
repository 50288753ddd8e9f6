package io.s2j.runtime.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import io.s2j.storage.QuorumObjectStore;
import io.s2j.storage.StorageClassRouter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The failure cases the express quorum was designed against (docs/design.md, "Express storage"):
 * one zone down, creates split between two writers, a zombie's copy left on one replica, a
 * write held by one replica only. Replicas are set up directly through per-zone clients, then
 * the quorum is asked.
 */
class QuorumObjectStoreFaultsTest {
  static final List<String> ZONES = List.of("a", "b", "c");

  static void addZones(SimWorld world) {
    for (String z : ZONES) {
      world.addZonalBucket("zone-" + z, LatencyModel.FAST, z);
    }
  }

  private SimHarness h;
  private Env env;
  private final Map<String, ObjectStore> raw = new TreeMap<>();
  private QuorumObjectStore quorum;
  private QuorumObjectStore buggy;
  private final ObjectKey key = ObjectKey.of("wal/x-1/00000000000000000007");

  @BeforeEach
  void setUp() {
    h = new SimHarness(7, FaultProfile.NONE);
    addZones(h.world);
    env = h.env("client");
    SimProcess.Incarnation inc = h.world.process("client").incarnation();
    for (String z : ZONES) {
      raw.put(z, h.world.bucket("zone-" + z).client(inc));
    }
    List<ObjectStore> replicas = List.of(raw.get("a"), raw.get("b"), raw.get("c"));
    quorum = new QuorumObjectStore(env.scheduler(), replicas);
    buggy = new QuorumObjectStore(env.scheduler(), replicas, true);
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private PutResult put(ObjectStore store, ObjectKey k, String value) {
    return h.await(env, e -> store.put(k, bytes(value), PutCondition.IF_ABSENT));
  }

  private GetResult get(ObjectKey k) {
    return h.await(env, e -> quorum.get(k));
  }

  private String peek(String zone, ObjectKey k) {
    ByteString b = h.world.bucket("zone-" + zone).peek(k);
    return b == null ? null : b.toStringUtf8();
  }

  private void settle() {
    h.world.simulator().runFor(Simulator.SECOND);
  }

  @Test
  void oneZoneDownCreatesReadsListsAndRefusesASecondCreate() {
    h.world.setZoneOutage("b", true);
    assertInstanceOf(PutResult.Written.class, put(quorum, key, "chunk"));
    assertEquals("chunk", assertInstanceOf(GetResult.Found.class, get(key)).data().toStringUtf8());
    assertInstanceOf(PutResult.PreconditionFailed.class, put(quorum, key, "other"));
    ListPage page = h.await(env, e -> quorum.list("wal/x-1/", null, 10));
    assertEquals(List.of(key), page.objects().stream().map(ObjectSummary::key).toList());
    assertNull(peek("b", key));
  }

  @Test
  void aWriteOnTwoZonesSurvivesTheLossOfEitherOfThem() {
    h.world.setZoneOutage("c", true);
    assertInstanceOf(PutResult.Written.class, put(quorum, key, "chunk"));
    h.world.setZoneOutage("c", false);
    h.world.setZoneOutage("a", true);
    // b holds it, c lacks it, a is down: the read rolls it forward into c.
    assertEquals("chunk", assertInstanceOf(GetResult.Found.class, get(key)).data().toStringUtf8());
    assertEquals("chunk", peek("c", key));
    h.world.setZoneOutage("a", false);
    h.world.setZoneOutage("b", true);
    assertEquals("chunk", assertInstanceOf(GetResult.Found.class, get(key)).data().toStringUtf8());
  }

  @Test
  void twoZonesDownFailDefinitelyWhenNothingWasWritten() {
    h.world.setZoneOutage("a", true);
    h.world.setZoneOutage("b", true);
    h.world.setZoneOutage("c", true);
    IoFailure f = assertThrows(IoFailure.class, () -> put(quorum, key, "chunk"));
    assertFalse(f.indefinite());
  }

  @Test
  void aWriteHeldByOneZoneIsNotAcknowledgedAndIsIndefinite() {
    h.world.setZoneOutage("b", true);
    h.world.setZoneOutage("c", true);
    IoFailure f = assertThrows(IoFailure.class, () -> put(quorum, key, "chunk"));
    assertTrue(f.indefinite(), "one zone holds the bytes: the write may still be decided");
    assertEquals("chunk", peek("a", key));
  }

  @Test
  void thePlantedBugAcknowledgesOnOneZoneAndTheWriteIsThenLost() {
    h.world.setZoneOutage("b", true);
    h.world.setZoneOutage("c", true);
    assertInstanceOf(PutResult.Written.class, put(buggy, key, "chunk"));
    h.world.setZoneOutage("b", false);
    h.world.setZoneOutage("c", false);
    // Two zones agree the key is absent: the "acknowledged" chunk is not in the log.
    assertInstanceOf(GetResult.NotFound.class, get(key));
  }

  @Test
  void aSplitCreateIsDecidedByTheFirstReaderAndStaysDecided() {
    put(raw.get("a"), key, "zombie");
    put(raw.get("b"), key, "fence");
    String decided = assertInstanceOf(GetResult.Found.class, get(key)).data().toStringUtf8();
    assertTrue(decided.equals("zombie") || decided.equals("fence"), decided);
    assertEquals(decided, peek("c", key), "rolled forward into the empty replica");
    assertInstanceOf(PutResult.PreconditionFailed.class, put(quorum, key, "late"));
    settle();
    // The losing replica was repaired, so any one zone may now go down.
    for (String down : ZONES) {
      h.world.setZoneOutage(down, true);
      assertEquals(decided, assertInstanceOf(GetResult.Found.class, get(key)).data().toStringUtf8(), "zone " + down + " down");
      h.world.setZoneOutage(down, false);
    }
  }

  @Test
  void aSplitCreateWithTheThirdZoneDownIsUnreadableUntilItReturns() {
    put(raw.get("a"), key, "zombie");
    put(raw.get("b"), key, "fence");
    h.world.setZoneOutage("c", true);
    IoFailure f = assertThrows(IoFailure.class, () -> get(key));
    assertFalse(f.indefinite());
    h.world.setZoneOutage("c", false);
    assertInstanceOf(GetResult.Found.class, get(key));
  }

  @Test
  void aZombiesCopyOnOneZoneLosesAndIsRepaired() {
    put(raw.get("a"), key, "zombie");
    put(raw.get("b"), key, "fence");
    put(raw.get("c"), key, "fence");
    assertEquals("fence", assertInstanceOf(GetResult.Found.class, get(key)).data().toStringUtf8());
    assertInstanceOf(PutResult.PreconditionFailed.class, put(quorum, key, "zombie"));
    settle();
    assertEquals("fence", peek("a", key));
  }

  @Test
  void anOrphanOnOneZoneIsNotListedButIsRolledForwardWhenAnotherZoneIsDown() {
    ObjectKey orphan = ObjectKey.of("wal/x-1/00000000000000000008");
    put(quorum, key, "decided");
    put(raw.get("a"), orphan, "orphan");
    ListPage page = h.await(env, e -> quorum.list("wal/x-1/", null, 10));
    assertEquals(List.of(key), page.objects().stream().map(ObjectSummary::key).toList());
    assertInstanceOf(GetResult.NotFound.class, get(orphan));
    // With c down, a and b disagree about the orphan: the listing decides it (present).
    h.world.setZoneOutage("c", true);
    ListPage down = h.await(env, e -> quorum.list("wal/x-1/", null, 10));
    assertEquals(List.of(key, orphan), down.objects().stream().map(ObjectSummary::key).toList());
    assertEquals("orphan", peek("b", orphan));
  }

  @Test
  void listingPaginatesOverTheUnionWithOneZoneDown() {
    for (int i = 0; i < 7; i++) {
      if (i == 3) {
        h.world.setZoneOutage("a", true);
      }
      put(quorum, ObjectKey.of("wal/x-1/" + i), "v" + i);
    }
    h.world.setZoneOutage("a", false);
    h.world.setZoneOutage("b", true);
    List<String> seen = new java.util.ArrayList<>();
    ObjectKey after = null;
    for (int pages = 0; pages < 10; pages++) {
      ObjectKey from = after;
      ListPage page = h.await(env, e -> quorum.list("wal/x-1/", from, 2));
      page.objects().forEach(o -> seen.add(o.key().value().substring("wal/x-1/".length())));
      if (!page.truncated()) {
        break;
      }
      after = page.objects().get(page.objects().size() - 1).key();
    }
    assertEquals(List.of("0", "1", "2", "3", "4", "5", "6"), seen);
  }

  @Test
  void theRouterSendsExpressLogsToTheQuorumAndTheRestToTheRegionalBucket() {
    ObjectStore regional = env.objectStore();
    StorageClassRouter router = new StorageClassRouter(env.scheduler(), regional, quorum, id -> id.startsWith("x-"));
    ObjectKey standardChunk = ObjectKey.of("wal/ch-1/00000000000000000001");
    ObjectKey segment = ObjectKey.of("seg/5/0-1");
    put(router, key, "express");
    put(router, standardChunk, "standard");
    put(router, segment, "segment");
    assertEquals("express", peek("a", key));
    assertNull(h.world.bucket().peek(key));
    assertEquals("standard", h.world.bucket().peek(standardChunk).toStringUtf8());
    assertNull(peek("a", standardChunk));
    assertNull(peek("a", segment));
    ListPage wal = h.await(env, e -> router.list("wal/", null, 10));
    assertEquals(List.of(standardChunk, key), wal.objects().stream().map(ObjectSummary::key).toList());
    assertEquals("express", assertInstanceOf(GetResult.Found.class, h.await(env, e -> router.get(key))).data().toStringUtf8());
  }
}
