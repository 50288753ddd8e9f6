package io.s2j.storage;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Done;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;

/**
 * Cuts the tail of create-once writes: a create ({@code If-None-Match: *}) that has not answered
 * after {@code hedgeAfterNanos} is sent once more with the same bytes, and the first attempt to
 * succeed answers. S3's slow requests are mostly slow one by one (a second request of the same
 * object usually takes the median time), and a chunk write holds back every later acknowledgement
 * of its channel, so one slow PUT would otherwise delay a whole flush pipeline.
 *
 * <p>Both attempts carry the same bytes under {@code If-None-Match}, so at most one lands and the
 * other is refused. A refusal is therefore ambiguous — the other attempt landed, or another writer
 * holds the key — and is settled by reading the key: these bytes there mean {@code Written}.
 * Failures pass through once both attempts failed (indefinite if either may have applied).
 * Reads (gets) are hedged the same way, and a failed read is sent once more at once; deletes,
 * listings and other puts pass through unchanged.
 */
public final class HedgedObjectStore implements ObjectStore {
  /**
   * For an S3-standard bucket: about four times its median PUT latency, past the bulk of the
   * distribution, so that about one create in a hundred is sent twice.
   */
  public static final long STANDARD_HEDGE_AFTER_NANOS = 100_000_000L;

  /** For an S3 Express One Zone bucket (4 ms median): five times its median. */
  public static final long EXPRESS_HEDGE_AFTER_NANOS = 20_000_000L;

  private final Scheduler scheduler;
  private final ObjectStore inner;
  private final long hedgeAfterNanos;
  private long hedges;
  private long hedgesWon;

  public HedgedObjectStore(Scheduler scheduler, ObjectStore inner, long hedgeAfterNanos) {
    Invariants.check(hedgeAfterNanos > 0, "hedge delay %d must be positive", hedgeAfterNanos);
    this.scheduler = scheduler;
    this.inner = inner;
    this.hedgeAfterNanos = hedgeAfterNanos;
  }

  /** Second attempts sent. */
  public long hedges() {
    return hedges;
  }

  /** Second attempts that answered first. */
  public long hedgesWon() {
    return hedgesWon;
  }

  /** One create and its hedge. */
  private static final class Create {
    final Promise<PutResult> result;
    int sent;
    int pending;
    boolean refused;
    IoFailure failure;

    Create(Promise<PutResult> result) {
      this.result = result;
    }
  }

  @Override
  public Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    if (!(condition instanceof PutCondition.IfAbsent)) {
      return inner.put(key, data, condition);
    }
    Create c = new Create(Promise.create(scheduler));
    Cancellable timer = scheduler.schedule(hedgeAfterNanos, () -> {
      if (!c.result.isDone()) {
        hedges++;
        attempt(key, data, c);
      }
    });
    attempt(key, data, c);
    c.result.onComplete((r, f) -> timer.cancel());
    return c.result;
  }

  private void attempt(ObjectKey key, ByteString data, Create c) {
    int which = c.sent++;
    c.pending++;
    inner.put(key, data, PutCondition.IF_ABSENT).onComplete((r, f) -> {
      c.pending--;
      if (c.result.isDone()) {
        return;
      }
      if (f == null && r instanceof PutResult.Written) {
        if (which == 1) {
          hedgesWon++;
        }
        c.result.complete(r);
        return;
      }
      if (f == null) {
        c.refused = true;
      } else if (c.failure == null || !c.failure.indefinite()) {
        c.failure = f instanceof IoFailure io ? io : IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, f.toString());
      }
      if (c.pending > 0) {
        return; // the other attempt may still land
      }
      if (!c.refused) {
        c.result.fail(c.failure);
      } else if (c.sent == 1) {
        c.result.complete(new PutResult.PreconditionFailed()); // no hedge: refused as on one bucket
      } else {
        settleRefusal(key, data, c.result);
      }
    });
  }

  /** A create was refused after a hedge: this object's own other attempt may be what holds the key. */
  private void settleRefusal(ObjectKey key, ByteString data, Promise<PutResult> result) {
    inner.get(key).onComplete((g, f) -> {
      if (f == null && g instanceof GetResult.Found found && found.data().equals(data)) {
        result.complete(new PutResult.Written(found.etag()));
      } else if (f == null) {
        result.complete(new PutResult.PreconditionFailed());
      } else {
        // Cannot tell whether the other attempt landed.
        result.fail(IoFailure.timeout("PUT " + key + ": hedged create refused and the read to settle it failed"));
      }
    });
  }

  @Override
  public Promise<GetResult> get(ObjectKey key) {
    return hedgedRead(() -> inner.get(key));
  }

  @Override
  public Promise<GetResult> get(ObjectKey key, ByteRange range) {
    return hedgedRead(() -> inner.get(key, range));
  }

  /**
   * A read sent again once it is slow or has failed (at most two attempts): reads have no effect,
   * so the first answer wins, and it fails only when both attempts did.
   */
  private <T> Promise<T> hedgedRead(java.util.function.Supplier<Promise<T>> read) {
    Promise<T> result = Promise.create(scheduler);
    int[] sent = {0};
    int[] failed = {0};
    Runnable[] send = new Runnable[1];
    send[0] = () -> {
      sent[0]++;
      read.get().onComplete((v, f) -> {
        if (result.isDone()) {
          return;
        }
        if (f == null) {
          result.complete(v);
        } else if (++failed[0] == 2) {
          result.fail(f);
        } else if (sent[0] == 1) {
          hedges++;
          send[0].run(); // failed before the hedge was due: retry at once
        }
      });
    };
    Cancellable timer = scheduler.schedule(hedgeAfterNanos, () -> {
      if (!result.isDone() && sent[0] == 1) {
        hedges++;
        send[0].run();
      }
    });
    send[0].run();
    result.onComplete((v, f) -> timer.cancel());
    return result;
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
