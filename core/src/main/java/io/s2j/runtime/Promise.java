package io.s2j.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A single-assignment result owned by one {@link Scheduler}: s2j's replacement for
 * {@code CompletableFuture}.
 *
 * <p>Contract: a promise completes at most once, with a value or a failure; later attempts return
 * false and change nothing. It is completed, and its callbacks run, only on its owner's executor,
 * so no synchronisation is needed and callback order is deterministic (registration order).
 * Callbacks registered before completion run inline when it completes; those registered after run
 * inline at registration. Runtime seams that finish work on another thread (the S3 SDK, Netty I/O)
 * hop onto the owner's executor before completing. Failures of the runtime seams are
 * {@link IoFailure}s, which say whether the operation may have taken effect.
 */
public final class Promise<T> {
  /** Receives the outcome: exactly one of {@code value} (possibly null) or {@code failure} is set. */
  @FunctionalInterface
  public interface Callback<T> {
    void accept(T value, Throwable failure);
  }

  private final Scheduler owner;
  private boolean done;
  private T value;
  private Throwable failure;
  private Callback<? super T> firstCallback;
  private List<Callback<? super T>> moreCallbacks;

  private Promise(Scheduler owner) {
    this.owner = owner;
  }

  /** A new, pending promise owned by {@code owner}. */
  public static <T> Promise<T> create(Scheduler owner) {
    return new Promise<>(owner);
  }

  /** A promise already completed with {@code value}. */
  public static <T> Promise<T> completed(Scheduler owner, T value) {
    Promise<T> p = new Promise<>(owner);
    p.done = true;
    p.value = value;
    return p;
  }

  /** A promise already failed with {@code failure}. */
  public static <T> Promise<T> failed(Scheduler owner, Throwable failure) {
    Promise<T> p = new Promise<>(owner);
    p.done = true;
    p.failure = failure;
    return p;
  }

  /** A promise of all values, in order; fails with the first failure (by completion time). */
  public static <T> Promise<List<T>> all(Scheduler owner, List<Promise<T>> promises) {
    Promise<List<T>> result = create(owner);
    int count = promises.size();
    if (count == 0) {
      result.complete(List.of());
      return result;
    }
    List<T> values = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      values.add(null);
    }
    int[] remaining = {count};
    for (int i = 0; i < count; i++) {
      int index = i;
      promises.get(i).onComplete((v, f) -> {
        if (f != null) {
          result.fail(f);
          return;
        }
        values.set(index, v);
        remaining[0]--;
        if (remaining[0] == 0) {
          result.complete(values);
        }
      });
    }
    return result;
  }

  public Scheduler owner() {
    return owner;
  }

  /** Completes with {@code v}; returns false if already complete. */
  public boolean complete(T v) {
    checkOwner();
    if (done) {
      return false;
    }
    done = true;
    value = v;
    fire();
    return true;
  }

  /** Fails with {@code f}; returns false if already complete. */
  public boolean fail(Throwable f) {
    checkOwner();
    Invariants.check(f != null, "a promise fails with a non-null failure");
    if (done) {
      return false;
    }
    done = true;
    failure = f;
    fire();
    return true;
  }

  /** Completes this promise with the outcome of {@code other} when it completes. */
  public void completeWith(Promise<? extends T> other) {
    other.onComplete((v, f) -> {
      if (f != null) {
        fail(f);
      } else {
        complete(v);
      }
    });
  }

  public boolean isDone() {
    return done;
  }

  public boolean isSuccess() {
    return done && failure == null;
  }

  /** The value; only valid once {@link #isSuccess()}. */
  public T value() {
    Invariants.check(isSuccess(), "value() of a promise that has not succeeded");
    return value;
  }

  /** The failure, or null if pending or successful. */
  public Throwable failure() {
    return failure;
  }

  /** Registers {@code callback}; it runs on the owner's executor once, when this completes. */
  public void onComplete(Callback<? super T> callback) {
    checkOwner();
    if (done) {
      callback.accept(value, failure);
      return;
    }
    if (firstCallback == null) {
      firstCallback = callback;
    } else {
      if (moreCallbacks == null) {
        moreCallbacks = new ArrayList<>(2);
      }
      moreCallbacks.add(callback);
    }
  }

  /** A promise of {@code fn(value)}; a failure, or an exception thrown by {@code fn}, passes through. */
  public <U> Promise<U> map(Function<? super T, ? extends U> fn) {
    Promise<U> next = create(owner);
    onComplete((v, f) -> {
      if (f != null) {
        next.fail(f);
        return;
      }
      U mapped;
      try {
        mapped = fn.apply(v);
      } catch (RuntimeException e) {
        next.fail(e);
        return;
      }
      next.complete(mapped);
    });
    return next;
  }

  /** A promise of the promise {@code fn(value)} returns. */
  public <U> Promise<U> flatMap(Function<? super T, Promise<U>> fn) {
    Promise<U> next = create(owner);
    onComplete((v, f) -> {
      if (f != null) {
        next.fail(f);
        return;
      }
      Promise<U> inner;
      try {
        inner = fn.apply(v);
      } catch (RuntimeException e) {
        next.fail(e);
        return;
      }
      next.completeWith(inner);
    });
    return next;
  }

  /** A promise of the promise {@code onValue(value)} or {@code onFailure(failure)} returns. */
  public <U> Promise<U> flatMap(Function<? super T, Promise<U>> onValue, Function<Throwable, Promise<U>> onFailure) {
    Promise<U> next = create(owner);
    onComplete((v, f) -> {
      Promise<U> inner;
      try {
        inner = f != null ? onFailure.apply(f) : onValue.apply(v);
      } catch (RuntimeException e) {
        next.fail(e);
        return;
      }
      next.completeWith(inner);
    });
    return next;
  }

  /** A promise of {@code fn(value, failure)}, whichever way this completed. */
  public <U> Promise<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
    Promise<U> next = create(owner);
    onComplete((v, f) -> {
      U mapped;
      try {
        mapped = fn.apply(v, f);
      } catch (RuntimeException e) {
        next.fail(e);
        return;
      }
      next.complete(mapped);
    });
    return next;
  }

  private void fire() {
    Callback<? super T> first = firstCallback;
    List<Callback<? super T>> more = moreCallbacks;
    firstCallback = null;
    moreCallbacks = null;
    if (first != null) {
      first.accept(value, failure);
    }
    if (more != null) {
      for (Callback<? super T> c : more) {
        c.accept(value, failure);
      }
    }
  }

  private void checkOwner() {
    Invariants.check(owner.inExecutor(), "promise touched outside its owner's executor");
  }

  @Override
  public String toString() {
    if (!done) {
      return "Promise[pending]";
    }
    return failure != null ? "Promise[failed: " + failure + "]" : "Promise[" + value + "]";
  }
}
