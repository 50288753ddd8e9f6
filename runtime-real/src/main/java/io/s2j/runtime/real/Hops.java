package io.s2j.runtime.real;

import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Moves results computed on other threads onto a node's executor, where promises may be touched. */
final class Hops {
  private Hops() {}

  /** A promise owned by {@code owner} that completes, on {@code owner}, as {@code future} does. */
  static <T> Promise<T> toPromise(Scheduler owner, CompletableFuture<T> future) {
    Promise<T> promise = Promise.create(owner);
    future.whenComplete((value, failure) -> owner.execute(() -> {
      if (failure != null) {
        promise.fail(unwrap(failure));
      } else {
        promise.complete(value);
      }
    }));
    return promise;
  }

  /** The cause under {@link CompletionException} and {@link ExecutionException} wrappers. */
  static Throwable unwrap(Throwable t) {
    Throwable cur = t;
    while ((cur instanceof CompletionException || cur instanceof ExecutionException)
        && cur.getCause() != null) {
      cur = cur.getCause();
    }
    return cur;
  }
}
