package io.s2j.cachey;

import io.s2j.cachey.proto.ReadRangeRequest;
import io.s2j.cachey.proto.ReadRangeResponse;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.View;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import java.util.List;
import java.util.TreeMap;

/**
 * A frontend's way to read immutable objects by byte range: through the cachey node the {@link
 * CacheyRing} picks for the object (bounded load, own zone first), failing over to the next node
 * when one is definitely unavailable or refuses the request itself (overloaded), and to the object
 * store itself when no node answers (all
 * unavailable, or one timed out) or when no ring is configured. Answers have the object store's
 * shape ({@link GetResult}, failures as {@link IoFailure}s of the same kind and definiteness).
 *
 * <p>The load the ring bounds is this frontend's count of requests in flight per node. The ring is
 * a {@link View}: each read is placed on the ring's snapshot at that moment, so a node joining
 * the cell takes the keys it wins from the next read on (reads already in flight finish where
 * they started).
 */
public final class CacheyClient {
  private final Env env;
  /** The cachey nodes (an empty ring: read the object store directly). */
  private final View<CacheyRing> ring;
  private final String zone;
  private final long rpcTimeoutNanos;
  private final TreeMap<NodeId, Long> inFlight = new TreeMap<>();
  private long requests;
  private long answeredByCachey;
  private long failovers;
  private long direct;
  private long refusals;

  /**
   * @param ring the cachey nodes ({@code null} or empty: read the object store directly)
   * @param zone the caller's zone, whose nodes it prefers
   * @param rpcTimeoutNanos how long to wait for a node before reading the store directly
   */
  public CacheyClient(Env env, CacheyRing ring, String zone, long rpcTimeoutNanos) {
    this(env, View.of(ring == null ? new CacheyRing(List.of()) : ring), zone, rpcTimeoutNanos);
  }

  /** A client placing each read on {@code ring}'s current snapshot (an empty ring: the object store directly). */
  public CacheyClient(Env env, View<CacheyRing> ring, String zone, long rpcTimeoutNanos) {
    this.env = env;
    this.ring = ring;
    this.zone = zone;
    this.rpcTimeoutNanos = rpcTimeoutNanos;
  }

  /** A client without cachey: every read goes to the object store. */
  public static CacheyClient direct(Env env) {
    return new CacheyClient(env, (CacheyRing) null, "", 1);
  }

  /** Reads requested so far. */
  public long requests() {
    return requests;
  }

  /** Reads a cachey node answered (found, not found, or a store failure it saw). */
  public long answeredByCachey() {
    return answeredByCachey;
  }

  /** Times a node was definitely unavailable and the next one was tried. */
  public long failovers() {
    return failovers;
  }

  /** Times a node refused a request itself (overloaded, or a range it does not serve) and the next one was tried. */
  public long refusals() {
    return refusals;
  }

  /** Reads that went to the object store directly. */
  public long direct() {
    return direct;
  }

  /**
   * The bytes of {@code range} of {@code key}, cut at the object's end.
   *
   * @param expectedObjectBytes the object's size if known (else -1): a node holding another
   *     version reads the object again before answering
   */
  public Promise<GetResult> get(ObjectKey key, ByteRange range, long expectedObjectBytes) {
    requests++;
    CacheyRing now = ring.current();
    if (now.isEmpty() || range.length() > CacheyRpc.REQUEST_BYTES_MAX) {
      direct++;
      return env.objectStore().get(key, range);
    }
    ReadRangeRequest.Builder b = ReadRangeRequest.newBuilder().setObjectKey(key.value()).setOffset(range.offset())
        .setLength(range.length());
    if (expectedObjectBytes >= 0) {
      b.setExpectedObjectBytes(expectedObjectBytes);
    }
    List<NodeId> order = now.order(key.value(), zone, n -> inFlight.getOrDefault(n, 0L));
    Promise<GetResult> result = env.promise();
    attempt(key, range, b.build(), order, 0, result);
    return result;
  }

  private void attempt(ObjectKey key, ByteRange range, ReadRangeRequest request, List<NodeId> order, int i,
      Promise<GetResult> result) {
    if (i == order.size()) {
      direct++;
      result.completeWith(env.objectStore().get(key, range));
      return;
    }
    NodeId node = order.get(i);
    inFlight.merge(node, 1L, Long::sum);
    env.network().call(node, CacheyRpc.READ_RANGE, request, rpcTimeoutNanos).onComplete((resp, failure) -> {
      inFlight.merge(node, -1L, Long::sum);
      if (failure instanceof IoFailure io) {
        if (!io.indefinite()) {
          failovers++;
          attempt(key, range, request, order, i + 1, result); // down or unreachable: the next node
        } else {
          attempt(key, range, request, order, order.size(), result); // slow or crashed mid-read: the store
        }
        return;
      }
      if (failure != null) {
        result.fail(failure);
        return;
      }
      if (resp.hasFailure() && resp.getFailure().getRefusedByNode()) {
        refusals++;
        attempt(key, range, request, order, i + 1, result); // overloaded or unwilling: the next node
        return;
      }
      answeredByCachey++;
      switch (resp.getOutcomeCase()) {
        case FOUND -> result.complete(new GetResult.Found(resp.getFound().getData(), new ETag(resp.getFound().getEtag()),
            resp.getFound().getObjectBytes()));
        case NOT_FOUND -> result.complete(new GetResult.NotFound());
        case RANGE_NOT_SATISFIABLE -> result.complete(new GetResult.RangeNotSatisfiable(resp.getRangeNotSatisfiable()));
        case FAILURE -> result.fail(CacheyRpc.fromProto(resp.getFailure()));
        case OUTCOME_NOT_SET -> result.fail(IoFailure.definite(IoFailure.Kind.SERVER_ERROR, "cachey " + node + " answered nothing"));
      }
    });
  }
}
