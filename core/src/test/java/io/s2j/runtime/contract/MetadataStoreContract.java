package io.s2j.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@link MetadataStore} contract, run against every implementation. */
public abstract class MetadataStoreContract {
  protected abstract SeamHarness newHarness() throws Exception;

  private SeamHarness harness;
  private Env env;

  @BeforeEach
  public void setUp() throws Exception {
    harness = newHarness();
    env = harness.env("meta-client");
  }

  @AfterEach
  public void tearDown() throws Exception {
    harness.close();
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private TxnResult commit(Txn txn) {
    return harness.await(env, e -> e.metadataStore().commit(txn));
  }

  private Optional<KeyValue> get(ByteString key) {
    return harness.await(env, e -> e.metadataStore().get(key));
  }

  @Test
  public void putGetAndRevisions() {
    assertTrue(get(b("k")).isEmpty());
    long r1 = assertInstanceOf(TxnResult.Committed.class, commit(Txn.builder().put(b("k"), b("v1")).build())).revision();
    KeyValue kv = get(b("k")).orElseThrow();
    assertEquals(b("v1"), kv.value());
    assertEquals(r1, kv.modRevision());
    long r2 = assertInstanceOf(TxnResult.Committed.class, commit(Txn.builder().put(b("other"), b("x")).build())).revision();
    assertTrue(r2 > r1, "revisions increase");
    assertEquals(r1, get(b("k")).orElseThrow().modRevision(), "untouched keys keep their revision");
  }

  @Test
  public void conditionsGuardAllWritesAtomically() {
    commit(Txn.builder().put(b("a"), b("1")).build());
    long ra = get(b("a")).orElseThrow().modRevision();
    TxnResult failed = commit(Txn.builder().ifRevision(b("a"), ra).ifAbsent(b("a")).put(b("b"), b("2")).put(b("a"), b("x")).build());
    assertEquals(new TxnResult.ConditionFailed(1), failed);
    assertTrue(get(b("b")).isEmpty(), "nothing of a failed transaction is written");
    assertEquals(b("1"), get(b("a")).orElseThrow().value());

    assertInstanceOf(TxnResult.Committed.class,
        commit(Txn.builder().ifRevision(b("a"), ra).ifAbsent(b("b")).ifValue(b("a"), b("1")).put(b("b"), b("2")).delete(b("a")).build()));
    assertTrue(get(b("a")).isEmpty());
    assertEquals(b("2"), get(b("b")).orElseThrow().value());
    assertEquals(new TxnResult.ConditionFailed(0), commit(Txn.builder().ifRevision(b("a"), ra).put(b("c"), b("3")).build()));
  }

  @Test
  public void scansAreOrderedByUnsignedBytesAndPaginate() {
    List<ByteString> keys = List.of(
        ByteString.copyFrom(new byte[] {1, (byte) 0x80}),
        ByteString.copyFrom(new byte[] {1, 0x7f}),
        ByteString.copyFrom(new byte[] {1, (byte) 0xff, 0}),
        ByteString.copyFrom(new byte[] {1}),
        ByteString.copyFrom(new byte[] {1, 0}),
        ByteString.copyFrom(new byte[] {2}));
    for (ByteString k : keys) {
      commit(Txn.builder().put(k, k).build());
    }
    ByteString start = ByteString.copyFrom(new byte[] {1});
    ByteString end = MetadataStore.prefixEnd(start);
    List<ByteString> seen = new ArrayList<>();
    ByteString from = start;
    for (int pages = 0; ; pages++) {
      ByteString f = from;
      ScanPage page = harness.await(env, e -> e.metadataStore().scan(f, end, 2));
      assertTrue(page.entries().size() <= 2);
      page.entries().forEach(kv -> seen.add(kv.key()));
      if (!page.more()) {
        break;
      }
      from = page.entries().get(page.entries().size() - 1).key().concat(ByteString.copyFrom(new byte[] {0}));
      assertTrue(pages < 10);
    }
    List<ByteString> expected = new ArrayList<>(keys.subList(0, 5));
    expected.sort(ByteString.unsignedLexicographicalComparator());
    assertEquals(expected, seen);
  }

  @Test
  public void concurrentCompareAndSetsHaveExactlyOneWinner() {
    commit(Txn.builder().put(b("counter"), b("0")).build());
    long rev = get(b("counter")).orElseThrow().modRevision();
    List<TxnResult> results = harness.await(env, e -> {
      List<Promise<TxnResult>> txns = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        txns.add(e.metadataStore().commit(Txn.builder().ifRevision(b("counter"), rev).put(b("counter"), b("winner-" + i)).build()));
      }
      return Promise.all(e.scheduler(), txns);
    });
    assertEquals(1, results.stream().filter(r -> r instanceof TxnResult.Committed).count(), results.toString());
    assertFalse(get(b("counter")).orElseThrow().value().equals(b("0")));
  }
}
