package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ObjectStoreMetadataStoreTest {
  private static final String LOG = "meta/log/";
  private static final String SNAP = "meta/snap/";

  static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static ObjectStoreMetadataStore.Options fast() {
    return ObjectStoreMetadataStore.Options.defaults()
        .withFenceProbeInterval(Duration.ZERO)
        .withRetryBackoffMax(Duration.ofMillis(20))
        .withAckTimeout(Duration.ofSeconds(5));
  }

  static List<ObjectKey> keys(SharedObjectStore store, String prefix) {
    List<ObjectKey> out = new ArrayList<>();
    ObjectKey after = null;
    while (true) {
      ListPage page = store.list(prefix, after, 1000).join();
      page.objects().forEach(o -> out.add(o.key()));
      if (!page.truncated()) {
        return out;
      }
      after = page.objects().get(page.objects().size() - 1).key();
    }
  }

  static List<Long> seqs(SharedObjectStore store, String prefix) {
    return keys(store, prefix).stream().map(k -> MetaKeys.seqOf(prefix, k)).toList();
  }

  static void awaitSnapshotIdle(ObjectStoreMetadataStore meta) throws InterruptedException {
    for (int i = 0; i < 2000 && !meta.snapshotIdle(); i++) {
      Thread.sleep(5);
    }
    assertTrue(meta.snapshotIdle(), "snapshot still running");
  }

  /** A mixed workload: puts, overwrites, deletes, and conditions that hold or fail. */
  static List<Txn> workload(int n) {
    List<Txn> txns = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String k = "key-" + (i % 7);
      switch (i % 4) {
        case 0 -> txns.add(Txn.builder().put(b(k), b("v" + i)).put(b("last"), b(Integer.toString(i))).build());
        case 1 -> txns.add(Txn.builder().ifAbsent(b(k)).put(b(k), b("fresh" + i)).build());
        // Holds every other time: "last" was set two transactions ago, never three.
        case 2 -> txns.add(Txn.builder().ifValue(b("last"), b(Integer.toString(i - 2 - (i % 8 == 2 ? 0 : 1))))
            .delete(b("key-" + ((i + 3) % 7))).build());
        default -> txns.add(Txn.builder().put(b("empty-" + i), ByteString.EMPTY).delete(b("nope")).build());
      }
    }
    return txns;
  }

  @Test
  void recoversEveryCommittedTransaction() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    InMemoryMetadataStore model = new InMemoryMetadataStore();
    List<KeyValue> before;
    long revision;
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient client = new MetaTestClient(meta)) {
      int failed = 0;
      for (Txn t : workload(60)) {
        TxnResult r = client.commit(t);
        assertEquals(model.commit(t), r);
        failed += r instanceof TxnResult.ConditionFailed ? 1 : 0;
      }
      assertTrue(failed > 0 && failed < 60, "the workload has both outcomes: " + failed);
      before = meta.entries();
      revision = meta.revision();
      assertEquals(model.revision(), revision);
    }
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient client = new MetaTestClient(meta)) {
      assertEquals(revision, meta.revision());
      assertEquals(before, meta.entries());
      assertEquals(before, client.scan(b("\0"), b("\u007f"), 1000).entries());
      Txn next = Txn.builder().put(b("after-restart"), b("x")).build();
      assertEquals(new TxnResult.Committed(revision + 1), client.commit(next));
    }
    // Two takeover entries and one entry per committed transaction (one client, one at a time).
    assertEquals(List.of(1L, 2L), seqs(store, LOG).subList(0, 2));
  }

  @Test
  void recoversFromTheNewestSnapshotAndTheLogAfterIt() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    InMemoryMetadataStore model = new InMemoryMetadataStore();
    List<KeyValue> before;
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast().withSnapshotEvery(5, Long.MAX_VALUE));
        MetaTestClient client = new MetaTestClient(meta)) {
      for (Txn t : workload(43)) {
        assertEquals(model.commit(t), client.commit(t));
      }
      awaitSnapshotIdle(meta);
      before = meta.entries();
    }
    List<Long> snaps = seqs(store, SNAP);
    assertEquals(1, snaps.size(), "older snapshots are collected: " + snaps);
    assertTrue(snaps.get(0) >= 5, "snapshots were taken: " + snaps);
    List<Long> logs = seqs(store, LOG);
    assertTrue(logs.stream().allMatch(s -> s > snaps.get(0)), "log entries up to the snapshot are collected: " + logs + " " + snaps);
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast())) {
      assertEquals(model.revision(), meta.revision());
      assertEquals(before, meta.entries());
    }
  }

  @Test
  void aCrashBeforeTheSnapshotIsDurableRecoversFromTheOlderOneAndTheWholeLog() throws Exception {
    InMemoryObjectStore raw = new InMemoryObjectStore();
    FaultyObjectStore store = new FaultyObjectStore(raw, 1);
    InMemoryMetadataStore model = new InMemoryMetadataStore();
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast().withSnapshotEvery(4, Long.MAX_VALUE));
        MetaTestClient client = new MetaTestClient(meta)) {
      List<Txn> txns = workload(30);
      for (Txn t : txns.subList(0, 10)) {
        assertEquals(model.commit(t), client.commit(t));
      }
      awaitSnapshotIdle(meta);
      long firstSnapshot = seqs(raw, SNAP).get(0);
      // From now on, snapshots never become durable: the process "crashes" before each one.
      store.refusePuts = k -> k.value().startsWith(SNAP);
      for (Txn t : txns.subList(10, 30)) {
        assertEquals(model.commit(t), client.commit(t));
      }
      awaitSnapshotIdle(meta);
      assertEquals(List.of(firstSnapshot), seqs(raw, SNAP));
      assertTrue(store.injected(FaultyObjectStore.Fault.DEFINITE) > 0);
    }
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(raw, fast())) {
      assertEquals(model.revision(), meta.revision());
      assertEquals(modelEntries(model), meta.entries());
    }
  }

  @Test
  void aCrashBetweenSnapshotAndGarbageCollectionRecoversFromTheNewestSnapshot() throws Exception {
    InMemoryObjectStore raw = new InMemoryObjectStore();
    FaultyObjectStore store = new FaultyObjectStore(raw, 2);
    store.refuseDeletes = k -> true;
    InMemoryMetadataStore model = new InMemoryMetadataStore();
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast().withSnapshotEvery(4, Long.MAX_VALUE));
        MetaTestClient client = new MetaTestClient(meta)) {
      for (Txn t : workload(25)) {
        assertEquals(model.commit(t), client.commit(t));
      }
      awaitSnapshotIdle(meta);
      // Snapshots run on their own thread and group commit may merge transactions, so how many were
      // taken depends on timing (a loaded CI machine once took one): one more transaction and an
      // explicit snapshot make sure there are two or more, all still there.
      if (seqs(raw, SNAP).size() < 2) {
        Txn extra = Txn.builder().put(ByteString.copyFromUtf8("extra"), ByteString.copyFromUtf8("x")).build();
        assertEquals(model.commit(extra), client.commit(extra));
        awaitSnapshotIdle(meta);
        assertTrue(meta.snapshotNow());
      }
    }
    assertTrue(seqs(raw, SNAP).size() >= 2, "several snapshots, none collected: " + seqs(raw, SNAP));
    assertEquals(1L, seqs(raw, LOG).get(0), "no log entry collected");
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(raw, fast())) {
      assertEquals(model.revision(), meta.revision());
      assertEquals(modelEntries(model), meta.entries());
      assertTrue(meta.snapshotNow());
      assertEquals(List.of(meta.lastLogSeq()), seqs(raw, SNAP), "the new writer collects the old snapshots");
      assertEquals(List.of(), seqs(raw, LOG), "and every log entry its snapshot covers");
    }
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(raw, fast())) {
      assertEquals(modelEntries(model), meta.entries());
    }
  }

  static List<KeyValue> modelEntries(InMemoryMetadataStore model) {
    return model.scan(ByteString.EMPTY, ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff}), 1000).entries();
  }

  @Test
  void aSecondWriterFencesTheFirstForGood() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    AtomicReference<IoFailure> fencedA = new AtomicReference<>();
    try (ObjectStoreMetadataStore a = ObjectStoreMetadataStore.open(store, fast().withOnFenced(fencedA::set));
        MetaTestClient ca = new MetaTestClient(a)) {
      assertEquals(new TxnResult.Committed(1), ca.commit(Txn.builder().put(b("k1"), b("a")).build()));
      try (ObjectStoreMetadataStore bStore = ObjectStoreMetadataStore.open(store, fast());
          MetaTestClient cb = new MetaTestClient(bStore)) {
        assertEquals(b("a"), cb.get(b("k1")).orElseThrow().value(), "the new writer has the old one's acknowledged writes");

        MetaTestClient.Outcome lost = ca.tryCommit(Txn.builder().put(b("k2"), b("a")).build());
        assertTrue(lost.definiteFailure(), "the displaced writer's commit fails definitely: " + lost);
        assertEquals(IoFailure.Kind.REJECTED, lost.failure().kind());
        assertTrue(a.fencedBy().isPresent());
        assertEquals(a.fencedBy().get(), fencedA.get(), "onFenced was called with the failure");
        assertTrue(lost.failure().getMessage().contains(bStore.writerId()), lost.failure().getMessage());

        MetaTestClient.Outcome again = ca.tryCommit(Txn.builder().put(b("k3"), b("a")).build());
        assertTrue(again.definiteFailure(), "it stays fenced: " + again);
        IoFailure readFailure = assertThrows(IoFailure.class, () -> ca.get(b("k1")));
        assertEquals(IoFailure.Kind.REJECTED, readFailure.kind(), "a fenced store serves no stale reads");

        assertTrue(cb.get(b("k2")).isEmpty());
        assertEquals(new TxnResult.Committed(2), cb.commit(Txn.builder().put(b("k4"), b("b")).build()));
      }
    }
    try (ObjectStoreMetadataStore c = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient cc = new MetaTestClient(c)) {
      assertEquals(2, c.revision());
      assertTrue(cc.get(b("k1")).isPresent());
      assertTrue(cc.get(b("k2")).isEmpty());
      assertTrue(cc.get(b("k3")).isEmpty());
      assertTrue(cc.get(b("k4")).isPresent());
    }
  }

  /**
   * Two servers on one --local-root: each has its own {@link LocalDirObjectStore} (as two processes
   * would, so its per-key locks do not see the other's), yet If-None-Match puts of one key have one
   * winner, and the second server fences the first.
   */
  @Test
  void twoLocalDirStoresOnOneDirectoryStillFenceEachOther(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    try (LocalDirObjectStore s1 = new LocalDirObjectStore(dir);
        LocalDirObjectStore s2 = new LocalDirObjectStore(dir)) {
      for (int i = 0; i < 30; i++) {
        ObjectKey key = ObjectKey.of("race/" + i);
        CompletableFuture<io.s2j.runtime.objectstore.PutResult> p1 = s1.put(key, b("one"), PutCondition.IF_ABSENT);
        CompletableFuture<io.s2j.runtime.objectstore.PutResult> p2 = s2.put(key, b("two"), PutCondition.IF_ABSENT);
        long written = java.util.stream.Stream.of(p1.join(), p2.join())
            .filter(r -> r instanceof io.s2j.runtime.objectstore.PutResult.Written).count();
        assertEquals(1, written, "one winner for " + key);
      }
      try (ObjectStoreMetadataStore a = ObjectStoreMetadataStore.open(s1, fast());
          MetaTestClient ca = new MetaTestClient(a)) {
        assertTrue(ca.tryCommit(Txn.builder().put(b("k1"), b("a")).build()).committed());
        try (ObjectStoreMetadataStore bStore = ObjectStoreMetadataStore.open(s2, fast());
            MetaTestClient cb = new MetaTestClient(bStore)) {
          assertTrue(ca.tryCommit(Txn.builder().put(b("k2"), b("a")).build()).definiteFailure());
          assertTrue(cb.tryCommit(Txn.builder().put(b("k3"), b("b")).build()).committed());
          assertTrue(cb.get(b("k1")).isPresent());
          assertTrue(cb.get(b("k2")).isEmpty());
        }
      }
    }
  }

  @Test
  void anIdleDisplacedWriterNoticesTheTakeoverByProbing() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    AtomicReference<IoFailure> fencedA = new AtomicReference<>();
    try (ObjectStoreMetadataStore a = ObjectStoreMetadataStore.open(store,
            fast().withFenceProbeInterval(Duration.ofMillis(50)).withOnFenced(fencedA::set));
        ObjectStoreMetadataStore b = ObjectStoreMetadataStore.open(store, fast())) {
      for (int i = 0; i < 200 && fencedA.get() == null; i++) {
        Thread.sleep(10);
      }
      assertTrue(a.fencedBy().isPresent(), "fenced without writing");
      assertTrue(b.fencedBy().isEmpty());
    }
  }

  /**
   * The writer after the takeover snapshots and garbage-collects the log entry the displaced writer
   * will write next, so the displaced writer's conditional put succeeds: the check for a snapshot
   * covering it must still fence it, and its entry must never be replayed.
   */
  @Test
  void aDisplacedWriterWhoseNextEntryWasCollectedIsStillFenced() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    long aNext;
    try (ObjectStoreMetadataStore a = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient ca = new MetaTestClient(a)) {
      ca.commit(Txn.builder().put(b("k1"), b("a")).build());
      aNext = a.lastLogSeq() + 1;
      try (ObjectStoreMetadataStore bStore = ObjectStoreMetadataStore.open(store, fast());
          MetaTestClient cb = new MetaTestClient(bStore)) {
        for (int i = 0; i < 5; i++) {
          cb.commit(Txn.builder().put(b("b" + i), b("b")).build());
        }
        assertTrue(bStore.snapshotNow());
        assertFalse(seqs(store, LOG).contains(aNext), "the entry a writes next is collected");

        MetaTestClient.Outcome lost = ca.tryCommit(Txn.builder().put(b("k2"), b("a")).build());
        assertTrue(lost.definiteFailure(), "fenced: " + lost);
        assertTrue(lost.failure().getMessage().contains("snapshot"), lost.failure().getMessage());
        assertTrue(seqs(store, LOG).contains(aNext), "a's put landed, as garbage below the snapshot");
        assertTrue(cb.get(b("k2")).isEmpty());
      }
    }
    try (ObjectStoreMetadataStore c = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient cc = new MetaTestClient(c)) {
      assertTrue(cc.get(b("k2")).isEmpty(), "the garbage entry is never replayed");
      assertEquals(6, c.revision());
      assertTrue(c.snapshotNow());
      assertFalse(seqs(store, LOG).contains(aNext), "and it is collected with the rest");
    }
  }

  @Test
  void concurrentOpensLeaveExactlyOneWriter() throws Exception {
    for (int round = 0; round < 5; round++) {
      InMemoryObjectStore store = new InMemoryObjectStore();
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<ObjectStoreMetadataStore> fa = pool.submit(() -> ObjectStoreMetadataStore.open(store, fast()));
        Future<ObjectStoreMetadataStore> fb = pool.submit(() -> ObjectStoreMetadataStore.open(store, fast()));
        try (ObjectStoreMetadataStore a = fa.get();
            ObjectStoreMetadataStore bStore = fb.get();
            MetaTestClient ca = new MetaTestClient(a);
            MetaTestClient cb = new MetaTestClient(bStore)) {
          assertFalse(a.lastLogSeq() == bStore.lastLogSeq(), "two takeovers at one sequence number");
          MetaTestClient.Outcome oa = ca.tryCommit(Txn.builder().put(b("a"), b("1")).build());
          MetaTestClient.Outcome ob = cb.tryCommit(Txn.builder().put(b("b"), b("1")).build());
          assertTrue(oa.committed() != ob.committed(), "exactly one writer commits: " + oa + " " + ob);
          MetaTestClient.Outcome loser = oa.committed() ? ob : oa;
          assertTrue(loser.definiteFailure(), loser.toString());
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void groupCommitJudgesConditionsAgainstEarlierTransactionsOfTheBatchAndReadsSeeOnlyDurableWrites() throws Exception {
    InMemoryObjectStore raw = new InMemoryObjectStore();
    FaultyObjectStore store = new FaultyObjectStore(raw, 3);
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient client = new MetaTestClient(meta)) {
      store.putDelayMillis = 300;
      int logsBefore = seqs(raw, LOG).size();
      CompletableFuture<List<MetaTestClient.Outcome>> batch = CompletableFuture.supplyAsync(() -> client.tryCommitAll(List.of(
          Txn.builder().put(b("slow"), b("0")).build(),
          Txn.builder().ifAbsent(b("a")).put(b("a"), b("1")).build(),
          Txn.builder().ifAbsent(b("a")).put(b("a"), b("2")).build(),
          Txn.builder().ifValue(b("a"), b("1")).put(b("b"), b("1")).build(),
          Txn.builder().ifRevision(b("b"), 0).put(b("c"), b("1")).build())));
      Thread.sleep(100);
      assertTrue(client.get(b("slow")).isEmpty(), "a write whose log entry is not durable is invisible");
      assertTrue(client.get(b("a")).isEmpty());
      List<MetaTestClient.Outcome> outcomes = batch.get();
      assertEquals(new TxnResult.Committed(1), outcomes.get(0).result());
      assertEquals(new TxnResult.Committed(2), outcomes.get(1).result());
      assertEquals(new TxnResult.ConditionFailed(0), outcomes.get(2).result());
      assertEquals(new TxnResult.Committed(3), outcomes.get(3).result());
      assertEquals(new TxnResult.ConditionFailed(0), outcomes.get(4).result());
      assertEquals(b("1"), client.get(b("a")).orElseThrow().value());
      assertEquals(3, client.get(b("b")).orElseThrow().modRevision());
      int entries = seqs(raw, LOG).size() - logsBefore;
      assertTrue(entries < 3, "transactions that arrive during a log write share the next one: " + entries + " entries");
    }
  }

  @Test
  void aDamagedLogEntryStopsRecoveryLoudly() throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast());
        MetaTestClient client = new MetaTestClient(meta)) {
      client.commit(Txn.builder().put(b("k"), b("v")).build());
    }
    ObjectKey entry = keys(store, LOG).get(1);
    ByteString data = ((GetResult.Found) store.get(entry, null).join()).data();
    byte[] damaged = data.toByteArray();
    damaged[damaged.length / 2] ^= 0x01;
    store.put(entry, ByteString.copyFrom(damaged), PutCondition.NONE).join();
    MetaCodec.FormatException e = assertThrows(MetaCodec.FormatException.class, () -> ObjectStoreMetadataStore.open(store, fast()));
    assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
  }

  /**
   * Faults on every object store operation: no acknowledged transaction is lost, none that failed
   * definitely is ever visible, and every revision belongs to exactly one transaction.
   */
  @Test
  void injectedFailuresLoseNoAcknowledgedTransactionAndExposeNoFailedOne() throws Exception {
    java.util.EnumMap<FaultyObjectStore.Fault, Integer> injected = new java.util.EnumMap<>(FaultyObjectStore.Fault.class);
    for (long seed = 1; seed <= 3; seed++) {
      InMemoryObjectStore raw = new InMemoryObjectStore();
      FaultyObjectStore store = new FaultyObjectStore(raw, seed);
      store.putFaultRate = 0.25;
      store.readFaultRate = 0.1;
      store.deleteFaultRate = 0.2;
      ObjectStoreMetadataStore.Options options = fast().withSnapshotEvery(6, Long.MAX_VALUE).withAckTimeout(Duration.ofSeconds(1));
      List<MetaTestClient.Outcome> outcomes = new ArrayList<>();
      List<KeyValue> finalEntries;
      int n = 320;
      try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, options);
          MetaTestClient client = new MetaTestClient(meta)) {
        for (int i = 0; i < n; i += 4) {
          List<Txn> group = new ArrayList<>();
          for (int j = i; j < i + 4; j++) {
            group.add(Txn.builder().ifAbsent(b("t" + j)).put(b("t" + j), b("v" + j)).build());
          }
          List<MetaTestClient.Outcome> got = client.tryCommitAll(group);
          for (int j = 0; j < got.size(); j++) {
            MetaTestClient.Outcome o = got.get(j);
            outcomes.add(o);
            Optional<KeyValue> kv = client.get(b("t" + (i + j)));
            if (o.committed()) {
              assertEquals(o.revision(), kv.orElseThrow().modRevision(), "acknowledged and visible at its revision");
            } else if (o.definiteFailure()) {
              assertTrue(kv.isEmpty(), "a definitely failed transaction is not visible: " + o);
            } else {
              assertTrue(o.indefiniteFailure(), "unexpected outcome " + o);
            }
          }
        }
        // Heal, let unresolved writes settle, and check the writer carries on.
        store.heal();
        assertTrue(client.tryCommit(Txn.builder().put(b("z-final"), b("x")).build()).committed());
        finalEntries = meta.entries();
        awaitSnapshotIdle(meta);
      }
      store.quiesce();
      long committed = outcomes.stream().filter(MetaTestClient.Outcome::committed).count();
      long definite = outcomes.stream().filter(MetaTestClient.Outcome::definiteFailure).count();
      long indefinite = outcomes.stream().filter(MetaTestClient.Outcome::indefiniteFailure).count();
      System.err.printf("fault injection seed %d: %d committed or condition-checked, %d definite failures, %d indefinite; faults %s%n",
          seed, outcomes.size() - definite - indefinite, definite, indefinite, faultCounts(store));
      assertTrue(committed > n / 2, "most commit: " + committed);
      assertTrue(definite > 0, "some fail definitely (seed " + seed + ")");
      for (FaultyObjectStore.Fault f : FaultyObjectStore.Fault.values()) {
        injected.merge(f, store.injected(f), Integer::sum);
      }
      try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(raw, fast());
          MetaTestClient client = new MetaTestClient(meta)) {
        assertEquals(finalEntries, meta.entries(), "the recovered state is the state the writer served");
        TreeSet<Long> revisions = new TreeSet<>();
        for (int i = 0; i < n; i++) {
          MetaTestClient.Outcome o = outcomes.get(i);
          Optional<KeyValue> kv = client.get(b("t" + i));
          if (o.committed()) {
            assertEquals(o.revision(), kv.orElseThrow().modRevision(), "acknowledged t" + i + " survives");
          } else if (o.definiteFailure()) {
            assertTrue(kv.isEmpty(), "definitely failed t" + i + " never appears");
          }
          kv.ifPresent(x -> assertTrue(revisions.add(x.modRevision()), "one revision, one transaction"));
        }
        revisions.add(meta.revision());
        assertEquals(meta.revision(), revisions.size(), "every revision belongs to exactly one transaction: " + revisions);
      }
    }
    for (FaultyObjectStore.Fault f : FaultyObjectStore.Fault.values()) {
      assertTrue(injected.get(f) > 0, f + " was injected: " + injected);
    }
  }

  @Test
  void aLogWriteUnresolvedPastTheAckTimeoutIsReportedIndefiniteAndResolvedLater() throws Exception {
    InMemoryObjectStore raw = new InMemoryObjectStore();
    FaultyObjectStore store = new FaultyObjectStore(raw, 4);
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, fast().withAckTimeout(Duration.ofMillis(300)));
        MetaTestClient client = new MetaTestClient(meta)) {
      store.forcedPutFault = FaultyObjectStore.Fault.TIMEOUT_NOT_APPLIED;
      CompletableFuture<MetaTestClient.Outcome> first = CompletableFuture.supplyAsync(
          () -> client.tryCommit(Txn.builder().put(b("k1"), b("v")).build()));
      Thread.sleep(50);
      MetaTestClient.Outcome second = client.tryCommit(Txn.builder().put(b("k2"), b("v")).build());
      MetaTestClient.Outcome one = first.get();
      assertTrue(one.indefiniteFailure(), "unresolved at the deadline: " + one);
      assertEquals(IoFailure.Kind.TIMEOUT, one.failure().kind());
      assertTrue(second.definiteFailure(), "still queued at its deadline, so never written: " + second);
      assertTrue(client.get(b("k1")).isEmpty(), "not visible while unresolved");
      store.heal();
      for (int i = 0; i < 500 && client.get(b("k1")).isEmpty(); i++) {
        Thread.sleep(10);
      }
      assertEquals(1, client.get(b("k1")).orElseThrow().modRevision(), "the retried write resolved as committed");
      assertTrue(client.get(b("k2")).isEmpty());
      assertEquals(new TxnResult.Committed(2), client.commit(Txn.builder().put(b("k3"), b("v")).build()));
    }
    try (ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(raw, fast());
        MetaTestClient client = new MetaTestClient(meta)) {
      assertTrue(client.get(b("k1")).isPresent());
      assertTrue(client.get(b("k2")).isEmpty());
      assertEquals(2, meta.revision());
    }
  }

  static String faultCounts(FaultyObjectStore store) {
    StringBuilder sb = new StringBuilder();
    for (FaultyObjectStore.Fault f : FaultyObjectStore.Fault.values()) {
      sb.append(f).append('=').append(store.injected(f)).append(' ');
    }
    return sb.toString().trim();
  }

  @Test
  void snapshotFormatRoundTripsTheState() {
    List<KeyValue> entries = List.of(
        new KeyValue(b("a"), ByteString.EMPTY, 3),
        new KeyValue(ByteString.copyFrom(new byte[] {(byte) 0xff}), b("x"), 7));
    ByteString bytes = MetaCodec.encodeSnapshot(MetaCodec.snapshotOf(9, 7, b("writer"), entries));
    var state = MetaCodec.stateOf("t", MetaCodec.decodeSnapshot("t", bytes));
    assertEquals(7, state.revision());
    assertEquals(entries, state.entries());
    assertThrows(MetaCodec.FormatException.class, () -> MetaCodec.decodeLog("t", bytes), "a snapshot is not a log entry");
  }
}
