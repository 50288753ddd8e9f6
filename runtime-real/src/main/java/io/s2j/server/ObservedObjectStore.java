package io.s2j.server;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import io.s2j.runtime.real.SharedObjectStore;
import java.util.concurrent.CompletableFuture;

/**
 * The server's object store, counted for {@code /metrics}: requests by operation, key class and
 * outcome, bytes written, puts in flight. Keys are classed by their first path component as the
 * components write them: {@code wal/} (channel chunks and fence tombstones), {@code seg/}
 * (segments), {@code meta/} (the durable metadata store), anything else {@code other}. This is how
 * chunk writes are observed without touching the channel, which runs on its own executor.
 */
final class ObservedObjectStore implements SharedObjectStore {
  private final SharedObjectStore inner;
  private final ServerMetrics metrics;

  ObservedObjectStore(SharedObjectStore inner, ServerMetrics metrics) {
    this.inner = inner;
    this.metrics = metrics;
  }

  static String keyClass(String key) {
    if (key.startsWith("wal/")) {
      return "wal";
    }
    if (key.startsWith("seg/")) {
      return "seg";
    }
    if (key.startsWith("meta/")) {
      return "meta";
    }
    return "other";
  }

  @Override
  public CompletableFuture<GetResult> get(ObjectKey key, ByteRange range) {
    String c = keyClass(key.value());
    return inner.get(key, range).whenComplete((r, f) -> metrics.storeRequest("get", c, f == null));
  }

  @Override
  public CompletableFuture<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    String c = keyClass(key.value());
    metrics.storePutStarted(c);
    CompletableFuture<PutResult> f;
    try {
      f = inner.put(key, data, condition);
    } catch (RuntimeException e) {
      metrics.storePutEnded(c);
      throw e;
    }
    return f.whenComplete((r, failure) -> {
      metrics.storePutEnded(c);
      metrics.storeRequest("put", c, failure == null);
      if (r instanceof PutResult.Written) {
        metrics.storeWritten(c, data.size());
      }
    });
  }

  @Override
  public CompletableFuture<Done> delete(ObjectKey key) {
    String c = keyClass(key.value());
    return inner.delete(key).whenComplete((r, f) -> metrics.storeRequest("delete", c, f == null));
  }

  @Override
  public CompletableFuture<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    String c = keyClass(prefix);
    return inner.list(prefix, startAfter, limit).whenComplete((r, f) -> metrics.storeRequest("list", c, f == null));
  }

  @Override
  public void close() {
    inner.close();
  }
}
