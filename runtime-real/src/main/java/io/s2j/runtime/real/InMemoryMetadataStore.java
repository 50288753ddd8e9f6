package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataState;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * An etcd-like store in this process's heap, shared by every node of a {@link RealRuntime}: the
 * metadata store of the embedded single-process deployment and of tests.
 *
 * <p>Every operation runs under one lock, on the calling thread, so it takes effect at one instant
 * between call and completion (linearizable); {@link #view(Scheduler)} then hops the result onto
 * the caller's executor.
 */
public final class InMemoryMetadataStore {
  private final Object lock = new Object();
  private final MetadataState state = new MetadataState();

  /** This store as seen from the node whose executor is {@code scheduler}. */
  public MetadataStore view(Scheduler scheduler) {
    Objects.requireNonNull(scheduler, "scheduler");
    return new MetadataStore() {
      @Override
      public Promise<Optional<KeyValue>> get(ByteString key) {
        Objects.requireNonNull(key, "key");
        return hop(scheduler, () -> InMemoryMetadataStore.this.get(key));
      }

      @Override
      public Promise<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit) {
        Objects.requireNonNull(startInclusive, "startInclusive");
        Objects.requireNonNull(endExclusive, "endExclusive");
        if (limit < 1 || limit > SCAN_LIMIT_MAX) {
          throw new IllegalArgumentException("scan limit must be 1.." + SCAN_LIMIT_MAX + ": " + limit);
        }
        return hop(scheduler, () -> InMemoryMetadataStore.this.scan(startInclusive, endExclusive, limit));
      }

      @Override
      public Promise<TxnResult> commit(Txn txn) {
        Objects.requireNonNull(txn, "txn");
        return hop(scheduler, () -> InMemoryMetadataStore.this.commit(txn));
      }
    };
  }

  /** The current store revision: 0 until the first commit. */
  public long revision() {
    synchronized (lock) {
      return state.revision();
    }
  }

  Optional<KeyValue> get(ByteString key) {
    synchronized (lock) {
      return state.get(key);
    }
  }

  ScanPage scan(ByteString startInclusive, ByteString endExclusive, int limit) {
    synchronized (lock) {
      return state.scan(startInclusive, endExclusive, limit);
    }
  }

  TxnResult commit(Txn txn) {
    synchronized (lock) {
      return state.commit(txn);
    }
  }

  private static <T> Promise<T> hop(Scheduler scheduler, Supplier<T> op) {
    Promise<T> promise = Promise.create(scheduler);
    T result;
    try {
      result = op.get();
    } catch (RuntimeException e) {
      scheduler.execute(() -> promise.fail(e));
      return promise;
    }
    // Completing later, on the owner, keeps callbacks off the caller's stack and thread.
    scheduler.execute(() -> promise.complete(result));
    return promise;
  }
}
