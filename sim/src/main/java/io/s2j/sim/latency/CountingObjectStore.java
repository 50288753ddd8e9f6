package io.s2j.sim.latency;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.Map;

/**
 * Counts the PUTs a process starts, by kind: {@code wal/<channel>} per channel, everything else
 * (segments) as {@code other}. Logical PUTs: an express chunk is one here and three replica PUTs
 * in the zonal buckets.
 */
final class CountingObjectStore implements ObjectStore {
  private final ObjectStore inner;
  private final Map<String, Long> puts;

  CountingObjectStore(ObjectStore inner, Map<String, Long> puts) {
    this.inner = inner;
    this.puts = puts;
  }

  static String kindOf(ObjectKey key) {
    String k = key.value();
    if (k.startsWith("wal/")) {
      int slash = k.indexOf('/', 4);
      return "wal/" + (slash < 0 ? k.substring(4) : k.substring(4, slash));
    }
    return "other";
  }

  @Override
  public Promise<GetResult> get(ObjectKey key) {
    return inner.get(key);
  }

  @Override
  public Promise<GetResult> get(ObjectKey key, ByteRange range) {
    return inner.get(key, range);
  }

  @Override
  public Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    puts.merge(kindOf(key), 1L, Long::sum);
    return inner.put(key, data, condition);
  }

  @Override
  public Promise<Done> delete(ObjectKey key) {
    return inner.delete(key);
  }

  @Override
  public Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    return inner.list(prefix, startAfter, limit);
  }
}
