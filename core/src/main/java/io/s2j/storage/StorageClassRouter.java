package io.s2j.storage;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The object store a cell's components see: the write-ahead log of an express channel ({@code
 * wal/<channel id>/…}) lives in the express store (a {@link QuorumObjectStore} over three zonal
 * buckets), everything else (standard channels' logs, segments) in the regional bucket. Routing by
 * key means every component that touches a log — the channel, garbage collection, audits — reaches
 * the right buckets without knowing about storage classes.
 *
 * <p>A listing whose prefix could cover keys of both stores (e.g. {@code "wal/"}) merges the two,
 * each filtered to the keys it owns.
 */
public final class StorageClassRouter implements ObjectStore {
  static final String WAL = "wal/";

  private final Scheduler scheduler;
  private final ObjectStore regional;
  private final ObjectStore express;
  private final Predicate<String> expressChannel;

  /**
   * @param expressChannel whether a channel id is an express channel (its log goes to {@code
   *     express}); must not change for a channel while it has a log
   */
  public StorageClassRouter(Scheduler scheduler, ObjectStore regional, ObjectStore express, Predicate<String> expressChannel) {
    this.scheduler = scheduler;
    this.regional = regional;
    this.express = express;
    this.expressChannel = expressChannel;
  }

  /** True if {@code key} is in an express channel's log. */
  public boolean isExpress(ObjectKey key) {
    return isExpressKey(key.value());
  }

  private boolean isExpressKey(String key) {
    if (!key.startsWith(WAL)) {
      return false;
    }
    int slash = key.indexOf('/', WAL.length());
    return slash > WAL.length() && expressChannel.test(key.substring(WAL.length(), slash));
  }

  private ObjectStore storeOf(ObjectKey key) {
    return isExpress(key) ? express : regional;
  }

  @Override
  public Promise<GetResult> get(ObjectKey key) {
    return storeOf(key).get(key);
  }

  @Override
  public Promise<GetResult> get(ObjectKey key, ByteRange range) {
    return storeOf(key).get(key, range);
  }

  @Override
  public Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    return storeOf(key).put(key, data, condition);
  }

  @Override
  public Promise<Done> delete(ObjectKey key) {
    return storeOf(key).delete(key);
  }

  @Override
  public Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    // A prefix naming one channel's log ("wal/<id>/…") belongs to one store.
    if (prefix.startsWith(WAL) && prefix.indexOf('/', WAL.length()) > WAL.length()) {
      return (isExpressKey(prefix) ? express : regional).list(prefix, startAfter, limit);
    }
    if (!WAL.startsWith(prefix) && !prefix.startsWith(WAL)) {
      return regional.list(prefix, startAfter, limit); // cannot cover any log key
    }
    Promise<ListPage> result = Promise.create(scheduler);
    Promise<ListPage> a = regional.list(prefix, startAfter, limit);
    Promise<ListPage> b = express.list(prefix, startAfter, limit);
    Promise.all(scheduler, List.of(a, b)).onComplete((pages, f) -> {
      if (f != null) {
        result.fail(f);
        return;
      }
      result.complete(merge(pages.get(0), pages.get(1), limit));
    });
    return result;
  }

  /** The keys each store owns, in order, up to where the truncated pages stop. */
  private ListPage merge(ListPage fromRegional, ListPage fromExpress, int limit) {
    ObjectKey cutoff = null;
    for (ListPage p : List.of(fromRegional, fromExpress)) {
      if (p.truncated()) {
        ObjectKey last = p.objects().get(p.objects().size() - 1).key();
        cutoff = cutoff == null || last.compareTo(cutoff) < 0 ? last : cutoff;
      }
    }
    java.util.TreeMap<ObjectKey, ObjectSummary> all = new java.util.TreeMap<>();
    fromRegional.objects().stream().filter(o -> !isExpress(o.key())).forEach(o -> all.put(o.key(), o));
    fromExpress.objects().stream().filter(o -> isExpress(o.key())).forEach(o -> all.put(o.key(), o));
    List<ObjectSummary> out = new ArrayList<>();
    boolean truncated = cutoff != null;
    for (ObjectSummary o : all.values()) {
      if (cutoff != null && o.key().compareTo(cutoff) > 0) {
        break;
      }
      if (out.size() == limit) {
        truncated = true;
        break;
      }
      out.add(o);
    }
    // Each store holds only the keys it owns, so a truncated page keeps at least its own keys.
    Invariants.check(!(out.isEmpty() && truncated), "a routed listing dropped a whole page up to %s", cutoff);
    return new ListPage(out, truncated);
  }
}
