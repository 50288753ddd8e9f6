package io.s2j.runtime.metadata;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Promise;
import java.util.Optional;

/**
 * A linearizable key-value store with multi-key compare-and-set transactions and ordered scans
 * (etcd's model), as seen from one component instance; promises complete on its executor.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>Linearizable: every operation takes effect atomically at one instant between its call and
 *       its completion; reads see every write that completed before they were called.
 *   <li>The store has a revision counter, starting at 0 and incremented by every committed
 *       transaction; each key written by a transaction gets that revision as its {@code
 *       modRevision}.
 *   <li>Keys order by unsigned bytes; scans return at most {@code limit} (1..{@link #SCAN_LIMIT_MAX})
 *       entries of {@code [start, end)} read at one revision.
 *   <li>Failures are {@link io.s2j.runtime.IoFailure}s: {@code UNAVAILABLE} is definite (nothing
 *       happened), {@code TIMEOUT} is indefinite (a transaction may have committed, even after the
 *       caller saw the timeout). A caller retrying a transaction after an indefinite failure must
 *       make it idempotent through its conditions.
 * </ul>
 */
public interface MetadataStore {
  int SCAN_LIMIT_MAX = 1000;

  Promise<Optional<KeyValue>> get(ByteString key);

  Promise<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit);

  Promise<TxnResult> commit(Txn txn);

  /** The smallest key greater than every key starting with {@code prefix}: the end of a prefix scan. */
  static ByteString prefixEnd(ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] != (byte) 0xff) {
        b[i]++;
        return ByteString.copyFrom(b, 0, i + 1);
      }
    }
    throw new IllegalArgumentException("prefix of only 0xff bytes has no end");
  }
}
