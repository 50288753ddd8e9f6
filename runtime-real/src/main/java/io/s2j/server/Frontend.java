package io.s2j.server;

import io.s2j.frontend.Catalog;
import io.s2j.frontend.DataPlane;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The cell's frontend node as the HTTP layer sees it: its {@link Catalog} and {@link DataPlane},
 * which are single-threaded and live on the node's executor. Every call hops onto that executor;
 * results come back as {@link CompletableFuture}s completed there, for the caller to hop back.
 */
record Frontend(Env env, Catalog catalog, DataPlane data) {
  /** Runs {@code op} on the frontend's executor; its promise's outcome completes the future. */
  <T> CompletableFuture<T> call(Function<Frontend, Promise<T>> op) {
    CompletableFuture<T> result = new CompletableFuture<>();
    env.scheduler().execute(() -> {
      Promise<T> p;
      try {
        p = op.apply(this);
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
        return;
      }
      p.onComplete((v, f) -> {
        if (f != null) {
          result.completeExceptionally(f);
        } else {
          result.complete(v);
        }
      });
    });
    return result;
  }

  /** Runs {@code task} on the frontend's executor. */
  void run(Runnable task) {
    env.scheduler().execute(task);
  }
}
