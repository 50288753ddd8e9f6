package io.s2j.runtime.real;

import static io.s2j.runtime.real.ObjectStoreMetadataStoreTest.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.TxnResult;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leases and leader election on a real etcd. Each "process" is its own {@link EtcdMetadataStore}
 * (its own jetcd client and connection); closing a client without revoking its leases is how a
 * process dies or is cut off from etcd here.
 */
class EtcdLeaseElectionTest {
  private static final Duration TTL = Duration.ofSeconds(2);
  private static final Duration POLL = Duration.ofMillis(100);
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

  private static String namespace() {
    return "lease/" + UUID.randomUUID() + "/";
  }

  private static EtcdMetadataStore process(String namespace) {
    return EtcdMetadataStoreTest.open(etcd, namespace, Duration.ofSeconds(5));
  }

  private static Optional<KeyValue> get(EtcdMetadataStore store, ByteString key) throws Exception {
    return store.get(key).get(10, TimeUnit.SECONDS);
  }

  /** Waits up to {@code ms} for {@code key} to vanish; the time it took. */
  private static long awaitGone(EtcdMetadataStore store, ByteString key, long ms) throws Exception {
    long t0 = System.nanoTime();
    while (get(store, key).isPresent()) {
      assertTrue((System.nanoTime() - t0) / 1_000_000 < ms, "still there after " + ms + " ms");
      Thread.sleep(50);
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void aRenewedLeaseKeepsItsKeyAndAnAbandonedOneExpires() throws Exception {
    String ns = namespace();
    EtcdMetadataStore node = process(ns);
    try (EtcdMetadataStore observer = process(ns)) {
      EtcdLease lease = EtcdLease.grant(node, TTL).get(10, TimeUnit.SECONDS);
      assertTrue(lease.putAttached(b("live/channel-1"), b("127.0.0.1:7001")).get(10, TimeUnit.SECONDS) > 0);
      assertEquals(-1L, lease.putAttached(b("live/channel-1"), b("other")).get(10, TimeUnit.SECONDS), "held: not overwritten");
      Thread.sleep(2 * TTL.toMillis() + 500);
      assertEquals(b("127.0.0.1:7001"), get(observer, b("live/channel-1")).orElseThrow().value(), "renewed past twice its TTL");
      assertFalse(lease.lost().isDone());
      node.close(); // the process dies: no more renewals, no revoke
      lease.lost().get(5, TimeUnit.SECONDS); // and knows its lease is no longer renewed
      long ms = awaitGone(observer, b("live/channel-1"), TTL.toMillis() + 3_000);
      System.err.printf("abandoned lease: key gone %d ms after the last client closed (TTL %d s)%n", ms, TTL.toSeconds());
    } finally {
      node.close();
    }
  }

  @Test
  void closingALeaseRevokesItsKeysAtOnce() throws Exception {
    try (EtcdMetadataStore node = process(namespace())) {
      EtcdLease lease = EtcdLease.grant(node, Duration.ofSeconds(30)).get(10, TimeUnit.SECONDS);
      lease.putAttached(b("live/cachey-1"), b("zone-a")).get(10, TimeUnit.SECONDS);
      lease.close();
      assertTrue(lease.lost().isDone());
      awaitGone(node, b("live/cachey-1"), 2_000);
    }
  }

  @Test
  void aLeaseRevokedElsewhereIsReportedLostByItsHolder() throws Exception {
    String ns = namespace();
    try (EtcdMetadataStore node = process(ns); EtcdMetadataStore admin = process(ns)) {
      EtcdLease lease = EtcdLease.grant(node, TTL).get(10, TimeUnit.SECONDS);
      lease.putAttached(b("live/frontend-1"), b("x")).get(10, TimeUnit.SECONDS);
      assertFalse(lease.lost().isDone());
      admin.client().getLeaseClient().revoke(lease.id()).get(10, TimeUnit.SECONDS);
      lease.lost().get(TTL.toMillis() + 2_000, TimeUnit.MILLISECONDS); // the next keep-alive learns it
      assertTrue(get(node, b("live/frontend-1")).isEmpty());
    }
  }

  /**
   * Two candidates in two processes: one leads and its fenced writes commit; it dies (its client
   * closes without revoking); the other takes over within TTL + poll + slack with a larger epoch;
   * the deposed leader's fenced writes, sent through a connection that still works, are refused.
   */
  @Test
  void aDeposedLeadersFencedWritesAreRefused() throws Exception {
    String ns = namespace();
    ByteString key = b("cop/leader");
    EtcdMetadataStore aElection = process(ns);
    try (EtcdMetadataStore aWrites = process(ns); EtcdMetadataStore bStore = process(ns);
        MetaTestClient a = new MetaTestClient(aWrites::view); MetaTestClient bClient = new MetaTestClient(bStore::view)) {
      EtcdElection.Leadership la = new EtcdElection(aElection, key, b("cop-a"), TTL, POLL).campaign().get(10, TimeUnit.SECONDS);
      CompletableFuture<EtcdElection.Leadership> bCampaign = new EtcdElection(bStore, key, b("cop-b"), TTL, POLL).campaign();
      Thread.sleep(TTL.toMillis() + 500);
      assertFalse(bCampaign.isDone(), "one leader at a time, however long the other waits");
      assertEquals(new KeyValue(key, b("cop-a"), la.epoch()), get(bStore, key).orElseThrow());
      assertInstanceOf(TxnResult.Committed.class, a.commit(la.fencedTxn().put(b("cop/state"), b("by a")).build()));

      long t0 = System.nanoTime();
      aElection.close(); // a's lease is no longer renewed
      EtcdElection.Leadership lb = bCampaign.get(TTL.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      long failoverMs = (System.nanoTime() - t0) / 1_000_000;
      System.err.printf("election: cop-b leads %d ms after cop-a stopped renewing (TTL %d s, poll %d ms); epochs %d -> %d%n",
          failoverMs, TTL.toSeconds(), POLL.toMillis(), la.epoch(), lb.epoch());
      assertTrue(lb.epoch() > la.epoch());
      assertEquals(new TxnResult.ConditionFailed(0), a.commit(la.fencedTxn().put(b("cop/state"), b("late write by a")).build()),
          "the deposed leader is fenced");
      assertInstanceOf(TxnResult.Committed.class, bClient.commit(lb.fencedTxn().put(b("cop/state"), b("by b")).build()));
      assertEquals(b("by b"), bClient.get(b("cop/state")).orElseThrow().value());
      lb.resign();
    } finally {
      aElection.close();
    }
  }

  @Test
  void aResigningLeaderIsReplacedWithinAPollInterval() throws Exception {
    String ns = namespace();
    ByteString key = b("cop/leader");
    try (EtcdMetadataStore aStore = process(ns); EtcdMetadataStore bStore = process(ns)) {
      EtcdElection.Leadership la = new EtcdElection(aStore, key, b("cop-a"), TTL, POLL).campaign().get(10, TimeUnit.SECONDS);
      CompletableFuture<EtcdElection.Leadership> bCampaign = new EtcdElection(bStore, key, b("cop-b"), TTL, POLL).campaign();
      try {
        bCampaign.get(300, TimeUnit.MILLISECONDS);
        throw new AssertionError("b won while a leads");
      } catch (TimeoutException expected) {
        // b waits
      }
      long t0 = System.nanoTime();
      la.resign();
      EtcdElection.Leadership lb = bCampaign.get(5, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 2_000, "replaced in " + ms + " ms");
      assertTrue(lb.epoch() > la.epoch());
      assertEquals(b("cop-b"), get(aStore, key).orElseThrow().value());
      lb.resign();
    }
  }
}
