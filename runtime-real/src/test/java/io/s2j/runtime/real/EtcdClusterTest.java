package io.s2j.runtime.real;

import static io.s2j.runtime.real.ObjectStoreMetadataStoreTest.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link EtcdMetadataStore} on a 3-member etcd cluster whose leader is killed (-9) mid-run: a
 * client that resolves indefinite outcomes by re-reading, as components must, loses no
 * acknowledged write and applies none twice, and the store is back within a few seconds.
 */
class EtcdClusterTest {
  @Test
  void aCasCounterSurvivesTheLeadersDeath() throws Exception {
    List<EtcdProcess> cluster = EtcdProcess.startClusterOrSkip(3);
    try {
      List<URI> endpoints = cluster.stream().map(EtcdProcess::clientUrl).toList();
      EtcdMetadataStore store = EtcdMetadataStore.connect(
          EtcdMetadataStore.Options.of(endpoints, b("cluster/")).withRequestTimeout(Duration.ofSeconds(1)));
      try (store; MetaTestClient client = new MetaTestClient(store::view)) {
        ByteString counter = b("counter");
        assertTrue(client.commit(Txn.builder().put(counter, b("0")).build()) instanceof TxnResult.Committed);
        int steps = 60;
        int indefinite = 0;
        int definite = 0;
        int resolvedAsApplied = 0;
        long worstGapMs = 0;
        EtcdProcess killed = null;
        for (int i = 0; i < steps; i++) {
          if (i == 20) {
            for (EtcdProcess m : cluster) {
              if (m.isLeader()) {
                killed = m;
              }
            }
            assertTrue(killed != null, "a leader");
            killed.process().destroyForcibly();
            killed.process().waitFor(10, TimeUnit.SECONDS);
          }
          long firstFailure = 0;
          while (true) {
            MetaTestClient.Outcome o = client.tryCommit(
                Txn.builder().ifValue(counter, b(Integer.toString(i))).put(counter, b(Integer.toString(i + 1))).build());
            if (o.committed()) {
              break;
            }
            if (o.result() instanceof TxnResult.ConditionFailed) {
              // Only an earlier attempt of this step, which failed indefinitely, can have moved it.
              Optional<KeyValue> now = readRetrying(client, counter);
              assertEquals(b(Integer.toString(i + 1)), now.orElseThrow().value(), "step " + i + " applied exactly once");
              resolvedAsApplied++;
              break;
            }
            if (firstFailure == 0) {
              firstFailure = System.nanoTime();
            }
            if (o.indefiniteFailure()) {
              indefinite++;
            } else {
              definite++;
            }
            assertTrue(System.nanoTime() - firstFailure < TimeUnit.SECONDS.toNanos(30), "no progress for 30 s: " + o);
            Thread.sleep(50);
          }
          if (firstFailure != 0) {
            worstGapMs = Math.max(worstGapMs, (System.nanoTime() - firstFailure) / 1_000_000);
          }
        }
        assertEquals(b(Integer.toString(steps)), readRetrying(client, counter).orElseThrow().value());
        System.err.printf("etcd cluster: leader killed at step 20; %d indefinite and %d definite failures, "
            + "%d indefinite ones resolved as applied, longest unavailability %d ms%n",
            indefinite, definite, resolvedAsApplied, worstGapMs);
      }
    } finally {
      cluster.forEach(EtcdProcess::close);
    }
  }

  private static Optional<KeyValue> readRetrying(MetaTestClient client, ByteString key) throws InterruptedException {
    for (int i = 0; ; i++) {
      try {
        return client.get(key);
      } catch (io.s2j.runtime.IoFailure f) {
        assertTrue(i < 300, "reads failing for 30 s: " + f);
        Thread.sleep(100);
      }
    }
  }
}
