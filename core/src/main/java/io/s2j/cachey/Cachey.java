package io.s2j.cachey;

import com.google.protobuf.ByteString;
import io.s2j.cachey.proto.FoundProto;
import io.s2j.cachey.proto.NotFoundProto;
import io.s2j.cachey.proto.ReadRangeRequest;
import io.s2j.cachey.proto.ReadRangeResponse;
import io.s2j.channel.PlantedBug;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A read-through cache of object byte ranges, by fixed-size page (docs/design.md, "cachey").
 *
 * <p>A request names an object and a byte range; the node answers from pages it holds and fetches
 * the missing ones, each with one ranged GET. Pages are keyed by object key, etag and page index,
 * so a page can only ever be served for the version of the object it was read from, and every
 * byte of one answer comes from one version. Which version a key currently has is remembered
 * from the last GET (and re-read after {@link CacheyKnobs#versionTtlMs}, or at once when the
 * caller expects another size or etag). Concurrent misses of one page share one GET; a GET slower
 * than {@link CacheyKnobs#hedgeAfterMs} gets a second one, and the first success wins. Memory is
 * bounded by {@link CacheyKnobs#cacheBytesMax}, least recently used pages first out. Failures and
 * missing objects are answered, never cached.
 */
public final class Cachey {
  /** How often one request re-plans after finding the object changed under it, before giving up. */
  static final int ATTEMPTS_MAX = 3;

  private final Env env;
  private final CacheyKnobs knobs;
  private final PlantedBug bug;
  /** Cached pages, least recently used first. */
  private final LinkedHashMap<PageKey, ByteString> pages = new LinkedHashMap<>(64, 0.75f, true);
  private long pageBytesHeld;
  /** The version each key was last read at, least recently used first. */
  private final LinkedHashMap<ObjectKey, Version> versions = new LinkedHashMap<>(64, 0.75f, true);
  /** Page GETs in flight, by object and page index: concurrent misses join them. */
  private final LinkedHashMap<FetchKey, Fetch> fetches = new LinkedHashMap<>();
  private int requestsInFlight;
  private final Counters counters = new Counters();

  /** What a node did so far (one incarnation). */
  public static final class Counters {
    long requests;
    long pageHits;
    long pageMisses;
    long pageCoalesced;
    long hedges;
    long hedgesWon;
    long evictions;
    long revalidations;
    long versionChanges;
    long notFound;
    long failures;
    long throttled;

    /** Page lookups answered from memory. */
    public long pageHits() {
      return pageHits;
    }

    /** Page lookups that started a GET. */
    public long pageMisses() {
      return pageMisses;
    }

    /** Page lookups that joined a GET already in flight for the same page. */
    public long pageCoalesced() {
      return pageCoalesced;
    }

    public long requests() {
      return requests;
    }

    /** Second GETs sent for slow pages. */
    public long hedges() {
      return hedges;
    }

    /** Second GETs that answered first. */
    public long hedgesWon() {
      return hedgesWon;
    }

    public long evictions() {
      return evictions;
    }

    /** Requests that re-read an object's version (expired, or not what the caller expected). */
    public long revalidations() {
      return revalidations;
    }

    /** Times a key was found at another version than remembered. */
    public long versionChanges() {
      return versionChanges;
    }

    public long notFound() {
      return notFound;
    }

    /** Requests answered with a store failure. */
    public long failures() {
      return failures;
    }

    /** Requests refused because {@link CacheyKnobs#requestsInFlightMax} were being served. */
    public long throttled() {
      return throttled;
    }
  }

  /** One object version: what a GET reported for a key. */
  private record Version(ETag etag, long objectBytes, long confirmedAtNanos) {}

  /** The identity of a cached page: which object, which version of it, which page. */
  private record PageKey(ObjectKey key, ETag etag, long index) {}

  private record FetchKey(ObjectKey key, long index) {}

  /** What a page GET found. */
  private sealed interface PageResult {
    record Page(ETag etag, long objectBytes, ByteString data) implements PageResult {}

    record Missing() implements PageResult {}

    record Unsatisfiable(long objectBytes) implements PageResult {}
  }

  /** A page GET in flight (and its hedge). */
  private static final class Fetch {
    final Promise<PageResult> result;
    int outstanding;
    Cancellable hedgeTimer;

    Fetch(Promise<PageResult> result) {
      this.result = result;
    }
  }

  /** One validated request. */
  private record Request(ObjectKey key, long offset, long length, Long expectedObjectBytes, ETag expectedEtag) {}

  public Cachey(Env env, CacheyKnobs knobs) {
    this(env, knobs, PlantedBug.NONE);
  }

  /** A node with a planted bug: for the simulator's planted-bug runs only. */
  public Cachey(Env env, CacheyKnobs knobs, PlantedBug bug) {
    this.env = env;
    this.knobs = knobs.conclude();
    this.bug = bug;
    env.network().serve(CacheyRpc.READ_RANGE, (caller, request) -> read(request));
  }

  public Counters counters() {
    return counters;
  }

  /** Bytes of pages held now (never above {@link CacheyKnobs#cacheBytesMax}). */
  public long pageBytesHeld() {
    return pageBytesHeld;
  }

  /** Pages held now. */
  public int pagesHeld() {
    return pages.size();
  }

  // ---------------------------------------------------------------- requests

  /** Serves one request (also what the RPC handler runs). */
  public Promise<ReadRangeResponse> read(ReadRangeRequest request) {
    Promise<ReadRangeResponse> result = env.promise();
    counters.requests++;
    Request r;
    try {
      r = new Request(ObjectKey.of(request.getObjectKey()), request.getOffset(), request.getLength(),
          request.hasExpectedObjectBytes() ? request.getExpectedObjectBytes() : null,
          request.hasExpectedEtag() ? new ETag(request.getExpectedEtag()) : null);
    } catch (IllegalArgumentException e) {
      result.complete(refusal(IoFailure.definite(IoFailure.Kind.REJECTED, "bad request: " + e.getMessage())));
      return result;
    }
    if (r.offset < 0 || r.length < 1 || r.length > knobs.requestBytesMax()) {
      result.complete(refusal(IoFailure.definite(IoFailure.Kind.REJECTED,
          "range " + r.offset + "+" + r.length + " is not within 1.." + knobs.requestBytesMax() + " bytes")));
      return result;
    }
    if (requestsInFlight >= knobs.requestsInFlightMax()) {
      counters.throttled++;
      result.complete(refusal(IoFailure.definite(IoFailure.Kind.THROTTLED,
          "cachey " + env.node() + " is serving " + requestsInFlight + " requests")));
      return result;
    }
    requestsInFlight++;
    result.onComplete((v, f) -> requestsInFlight--);
    attempt(r, 1, null, null, result);
    return result;
  }

  /**
   * Plans the request on {@code known} (or on the remembered version, if still trusted and what the
   * caller expects; else on the version a fresh GET of the first page finds), then gathers pages.
   */
  private void attempt(Request r, int attempt, Version known, PageResult.Page prefetched, Promise<ReadRangeResponse> result) {
    Version v = known != null ? known : trusted(r);
    if (v == null) {
      if (versions.containsKey(r.key)) {
        counters.revalidations++;
      }
      long first = r.offset / knobs.pageBytes();
      fetchPage(r.key, first).onComplete((got, failure) -> {
        if (failure != null) {
          answerFailure(failure, result);
          return;
        }
        switch (got) {
          case PageResult.Missing m -> answerNotFound(r.key, result);
          case PageResult.Unsatisfiable u -> result.complete(unsatisfiable(u.objectBytes));
          case PageResult.Page p -> attempt(r, attempt, learn(r.key, p.etag, p.objectBytes), p, result);
        }
      });
      return;
    }
    if (r.offset >= v.objectBytes) {
      result.complete(unsatisfiable(v.objectBytes));
      return;
    }
    long end = Math.min(v.objectBytes, r.offset + r.length);
    long firstPage = r.offset / knobs.pageBytes();
    long lastPage = (end - 1) / knobs.pageBytes();
    List<Promise<PageResult>> parts = new ArrayList<>();
    for (long i = firstPage; i <= lastPage; i++) {
      if (i == firstPage && prefetched != null) {
        parts.add(Promise.completed(env.scheduler(), prefetched)); // the GET that found the version
        continue;
      }
      ByteString held = pages.get(pageKey(r.key, v.etag, i));
      if (held != null && bug == PlantedBug.CACHEY_WRONG_PAGE && held.size() != pageLength(v.objectBytes, i)) {
        held = null; // the planted bug serves another object's page only where the length check below cannot tell
      }
      if (held != null) {
        counters.pageHits++;
        parts.add(Promise.completed(env.scheduler(), new PageResult.Page(v.etag, v.objectBytes, held)));
      } else {
        parts.add(fetchPage(r.key, i));
      }
    }
    Promise.all(env.scheduler(), parts).onComplete((got, failure) -> {
      if (failure != null) {
        answerFailure(failure, result);
        return;
      }
      boolean changed = false;
      for (PageResult p : got) {
        switch (p) {
          case PageResult.Missing m -> {
            answerNotFound(r.key, result);
            return;
          }
          case PageResult.Unsatisfiable u -> changed = true;
          case PageResult.Page page -> changed |= !page.etag.equals(v.etag) || page.objectBytes != v.objectBytes;
        }
      }
      if (changed) {
        // The key holds another version than the one this request was planned on (deleted and
        // rewritten meanwhile): never stitch two versions together; plan again.
        counters.versionChanges++;
        versions.remove(r.key);
        if (attempt >= ATTEMPTS_MAX) {
          answerFailure(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, r.key + " kept changing while being read"), result);
        } else {
          attempt(r, attempt + 1, null, null, result);
        }
        return;
      }
      ByteString data = ByteString.EMPTY;
      for (int k = 0; k < got.size(); k++) {
        long index = firstPage + k;
        ByteString page = ((PageResult.Page) got.get(k)).data;
        Invariants.check(page.size() == pageLength(v.objectBytes, index),
            "cachey: page %d of %s (%s bytes) holds %d bytes", index, r.key, v.objectBytes, page.size());
        long pageStart = index * knobs.pageBytes();
        int from = (int) (Math.max(r.offset, pageStart) - pageStart);
        int to = (int) (Math.min(end, pageStart + page.size()) - pageStart);
        data = data.concat(page.substring(from, to));
      }
      Invariants.check(data.size() == end - r.offset, "cachey: assembled %d bytes for %d", data.size(), end - r.offset);
      result.complete(ReadRangeResponse.newBuilder().setFound(FoundProto.newBuilder().setData(data)
          .setEtag(v.etag.value()).setObjectBytes(v.objectBytes)).build());
    });
  }

  /** The remembered version of the request's key, if still trusted and what the caller expects; else null. */
  private Version trusted(Request r) {
    Version v = versions.get(r.key);
    if (v == null) {
      return null;
    }
    boolean fresh = env.clock().nowNanos() - v.confirmedAtNanos <= knobs.versionTtlMs() * 1_000_000L;
    boolean expected = (r.expectedObjectBytes == null || r.expectedObjectBytes == v.objectBytes)
        && (r.expectedEtag == null || r.expectedEtag.equals(v.etag));
    return fresh && expected ? v : null;
  }

  private Version learn(ObjectKey key, ETag etag, long objectBytes) {
    Version old = versions.get(key);
    if (old != null && !old.etag.equals(etag)) {
      counters.versionChanges++;
    }
    Version v = new Version(etag, objectBytes, env.clock().nowNanos());
    versions.put(key, v);
    while (versions.size() > knobs.objectsMax()) {
      Iterator<ObjectKey> oldest = versions.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
    return v;
  }

  private void answerNotFound(ObjectKey key, Promise<ReadRangeResponse> result) {
    counters.notFound++;
    versions.remove(key);
    result.complete(ReadRangeResponse.newBuilder().setNotFound(NotFoundProto.getDefaultInstance()).build());
  }

  private void answerFailure(Throwable failure, Promise<ReadRangeResponse> result) {
    if (!(failure instanceof IoFailure io)) {
      result.fail(failure); // a bug: let it surface
      return;
    }
    counters.failures++;
    result.complete(failure(io));
  }

  private static ReadRangeResponse failure(IoFailure f) {
    return ReadRangeResponse.newBuilder().setFailure(CacheyRpc.toProto(f)).build();
  }

  /** The node's own refusal (not the store's answer): the caller may try another node. */
  private static ReadRangeResponse refusal(IoFailure f) {
    return ReadRangeResponse.newBuilder().setFailure(CacheyRpc.toProto(f).toBuilder().setRefusedByNode(true)).build();
  }

  private static ReadRangeResponse unsatisfiable(long objectBytes) {
    return ReadRangeResponse.newBuilder().setRangeNotSatisfiable(objectBytes).build();
  }

  private long pageLength(long objectBytes, long index) {
    return Math.min(knobs.pageBytes(), objectBytes - index * knobs.pageBytes());
  }

  private PageKey pageKey(ObjectKey key, ETag etag, long index) {
    if (bug == PlantedBug.CACHEY_WRONG_PAGE) {
      return new PageKey(WRONG_PAGE_KEY, WRONG_PAGE_ETAG, index);
    }
    return new PageKey(key, etag, index);
  }

  private static final ObjectKey WRONG_PAGE_KEY = ObjectKey.of("any");
  private static final ETag WRONG_PAGE_ETAG = new ETag("any");

  // ---------------------------------------------------------------- pages

  /**
   * One page from the store: joins the GET already in flight for it, else starts one (and a hedge
   * after {@link CacheyKnobs#hedgeAfterMs}). A found page is cached under the version the GET saw.
   */
  private Promise<PageResult> fetchPage(ObjectKey key, long index) {
    FetchKey fk = new FetchKey(key, index);
    Fetch running = fetches.get(fk);
    if (running != null) {
      counters.pageCoalesced++;
      return running.result;
    }
    counters.pageMisses++;
    Fetch fetch = new Fetch(env.promise());
    fetches.put(fk, fetch);
    ByteRange range = ByteRange.of(index * knobs.pageBytes(), knobs.pageBytes());
    get(fetch, key, index, range, false);
    if (knobs.hedgeAfterMs() > 0) {
      fetch.hedgeTimer = env.scheduler().schedule(knobs.hedgeAfterMs() * 1_000_000L, () -> {
        if (!fetch.result.isDone()) {
          counters.hedges++;
          get(fetch, key, index, range, true);
        }
      });
    }
    fetch.result.onComplete((v, f) -> {
      if (fetches.get(fk) == fetch) {
        fetches.remove(fk);
      }
      if (fetch.hedgeTimer != null) {
        fetch.hedgeTimer.cancel();
      }
    });
    return fetch.result;
  }

  private void get(Fetch fetch, ObjectKey key, long index, ByteRange range, boolean hedge) {
    fetch.outstanding++;
    env.objectStore().get(key, range).onComplete((got, failure) -> {
      fetch.outstanding--;
      if (fetch.result.isDone()) {
        return; // the other GET answered first
      }
      if (failure != null) {
        // Wait for the other GET, if any; a failure is never cached.
        if (fetch.outstanding == 0) {
          fetch.result.fail(failure);
        }
        return;
      }
      if (hedge) {
        counters.hedgesWon++;
      }
      switch (got) {
        case GetResult.NotFound n -> fetch.result.complete(new PageResult.Missing());
        case GetResult.RangeNotSatisfiable u -> fetch.result.complete(new PageResult.Unsatisfiable(u.objectBytes()));
        case GetResult.Found f -> {
          Invariants.check(f.data().size() == pageLength(f.objectBytes(), index),
              "store answered %d bytes for page %d of %s (%d bytes)", f.data().size(), index, key, f.objectBytes());
          cache(pageKey(key, f.etag(), index), f.data());
          fetch.result.complete(new PageResult.Page(f.etag(), f.objectBytes(), f.data()));
        }
      }
    });
  }

  private void cache(PageKey key, ByteString data) {
    ByteString old = pages.put(key, data);
    if (old != null) {
      pageBytesHeld -= old.size();
    }
    pageBytesHeld += data.size();
    Iterator<Map.Entry<PageKey, ByteString>> lru = pages.entrySet().iterator();
    while (pageBytesHeld > knobs.cacheBytesMax() && lru.hasNext()) {
      pageBytesHeld -= lru.next().getValue().size();
      lru.remove();
      counters.evictions++;
    }
    Invariants.check(pageBytesHeld <= knobs.cacheBytesMax(), "cachey holds %d bytes of pages", pageBytesHeld);
  }
}
