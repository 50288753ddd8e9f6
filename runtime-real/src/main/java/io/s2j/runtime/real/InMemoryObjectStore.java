package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A bucket in this process's heap, for the embedded single-process deployment and for tests.
 *
 * <p>Every operation runs under one lock, which makes conditional writes atomic and every
 * operation linearizable at the instant it holds the lock. Etags are a content hash plus a
 * store-wide version counter, so each version's etag is unique even when bytes repeat.
 */
public final class InMemoryObjectStore implements SharedObjectStore {
  private record Version(ByteString data, ETag etag) {}

  private final Object lock = new Object();
  private final NavigableMap<String, Version> objects = new TreeMap<>(ObjectKey::compareUtf8);
  private long versions;

  @Override
  public CompletableFuture<GetResult> get(ObjectKey key, ByteRange range) {
    Version v;
    synchronized (lock) {
      v = objects.get(key.value());
    }
    if (v == null) {
      return CompletableFuture.completedFuture(new GetResult.NotFound());
    }
    return CompletableFuture.completedFuture(slice(v.data(), v.etag(), range));
  }

  @Override
  public CompletableFuture<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    String hash = Etags.contentHash(data);
    synchronized (lock) {
      Version current = objects.get(key.value());
      boolean holds = switch (condition) {
        case PutCondition.None n -> true;
        case PutCondition.IfAbsent a -> current == null;
        case PutCondition.IfMatch m -> current != null && current.etag().equals(m.etag());
      };
      if (!holds) {
        return CompletableFuture.completedFuture(new PutResult.PreconditionFailed());
      }
      ETag etag = new ETag(hash + "-" + (++versions));
      objects.put(key.value(), new Version(data, etag));
      return CompletableFuture.completedFuture(new PutResult.Written(etag));
    }
  }

  @Override
  public CompletableFuture<Done> delete(ObjectKey key) {
    synchronized (lock) {
      objects.remove(key.value());
    }
    return CompletableFuture.completedFuture(Done.DONE);
  }

  @Override
  public CompletableFuture<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    List<ObjectSummary> page = new ArrayList<>();
    boolean truncated = false;
    synchronized (lock) {
      NavigableMap<String, Version> tail =
          startAfter != null && ObjectKey.compareUtf8(startAfter.value(), prefix) >= 0
              ? objects.tailMap(startAfter.value(), false)
              : objects.tailMap(prefix, true);
      for (Map.Entry<String, Version> e : tail.entrySet()) {
        if (!e.getKey().startsWith(prefix)) {
          break;
        }
        if (page.size() == limit) {
          truncated = true;
          break;
        }
        Version v = e.getValue();
        page.add(new ObjectSummary(ObjectKey.of(e.getKey()), v.data().size(), v.etag()));
      }
    }
    return CompletableFuture.completedFuture(new ListPage(page, truncated));
  }

  @Override
  public void close() {}

  /** The whole object, or {@code range} of it cut at the end; 416 if it starts at or past the end. */
  static GetResult slice(ByteString data, ETag etag, ByteRange range) {
    long size = data.size();
    if (range == null) {
      return new GetResult.Found(data, etag, size);
    }
    if (range.offset() >= size) {
      return new GetResult.RangeNotSatisfiable(size);
    }
    long end = Math.min(size, range.offset() + range.length());
    return new GetResult.Found(data.substring((int) range.offset(), (int) end), etag, size);
  }
}
