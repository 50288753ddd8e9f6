package io.s2j.runtime.real;

import static io.s2j.runtime.real.ObjectStoreMetadataStoreTest.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link EtcdMetadataStore} beyond the contract: the mapping's corners, against a real etcd. */
class EtcdMetadataStoreTest {
  private static EtcdProcess etcd;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdProcess.startOrSkip();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  static EtcdMetadataStore open(EtcdProcess etcd, String namespace, Duration requestTimeout) {
    return EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(List.of(etcd.clientUrl()), b(namespace))
        .withRequestTimeout(requestTimeout));
  }

  private static EtcdMetadataStore fresh() {
    return open(etcd, "t/" + UUID.randomUUID() + "/", Duration.ofSeconds(5));
  }

  private static final ByteString ALL_END = ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff});

  /**
   * The same mixed workload as the object-store store's tests, on etcd and on the in-memory
   * reference: the same outcomes (condition indexes included), the same final keys and values, and
   * every key's modRevision is the etcd revision of the transaction that last wrote it.
   */
  @Test
  void agreesWithTheReferenceStateMachine() {
    InMemoryMetadataStore model = new InMemoryMetadataStore();
    try (EtcdMetadataStore store = fresh(); MetaTestClient client = new MetaTestClient(store::view)) {
      Map<Long, Long> etcdRevisionOfModel = new LinkedHashMap<>();
      long last = 0;
      int failed = 0;
      for (Txn t : ObjectStoreMetadataStoreTest.workload(80)) {
        TxnResult expected = model.commit(t);
        TxnResult got = client.commit(t);
        if (expected instanceof TxnResult.Committed e) {
          long r = assertInstanceOf(TxnResult.Committed.class, got, t.toString()).revision();
          assertTrue(r > last, "revisions increase: " + r + " after " + last);
          last = r;
          etcdRevisionOfModel.put(e.revision(), r);
        } else {
          assertEquals(expected, got, t.toString());
          failed++;
        }
      }
      assertTrue(failed > 0 && failed < 80, "both outcomes: " + failed);
      List<KeyValue> want = new ArrayList<>();
      for (KeyValue kv : ObjectStoreMetadataStoreTest.modelEntries(model)) {
        want.add(new KeyValue(kv.key(), kv.value(), etcdRevisionOfModel.get(kv.modRevision())));
      }
      ScanPage all = client.scan(ByteString.EMPTY.concat(b("\0")), ALL_END, 1000);
      assertEquals(want, all.entries());
      assertTrue(all.revision() >= last);
    }
  }

  @Test
  void conditionCornersMatchTheContractNotEtcdDefaults() {
    try (EtcdMetadataStore store = fresh(); MetaTestClient client = new MetaTestClient(store::view)) {
      // etcd gives a missing key mod_revision 0; the contract says RevisionIs never holds for it.
      assertEquals(new TxnResult.ConditionFailed(0), client.commit(Txn.builder().ifRevision(b("missing"), 0).put(b("x"), b("1")).build()));
      assertEquals(new TxnResult.ConditionFailed(0), client.commit(Txn.builder().ifValue(b("missing"), ByteString.EMPTY).put(b("x"), b("1")).build()));
      long r1 = assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().put(b("e"), ByteString.EMPTY).build())).revision();
      assertEquals(new KeyValue(b("e"), ByteString.EMPTY, r1), client.get(b("e")).orElseThrow(), "an empty value is a value");
      assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().ifValue(b("e"), ByteString.EMPTY).put(b("x"), b("1")).build()));
      // The first failing condition is reported, whichever later ones fail too; repeated keys are fine.
      assertEquals(new TxnResult.ConditionFailed(2), client.commit(Txn.builder()
          .ifAbsent(b("nope")).ifRevision(b("e"), r1).ifAbsent(b("e")).ifValue(b("e"), b("other")).put(b("y"), b("1")).build()));
    }
  }

  @Test
  void aTransactionThatOnlyDeletesMissingKeysStillAdvancesTheRevision() {
    try (EtcdMetadataStore store = fresh(); MetaTestClient client = new MetaTestClient(store::view)) {
      long r1 = assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().put(b("a"), b("1")).build())).revision();
      long r2 = assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().delete(b("never")).build())).revision();
      long r3 = assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().delete(b("never")).build())).revision();
      assertTrue(r1 < r2 && r2 < r3, r1 + " " + r2 + " " + r3);
      long r4 = assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().ifRevision(b("a"), r1).delete(b("a")).build())).revision();
      assertTrue(r4 > r3);
      assertTrue(client.get(b("a")).isEmpty());
      assertEquals(List.of(), client.scan(b("\0"), ALL_END, 10).entries(), "the marker is not a store key");
    }
  }

  @Test
  void namespacesAreIsolatedAndEmptyRangesAreEmpty() {
    try (EtcdMetadataStore one = fresh(); EtcdMetadataStore two = fresh();
        MetaTestClient c1 = new MetaTestClient(one::view); MetaTestClient c2 = new MetaTestClient(two::view)) {
      c1.commit(Txn.builder().put(b("k"), b("one")).build());
      assertTrue(c2.get(b("k")).isEmpty());
      assertEquals(new TxnResult.ConditionFailed(0), c1.commit(Txn.builder().ifAbsent(b("k")).put(b("z"), b("1")).build()));
      assertInstanceOf(TxnResult.Committed.class, c2.commit(Txn.builder().ifAbsent(b("k")).put(b("k"), b("two")).build()));
      assertEquals(b("one"), c1.get(b("k")).orElseThrow().value());
      ScanPage empty = c1.scan(b("m"), b("a"), 10);
      assertEquals(List.of(), empty.entries());
      assertTrue(empty.revision() > 0);
      assertThrows(IllegalArgumentException.class, () -> c1.scan(b("a"), b("b"), MetadataStore.SCAN_LIMIT_MAX + 1));
    }
  }

  /**
   * A stopped etcd (SIGSTOP: a partition, as far as clients can tell): reads fail definitely, a
   * transaction indefinitely, each within the request timeout; once etcd runs again the same
   * client works, and the transaction that timed out either committed or not, never half.
   */
  @Test
  void aStoppedEtcdFailsReadsDefinitelyAndTransactionsIndefinitely() throws Exception {
    try (EtcdProcess own = EtcdProcess.startOrSkip();
        EtcdMetadataStore store = open(own, "p/", Duration.ofMillis(800));
        MetaTestClient client = new MetaTestClient(store::view)) {
      client.commit(Txn.builder().put(b("k"), b("before")).build());
      signal(own, "STOP");
      try {
        long t0 = System.nanoTime();
        IoFailure read = assertThrows(IoFailure.class, () -> client.get(b("k")));
        assertEquals(IoFailure.Kind.UNAVAILABLE, read.kind(), read.toString());
        assertTrue(!read.indefinite());
        MetaTestClient.Outcome txn = client.tryCommit(Txn.builder().put(b("k"), b("during")).put(b("k2"), b("during")).build());
        assertTrue(txn.indefiniteFailure(), txn.toString());
        assertEquals(IoFailure.Kind.TIMEOUT, txn.failure().kind());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 1_500 && ms < 10_000, "both waited out their 800 ms deadlines, no more: " + ms + " ms");
      } finally {
        signal(own, "CONT");
      }
      KeyValue k = null;
      for (int i = 0; i < 50 && k == null; i++) {
        try {
          k = client.get(b("k")).orElseThrow();
        } catch (IoFailure f) {
          Thread.sleep(100);
        }
      }
      assertTrue(k != null, "the client recovers once etcd runs again");
      KeyValue k2 = client.get(b("k2")).orElse(null);
      if (k.value().equals(b("during"))) {
        assertEquals(k.modRevision(), k2.modRevision(), "the timed-out transaction applied whole");
      } else {
        assertEquals(b("before"), k.value());
        assertEquals(null, k2, "the timed-out transaction applied not at all");
      }
      assertInstanceOf(TxnResult.Committed.class, client.commit(Txn.builder().put(b("after"), b("x")).build()));
    }
  }

  static void signal(EtcdProcess etcd, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(etcd.process().pid())).inheritIO().start();
    assertEquals(0, kill.waitFor());
  }
}
