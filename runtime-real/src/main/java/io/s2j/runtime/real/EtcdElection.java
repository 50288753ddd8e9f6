package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.Txn;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Leader election on etcd with a fencing epoch: at most one candidate holds the election key at a
 * time, and every write the leader makes is conditioned on still holding it, so a deposed leader's
 * writes are refused however late they arrive (the cop will be elected this way).
 *
 * <p>Protocol: the election key is a store key. A candidate grants itself a lease and creates the
 * key attached to it, only if absent (one etcd txn). The winner's <em>epoch</em> is the revision
 * of that creation: etcd revisions only grow, so a later leader always has a larger epoch, and the
 * key's {@code modRevision} equals the epoch for exactly as long as that leadership lasts (the key
 * is never rewritten; it is deleted when the lease expires or the leader resigns). A fenced
 * transaction adds the condition {@code RevisionIs(electionKey, epoch)}. Losers poll the key every
 * {@code pollInterval} and try again when it is gone, so a crashed leader is replaced within its
 * lease TTL plus one poll interval (plus etcd's own lease-expiry granularity, about half a second).
 */
public final class EtcdElection {
  /** One term of leadership. */
  public record Leadership(ByteString electionKey, ByteString candidate, long epoch, EtcdLease lease) {
    /** {@code txn} with the fencing condition first: it commits only while this leadership lasts. */
    public Txn.Builder fenced(Txn.Builder txn) {
      return txn.ifRevision(electionKey, epoch);
    }

    /** A new builder whose first condition is the fence (so a refused fence is condition 0). */
    public Txn.Builder fencedTxn() {
      return fenced(Txn.builder());
    }

    /** Completes when this process learns the lease is gone (advisory: the fence is what is safe). */
    public CompletableFuture<Void> lost() {
      return lease.lost();
    }

    /** Gives up leadership now: the key (and the lease) go, and another candidate can win. */
    public void resign() {
      lease.close();
    }
  }

  private final EtcdMetadataStore store;
  private final ByteString electionKey;
  private final ByteString candidate;
  private final Duration ttl;
  private final Duration pollInterval;

  /**
   * An election on store key {@code electionKey} in which this process runs as {@code candidate}
   * with leases of {@code ttl}, polling every {@code pollInterval} while another leads.
   */
  public EtcdElection(EtcdMetadataStore store, ByteString electionKey, ByteString candidate, Duration ttl, Duration pollInterval) {
    this.store = Objects.requireNonNull(store, "store");
    this.electionKey = Objects.requireNonNull(electionKey, "electionKey");
    this.candidate = Objects.requireNonNull(candidate, "candidate");
    this.ttl = Objects.requireNonNull(ttl, "ttl");
    this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive");
    }
  }

  /** The current leader's key (value = candidate, modRevision = epoch), if any. */
  public CompletableFuture<Optional<KeyValue>> leader() {
    return store.get(electionKey);
  }

  /**
   * Completes with this candidate's leadership once it wins; until then it keeps trying (an etcd
   * failure on the way fails the future, and the caller campaigns again).
   */
  public CompletableFuture<Leadership> campaign() {
    return EtcdLease.grant(store, ttl).thenCompose(lease -> attempt(lease, new CompletableFuture<>()));
  }

  private CompletableFuture<Leadership> attempt(EtcdLease lease, CompletableFuture<Leadership> result) {
    if (lease.lost().isDone()) {
      // Our own lease expired while waiting (a long pause): start over with a fresh one.
      campaign().whenComplete((l, f) -> {
        if (f != null) {
          result.completeExceptionally(f);
        } else {
          result.complete(l);
        }
      });
      return result;
    }
    lease.putAttached(electionKey, candidate).whenComplete((revision, failure) -> {
      if (failure != null) {
        lease.close();
        result.completeExceptionally(failure);
      } else if (revision > 0) {
        result.complete(new Leadership(electionKey, candidate, revision, lease));
      } else {
        Executor later = CompletableFuture.delayedExecutor(pollInterval.toNanos(), TimeUnit.NANOSECONDS);
        later.execute(() -> attempt(lease, result));
      }
    });
    return result;
  }
}
