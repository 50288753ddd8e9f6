package io.s2j.runtime.sim;

import com.dynatrace.hash4j.hashing.Hashing;
import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A simulated S3 bucket with S3's semantics and failure modes.
 *
 * <p>Each operation takes effect atomically at one instant between its call and its response
 * (strong read-after-write, atomic conditional writes). Latency comes from a {@link LatencyModel}
 * (S3 standard or express). Faults, drawn per operation from the world's {@link FaultProfile}:
 * throttling (503, definite, not applied); server errors (a write may or may not be applied, and
 * is reported indefinite; a read is not applied); lost requests (never applied, the caller times
 * out); lost responses (applied, the caller times out); slow requests (latency times 10..100, so a
 * write can apply after its caller already timed out). During an outage every request fails
 * UNAVAILABLE. A caller times out after {@link #requestTimeoutNanos()}.
 */
public final class SimObjectStore {
  private final SimWorld world;
  private final String name;
  private final RandomSource random;
  private final TreeMap<ObjectKey, StoredObject> objects = new TreeMap<>();
  private LatencyModel latency;
  private long requestTimeoutNanos = 10 * Simulator.SECOND;
  private boolean outage;
  private long putsApplied;
  private long getsApplied;

  private record StoredObject(ByteString data, ETag etag) {}

  SimObjectStore(SimWorld world, String name, LatencyModel latency, RandomSource random) {
    this.world = world;
    this.name = name;
    this.latency = latency;
    this.random = random;
  }

  public String name() {
    return name;
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

  /** Starts or ends an outage of this bucket (a zonal outage for an express bucket). */
  public void setOutage(boolean outage) {
    this.outage = outage;
  }

  public boolean outage() {
    return outage;
  }

  public long putsApplied() {
    return putsApplied;
  }

  public long getsApplied() {
    return getsApplied;
  }

  /** The current bytes of {@code key}, read directly (for checks at the end of a run). */
  public ByteString peek(ObjectKey key) {
    StoredObject o = objects.get(key);
    return o == null ? null : o.data;
  }

  /** Every key, in order (for checks at the end of a run). */
  public List<ObjectKey> keys() {
    return new ArrayList<>(objects.keySet());
  }

  ObjectStore client(SimProcess.Incarnation owner) {
    return new Client(owner);
  }

  private enum Fault {
    NONE, THROTTLE, SERVER_ERROR, LOST_REQUEST, LOST_RESPONSE, SLOW
  }

  private Fault drawFault() {
    FaultProfile f = world.faults();
    double r = random.nextDouble();
    if ((r -= f.storeThrottleRate()) < 0) {
      return Fault.THROTTLE;
    }
    if ((r -= f.storeServerErrorRate()) < 0) {
      return Fault.SERVER_ERROR;
    }
    if ((r -= f.storeLostRequestRate()) < 0) {
      return Fault.LOST_REQUEST;
    }
    if ((r -= f.storeLostResponseRate()) < 0) {
      return Fault.LOST_RESPONSE;
    }
    if ((r -= f.storeSlowRate()) < 0) {
      return Fault.SLOW;
    }
    return Fault.NONE;
  }

  /**
   * Runs one operation for {@code owner}: {@code apply} is evaluated atomically at the operation's
   * instant; the result (or a fault) reaches the caller afterwards, unless it crashed.
   */
  private <T> Promise<T> operation(
      SimProcess.Incarnation owner, String op, boolean mutating, long requestBytes, Supplier<T> apply) {
    Simulator sim = world.simulator();
    Promise<T> result = Promise.create(owner.scheduler());
    long now = sim.nowNanos();
    if (outage) {
      sim.schedule(now + latency.sampleNanos(random, 0), owner, EventKind.STORE_RESPOND,
          () -> result.fail(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, name + " is unavailable")));
      return result;
    }
    Fault fault = drawFault();
    long total = latency.sampleNanos(random, requestBytes);
    if (fault == Fault.SLOW) {
      total *= 10 + random.nextInt(90);
    }
    long applyAt = now + Math.max(1, (long) (total * (0.2 + 0.6 * random.nextDouble())));
    long respondAt = Math.max(applyAt, now + total);
    String what = op + " " + name;

    switch (fault) {
      case THROTTLE -> {
        sim.schedule(now + latency.sampleNanos(random, 0), owner, EventKind.STORE_RESPOND,
            () -> result.fail(IoFailure.definite(IoFailure.Kind.THROTTLED, what + ": 503 SlowDown")));
        return result;
      }
      case LOST_REQUEST -> {
        timeout(owner, result, what);
        return result;
      }
      case SERVER_ERROR -> {
        boolean applied = mutating && random.chance(0.5);
        if (applied) {
          sim.schedule(applyAt, null, EventKind.STORE_APPLY, () -> sim.traceMix(traceOf(apply.get())));
        }
        IoFailure failure = mutating
            ? IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, what + ": 500 InternalError")
            : IoFailure.definite(IoFailure.Kind.SERVER_ERROR, what + ": 500 InternalError");
        sim.schedule(respondAt, owner, EventKind.STORE_RESPOND, () -> result.fail(failure));
        return result;
      }
      default -> { }
    }
    boolean answered = fault != Fault.LOST_RESPONSE && respondAt - now <= requestTimeoutNanos;
    if (!answered) {
      timeout(owner, result, what);
    }
    sim.schedule(applyAt, null, EventKind.STORE_APPLY, () -> {
      T value = apply.get();
      sim.traceMix(traceOf(value));
      if (answered) {
        sim.schedule(respondAt, owner, EventKind.STORE_RESPOND, () -> result.complete(value));
      }
    });
    return result;
  }

  private <T> void timeout(SimProcess.Incarnation owner, Promise<T> result, String what) {
    Simulator sim = world.simulator();
    sim.schedule(sim.nowNanos() + requestTimeoutNanos, owner, EventKind.STORE_RESPOND,
        () -> result.fail(IoFailure.timeout(what)));
  }

  /** A deterministic fingerprint of an outcome (records hash by content; enums by ordinal). */
  static long traceOf(Object value) {
    return value instanceof Enum<?> e ? e.ordinal() : value.hashCode();
  }

  private GetResult applyGet(ObjectKey key, ByteRange range) {
    getsApplied++;
    StoredObject o = objects.get(key);
    if (o == null) {
      return new GetResult.NotFound();
    }
    long size = o.data.size();
    if (range == null) {
      return new GetResult.Found(o.data, o.etag, size);
    }
    if (range.offset() >= size) {
      return new GetResult.RangeNotSatisfiable(size);
    }
    long end = Math.min(size, range.offset() + range.length());
    return new GetResult.Found(o.data.substring((int) range.offset(), (int) end), o.etag, size);
  }

  private PutResult applyPut(ObjectKey key, ByteString data, PutCondition condition) {
    StoredObject current = objects.get(key);
    boolean allowed = switch (condition) {
      case PutCondition.None n -> true;
      case PutCondition.IfAbsent a -> current == null;
      case PutCondition.IfMatch m -> current != null && current.etag.equals(m.etag());
    };
    if (!allowed) {
      return new PutResult.PreconditionFailed();
    }
    putsApplied++;
    // Like S3's MD5 etag, a function of the bytes alone: rewriting identical bytes keeps the etag,
    // so components cannot rely on etags differing where S3 would not make them differ.
    ETag etag = new ETag(Long.toHexString(Hashing.xxh3_64().hashBytesToLong(data.toByteArray())));
    objects.put(key, new StoredObject(data, etag));
    return new PutResult.Written(etag);
  }

  private ListPage applyList(String prefix, ObjectKey startAfter, int limit) {
    NavigableMap<ObjectKey, StoredObject> tail = objects;
    if (!prefix.isEmpty()) {
      tail = objects.tailMap(ObjectKey.of(prefix), true);
    }
    if (startAfter != null && (prefix.isEmpty() || startAfter.compareTo(ObjectKey.of(prefix)) >= 0)) {
      tail = objects.tailMap(startAfter, false);
    }
    List<ObjectSummary> page = new ArrayList<>();
    boolean truncated = false;
    for (Map.Entry<ObjectKey, StoredObject> e : tail.entrySet()) {
      if (!e.getKey().value().startsWith(prefix)) {
        break;
      }
      if (page.size() == limit) {
        truncated = true;
        break;
      }
      page.add(new ObjectSummary(e.getKey(), e.getValue().data.size(), e.getValue().etag));
    }
    return new ListPage(page, truncated);
  }

  /** One incarnation's view of the bucket. */
  private final class Client implements ObjectStore {
    private final SimProcess.Incarnation owner;

    Client(SimProcess.Incarnation owner) {
      this.owner = owner;
    }

    @Override
    public Promise<GetResult> get(ObjectKey key) {
      return operation(owner, "GET " + key, false, 0, () -> applyGet(key, null));
    }

    @Override
    public Promise<GetResult> get(ObjectKey key, ByteRange range) {
      return operation(owner, "GET " + key, false, 0, () -> applyGet(key, range));
    }

    @Override
    public Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
      return operation(owner, "PUT " + key, true, data.size(), () -> applyPut(key, data, condition));
    }

    @Override
    public Promise<Done> delete(ObjectKey key) {
      return operation(owner, "DELETE " + key, true, 0, () -> {
        objects.remove(key);
        return Done.DONE;
      });
    }

    @Override
    public Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
      Invariants.check(limit >= 1 && limit <= LIST_LIMIT_MAX, "list limit %d out of range", limit);
      return operation(owner, "LIST " + prefix, false, 0, () -> applyList(prefix, startAfter, limit));
    }
  }
}
