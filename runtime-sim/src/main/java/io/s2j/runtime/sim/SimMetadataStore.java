package io.s2j.runtime.sim;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataState;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A simulated linearizable metadata store (etcd's model): one state machine, each operation
 * applied atomically at one instant between call and response.
 *
 * <p>Faults: unavailability windows (every request fails UNAVAILABLE, definite), a per-request
 * unavailable rate (definite, not applied), lost responses (applied, the caller times out:
 * indefinite), and windows of lost responses like an etcd leader election (applied or not, the
 * caller times out). A caller times out after {@link #requestTimeoutNanos()}.
 */
public final class SimMetadataStore {
  private final SimWorld world;
  private final RandomSource random;
  private final MetadataState state = new MetadataState();
  private LatencyModel latency = LatencyModel.METADATA;
  private long requestTimeoutNanos = 5 * Simulator.SECOND;
  private boolean unavailable;
  private boolean losingResponses;
  private long operations;

  SimMetadataStore(SimWorld world, RandomSource random) {
    this.world = world;
    this.random = random;
  }

  public void setLatency(LatencyModel latency) {
    this.latency = latency;
  }

  public long requestTimeoutNanos() {
    return requestTimeoutNanos;
  }

  public void setRequestTimeoutNanos(long nanos) {
    requestTimeoutNanos = nanos;
  }

  /** Starts or ends a window in which the store refuses every request. */
  public void setUnavailable(boolean unavailable) {
    this.unavailable = unavailable;
  }

  /**
   * Starts or ends a window like an etcd leader election: every request goes unanswered (the caller
   * times out, indefinite), and each is applied or not (½) — a proposal in flight when the leader
   * changed may or may not have been committed.
   */
  public void setLosingResponses(boolean losing) {
    this.losingResponses = losing;
  }

  public long revision() {
    return state.revision();
  }

  /** Requests the store has received (including refused ones). */
  public long operations() {
    return operations;
  }

  /** The current value of {@code key}, read directly (for checks at the end of a run). */
  public Optional<KeyValue> peek(ByteString key) {
    return state.get(key);
  }

  /** Every key and value, in key order (for checks at the end of a run). */
  public List<KeyValue> entries() {
    return state.entries();
  }

  MetadataStore client(SimProcess.Incarnation owner) {
    return new Client(owner);
  }

  private <T> Promise<T> operation(SimProcess.Incarnation owner, String what, Supplier<T> apply) {
    Simulator sim = world.simulator();
    Promise<T> result = Promise.create(owner.scheduler());
    long now = sim.nowNanos();
    operations++;
    FaultProfile f = world.faults();
    if (unavailable || random.chance(f.metaUnavailableRate())) {
      sim.schedule(now + latency.sampleNanos(random, 0), owner, EventKind.META_RESPOND,
          () -> result.fail(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, what + ": metadata store unavailable")));
      return result;
    }
    if (losingResponses) {
      sim.schedule(now + requestTimeoutNanos, owner, EventKind.META_RESPOND, () -> result.fail(IoFailure.timeout(what)));
      if (random.chance(0.5)) {
        long applyAt = now + Math.max(1, latency.sampleNanos(random, 0));
        sim.schedule(applyAt, null, EventKind.META_APPLY, () -> sim.traceMix(SimObjectStore.traceOf(apply.get())));
      }
      return result;
    }
    long total = latency.sampleNanos(random, 0);
    long applyAt = now + Math.max(1, (long) (total * (0.2 + 0.6 * random.nextDouble())));
    long respondAt = Math.max(applyAt, now + total);
    boolean answered = !random.chance(f.metaLostResponseRate()) && respondAt - now <= requestTimeoutNanos;
    if (!answered) {
      sim.schedule(now + requestTimeoutNanos, owner, EventKind.META_RESPOND,
          () -> result.fail(IoFailure.timeout(what)));
    }
    sim.schedule(applyAt, null, EventKind.META_APPLY, () -> {
      T value = apply.get();
      sim.traceMix(SimObjectStore.traceOf(value));
      if (answered) {
        sim.schedule(respondAt, owner, EventKind.META_RESPOND, () -> result.complete(value));
      }
    });
    return result;
  }

  /** One incarnation's view of the store. */
  private final class Client implements MetadataStore {
    private final SimProcess.Incarnation owner;

    Client(SimProcess.Incarnation owner) {
      this.owner = owner;
    }

    @Override
    public Promise<Optional<KeyValue>> get(ByteString key) {
      return operation(owner, "get", () -> state.get(key));
    }

    @Override
    public Promise<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit) {
      Invariants.check(limit >= 1 && limit <= SCAN_LIMIT_MAX, "scan limit %d out of range", limit);
      return operation(owner, "scan", () -> state.scan(startInclusive, endExclusive, limit));
    }

    @Override
    public Promise<TxnResult> commit(Txn txn) {
      return operation(owner, "commit", () -> state.commit(txn));
    }
  }
}
