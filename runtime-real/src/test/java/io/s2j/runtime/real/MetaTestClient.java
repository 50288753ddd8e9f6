package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** A blocking client of one {@link ObjectStoreMetadataStore} view, on its own single-thread executor. */
final class MetaTestClient implements AutoCloseable {
  /** The outcome of a commit: a result or an {@link IoFailure}. */
  record Outcome(TxnResult result, IoFailure failure) {
    boolean committed() {
      return result instanceof TxnResult.Committed;
    }

    long revision() {
      return ((TxnResult.Committed) result).revision();
    }

    boolean definiteFailure() {
      return failure != null && !failure.indefinite();
    }

    boolean indefiniteFailure() {
      return failure != null && failure.indefinite();
    }
  }

  private final ScheduledExecutorService executor;
  private volatile Thread thread;
  private final Scheduler scheduler;
  private final MetadataStore store;

  MetaTestClient(ObjectStoreMetadataStore meta) {
    this(meta::view);
  }

  /** A client of the view {@code views} gives for this client's executor. */
  MetaTestClient(Function<Scheduler, MetadataStore> views) {
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "meta-test-client");
      t.setDaemon(true);
      thread = t;
      return t;
    });
    this.scheduler = new Scheduler() {
      @Override
      public void execute(Runnable task) {
        try {
          executor.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // shut down: drop, as the contract says
        }
      }

      @Override
      public Cancellable schedule(long delayNanos, Runnable task) {
        ScheduledFuture<?> f = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
      }

      @Override
      public boolean inExecutor() {
        return Thread.currentThread() == thread;
      }
    };
    this.store = views.apply(scheduler);
  }

  <T> T await(Function<MetadataStore, Promise<T>> op) {
    CompletableFuture<T> cf = new CompletableFuture<>();
    scheduler.execute(() -> {
      try {
        op.apply(store).onComplete((v, f) -> {
          if (f != null) {
            cf.completeExceptionally(f);
          } else {
            cf.complete(v);
          }
        });
      } catch (RuntimeException e) {
        cf.completeExceptionally(e);
      }
    });
    try {
      return cf.get(120, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new AssertionError(e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("no answer", e);
    }
  }

  Outcome tryCommit(Txn txn) {
    try {
      return new Outcome(await(s -> s.commit(txn)), null);
    } catch (IoFailure f) {
      return new Outcome(null, f);
    }
  }

  /** Commits every transaction at once (they form group commits) and waits for all outcomes. */
  List<Outcome> tryCommitAll(List<Txn> txns) {
    List<CompletableFuture<Outcome>> futures = new ArrayList<>();
    for (int i = 0; i < txns.size(); i++) {
      futures.add(new CompletableFuture<>());
    }
    scheduler.execute(() -> {
      for (int i = 0; i < txns.size(); i++) {
        CompletableFuture<Outcome> cf = futures.get(i);
        store.commit(txns.get(i)).onComplete((v, f) -> cf.complete(
            f == null ? new Outcome(v, null) : new Outcome(null, (IoFailure) f)));
      }
    });
    List<Outcome> out = new ArrayList<>();
    for (CompletableFuture<Outcome> f : futures) {
      try {
        out.add(f.get(120, TimeUnit.SECONDS));
      } catch (ExecutionException | InterruptedException | TimeoutException e) {
        throw new AssertionError("no answer", e);
      }
    }
    return out;
  }

  TxnResult commit(Txn txn) {
    return await(s -> s.commit(txn));
  }

  Optional<KeyValue> get(ByteString key) {
    return await(s -> s.get(key));
  }

  ScanPage scan(ByteString start, ByteString end, int limit) {
    return await(s -> s.scan(start, end, limit));
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
