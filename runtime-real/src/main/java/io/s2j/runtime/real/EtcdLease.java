package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.common.exception.ClosedClientException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * An etcd lease kept alive from this process: keys written with it vanish when the process stops
 * renewing it (crash, pause, partition from etcd) for longer than its TTL, which is how channels,
 * cachey nodes and frontends will announce that they are alive.
 *
 * <p>{@link #lost()} completes when this process learns the lease is gone: etcd answers a
 * keep-alive with "not found", or the keep-alive stream is closed. That knowledge can come late
 * (etcd expires the lease on its own clock), so nothing may rely on it for safety: writes that
 * must stop with the lease are fenced by conditions instead (see {@link EtcdElection}).
 */
public final class EtcdLease implements AutoCloseable {
  private final EtcdMetadataStore store;
  private final long id;
  private final long ttlSeconds;
  private final CompletableFuture<Void> lost = new CompletableFuture<>();
  private final CloseableClient keepAlive;
  private volatile long lastRenewedNanos;

  private EtcdLease(EtcdMetadataStore store, long id, long ttlSeconds) {
    this.store = store;
    this.id = id;
    this.ttlSeconds = ttlSeconds;
    this.lastRenewedNanos = System.nanoTime();
    this.keepAlive = store.client().getLeaseClient().keepAlive(id, new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        lastRenewedNanos = System.nanoTime();
      }

      @Override
      public void onError(Throwable t) {
        // jetcd restarts a broken keep-alive stream by itself; "not found" and a closed client are final.
        if (t instanceof ClosedClientException || (t instanceof EtcdException e && e.getErrorCode() == ErrorCode.NOT_FOUND)) {
          lost.complete(null);
        }
      }

      @Override
      public void onCompleted() {
        lost.complete(null);
      }
    });
  }

  /** Grants a lease of {@code ttl} (whole seconds, at least etcd's minimum) and starts renewing it. */
  public static CompletableFuture<EtcdLease> grant(EtcdMetadataStore store, Duration ttl) {
    Objects.requireNonNull(store, "store");
    long seconds = Math.max(1, ttl.toSeconds());
    return store.client().getLeaseClient().grant(seconds)
        .thenApply(r -> new EtcdLease(store, r.getID(), r.getTTL()));
  }

  public long id() {
    return id;
  }

  public long ttlSeconds() {
    return ttlSeconds;
  }

  /** Completes when this process learns the lease is gone (see the class comment). */
  public CompletableFuture<Void> lost() {
    return lost;
  }

  /** Nanos (System.nanoTime) of the last renewal etcd acknowledged. */
  public long lastRenewedNanos() {
    return lastRenewedNanos;
  }

  /**
   * Writes store key {@code key} = {@code value} attached to this lease (it vanishes with the
   * lease), if the key is absent or already attached to this lease's holder's value; the revision of
   * the write, or -1 if another value holds the key.
   */
  public CompletableFuture<Long> putAttached(ByteString key, ByteString value) {
    ByteSequence k = store.etcdKeyOf(key);
    PutOption withLease = PutOption.builder().withLeaseId(id).build();
    return store.client().getKVClient().txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.put(k, ByteSequence.from(value), withLease))
        .Else()
        .commit()
        .handle((r, failure) -> {
          if (failure != null) {
            throw EtcdMetadataStore.txnFailure(Hops.unwrap(failure));
          }
          return r.isSucceeded() ? r.getHeader().getRevision() : -1L;
        });
  }

  /** Stops renewing and revokes the lease (its keys vanish now); best effort if etcd is away. */
  @Override
  public void close() {
    keepAlive.close();
    lost.complete(null);
    store.client().getLeaseClient().revoke(id);
  }
}
