package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One node's view of a {@link SharedObjectStore}: checks arguments, then hops every outcome onto
 * the node's executor so that promises are completed only by their owner.
 */
final class NodeObjectStore implements ObjectStore {
  private final SharedObjectStore store;
  private final Scheduler scheduler;

  NodeObjectStore(SharedObjectStore store, Scheduler scheduler) {
    this.store = Objects.requireNonNull(store, "store");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  @Override
  public Promise<GetResult> get(ObjectKey key) {
    Objects.requireNonNull(key, "key");
    return hop(() -> store.get(key, null));
  }

  @Override
  public Promise<GetResult> get(ObjectKey key, ByteRange range) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(range, "range");
    return hop(() -> store.get(key, range));
  }

  @Override
  public Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(condition, "condition");
    return hop(() -> store.put(key, data, condition));
  }

  @Override
  public Promise<Done> delete(ObjectKey key) {
    Objects.requireNonNull(key, "key");
    return hop(() -> store.delete(key));
  }

  @Override
  public Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    Objects.requireNonNull(prefix, "prefix");
    if (limit < 1 || limit > LIST_LIMIT_MAX) {
      throw new IllegalArgumentException("list limit must be 1.." + LIST_LIMIT_MAX + ": " + limit);
    }
    return hop(() -> store.list(prefix, startAfter, limit));
  }

  private <T> Promise<T> hop(java.util.function.Supplier<CompletableFuture<T>> op) {
    CompletableFuture<T> future;
    try {
      future = op.get();
    } catch (RuntimeException e) {
      // A backend that throws instead of failing its future still answers asynchronously.
      future = CompletableFuture.failedFuture(e);
    }
    return Hops.toPromise(scheduler, future);
  }
}
