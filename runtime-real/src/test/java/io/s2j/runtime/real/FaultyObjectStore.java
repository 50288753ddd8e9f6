package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A {@link SharedObjectStore} that injects failures into another: puts fail definitely (not
 * applied), are rejected, time out without being applied, time out after being applied, or time
 * out and are applied later (a write that lands after its caller gave up); reads fail; deletes
 * fail before or after taking effect. Does not close the store it wraps.
 */
final class FaultyObjectStore implements SharedObjectStore {
  enum Fault { DEFINITE, REJECTED, TIMEOUT_NOT_APPLIED, TIMEOUT_APPLIED, TIMEOUT_APPLIED_LATER, READ_FAILED, DELETE_FAILED }

  private final SharedObjectStore inner;
  private final Random random;
  private final ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "faulty-store-later");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger landingLater = new AtomicInteger();
  private final Map<Fault, AtomicInteger> injected = new EnumMap<>(Fault.class);
  volatile double putFaultRate;
  /** When TIMEOUT_NOT_APPLIED, every put times out without being applied. */
  volatile Fault forcedPutFault;
  /** Every put not failed is applied (and answered) this much later. */
  volatile int putDelayMillis;
  volatile double readFaultRate;
  volatile double deleteFaultRate;
  /** Puts of matching keys always fail definitely (not applied). */
  volatile Predicate<ObjectKey> refusePuts = k -> false;
  /** Deletes of matching keys always fail definitely. */
  volatile Predicate<ObjectKey> refuseDeletes = k -> false;

  FaultyObjectStore(SharedObjectStore inner, long seed) {
    this.inner = inner;
    this.random = new Random(seed);
    for (Fault f : Fault.values()) {
      injected.put(f, new AtomicInteger());
    }
  }

  int injected(Fault f) {
    return injected.get(f).get();
  }

  void heal() {
    forcedPutFault = null;
    putFaultRate = 0;
    readFaultRate = 0;
    deleteFaultRate = 0;
    refusePuts = k -> false;
    refuseDeletes = k -> false;
  }

  /** Waits until every write that is to land later has landed. */
  void quiesce() throws InterruptedException {
    while (landingLater.get() > 0) {
      Thread.sleep(5);
    }
  }

  private synchronized double draw() {
    return random.nextDouble();
  }

  private synchronized int pick(int n) {
    return random.nextInt(n);
  }

  private <T> CompletableFuture<T> fail(Fault f, IoFailure failure) {
    injected.get(f).incrementAndGet();
    return CompletableFuture.failedFuture(failure);
  }

  @Override
  public CompletableFuture<GetResult> get(ObjectKey key, ByteRange range) {
    if (draw() < readFaultRate) {
      return fail(Fault.READ_FAILED, IoFailure.definite(IoFailure.Kind.SERVER_ERROR, "injected: get " + key));
    }
    return inner.get(key, range);
  }

  @Override
  public CompletableFuture<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    if (refusePuts.test(key)) {
      return fail(Fault.DEFINITE, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "injected: refused put " + key));
    }
    Fault forced = forcedPutFault;
    if (forced == Fault.TIMEOUT_NOT_APPLIED) {
      return fail(forced, IoFailure.timeout("injected (forced), not applied: put " + key));
    }
    if (draw() >= putFaultRate) {
      int delay = putDelayMillis;
      if (delay > 0) {
        CompletableFuture<PutResult> result = new CompletableFuture<>();
        later.schedule(() -> inner.put(key, data, condition).whenComplete((r, e) -> {
          if (e != null) {
            result.completeExceptionally(e);
          } else {
            result.complete(r);
          }
        }), delay, TimeUnit.MILLISECONDS);
        return result;
      }
      return inner.put(key, data, condition);
    }
    Fault f = Fault.values()[pick(5)];
    return switch (f) {
      case DEFINITE -> fail(f, IoFailure.definite(IoFailure.Kind.THROTTLED, "injected: put " + key));
      case REJECTED -> fail(f, IoFailure.definite(IoFailure.Kind.REJECTED, "injected: put " + key));
      case TIMEOUT_NOT_APPLIED -> fail(f, IoFailure.timeout("injected, not applied: put " + key));
      case TIMEOUT_APPLIED -> inner.put(key, data, condition).handle((r, e) -> null)
          .thenCompose(x -> fail(f, IoFailure.timeout("injected, applied: put " + key)));
      case TIMEOUT_APPLIED_LATER -> {
        landingLater.incrementAndGet();
        later.schedule(() -> inner.put(key, data, condition).whenComplete((r, e) -> landingLater.decrementAndGet()),
            pick(100), TimeUnit.MILLISECONDS);
        yield fail(f, IoFailure.timeout("injected, applied later: put " + key));
      }
      default -> throw new IllegalStateException();
    };
  }

  @Override
  public CompletableFuture<Done> delete(ObjectKey key) {
    if (refuseDeletes.test(key)) {
      return fail(Fault.DELETE_FAILED, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "injected: refused delete " + key));
    }
    if (draw() < deleteFaultRate) {
      if (pick(2) == 0) {
        return fail(Fault.DELETE_FAILED, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "injected: delete " + key));
      }
      return inner.delete(key).handle((r, e) -> null)
          .thenCompose(x -> fail(Fault.DELETE_FAILED, IoFailure.timeout("injected, applied: delete " + key)));
    }
    return inner.delete(key);
  }

  @Override
  public CompletableFuture<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    if (draw() < readFaultRate) {
      return fail(Fault.READ_FAILED, IoFailure.definite(IoFailure.Kind.SERVER_ERROR, "injected: list " + prefix));
    }
    return inner.list(prefix, startAfter, limit);
  }

  @Override
  public void close() {
    later.shutdown();
  }
}
