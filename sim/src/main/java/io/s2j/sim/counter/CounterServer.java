package io.s2j.sim.counter;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcMethod;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayDeque;
import java.util.Optional;

/**
 * A durable fetch-and-increment counter served over the runtime's network: the scaffold scenario
 * that exercises every seam (network, object store or metadata store, timers, crashes) until the S2
 * components exist.
 *
 * <p>Several servers may share one counter. Each increment is a compare-and-swap on the stored
 * state (S3 {@code If-Match}/{@code If-None-Match}, or a metadata transaction guarded by the key's
 * revision), so no increment is lost or applied twice however servers crash or race, and the value
 * is acknowledged only once the write is durable. A write whose outcome is unknown is reported as
 * an indefinite failure and the cached state is dropped. Requests are handled one at a time from a
 * bounded queue; a full queue is a definite failure (overloaded).
 */
public final class CounterServer {
  public static final RpcMethod<IncrementRequest, IncrementResponse> INCREMENT =
      RpcMethod.of("counter.Increment", IncrementRequest.parser(), IncrementResponse.parser());

  /** Where the counter lives. */
  public enum Backend {
    OBJECT_STORE,
    METADATA
  }

  /**
   * Planted bugs, each a mistake a real implementation could make. The scenario's checks know
   * nothing about them; a sweep must still catch every one (see PlantedBugsTest).
   */
  public enum Bug {
    NONE,
    /** Acknowledges the new value as soon as the write is issued, before it is durable. */
    ACK_BEFORE_DURABLE,
    /** Writes without a precondition, so racing servers overwrite each other. */
    BLIND_WRITE,
    /** Reports a write whose outcome is unknown as a definite failure. */
    INDEFINITE_AS_DEFINITE
  }

  public static final ObjectKey OBJECT_KEY = ObjectKey.of("counter/state");
  public static final ByteString METADATA_KEY = ByteString.copyFromUtf8("counter/state");

  static final int QUEUE_MAX = 64;
  static final int CAS_ATTEMPTS_MAX = 5;
  static final int FORMAT_VERSION = 1;

  private final Env env;
  private final Backend backend;
  private final Bug bug;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean busy;

  /** The last state this server wrote or read; null when it must be read again. */
  private Cached cached;

  private record Pending(IncrementRequest request, Promise<IncrementResponse> response) {}

  /** A known version: its value and how to compare-and-swap it (etag or metadata revision). */
  private record Cached(long value, ETag etag, long modRevision) {}

  public CounterServer(Env env, Backend backend, Bug bug) {
    this.env = env;
    this.backend = backend;
    this.bug = bug;
    env.network().serve(INCREMENT, (caller, request) -> enqueue(request));
  }

  private Promise<IncrementResponse> enqueue(IncrementRequest request) {
    Promise<IncrementResponse> response = env.promise();
    if (queue.size() >= QUEUE_MAX) {
      response.complete(definite("overloaded"));
      return response;
    }
    queue.addLast(new Pending(request, response));
    drain();
    return response;
  }

  private void drain() {
    if (busy || queue.isEmpty()) {
      return;
    }
    busy = true;
    Pending next = queue.removeFirst();
    increment(1).onComplete((resp, failure) -> {
      Invariants.check(failure == null, "increment promise failed: %s", failure);
      next.response().complete(resp);
      busy = false;
      drain();
    });
  }

  private Promise<IncrementResponse> increment(int attempt) {
    Promise<Cached> current = cached != null ? Promise.completed(env.scheduler(), cached) : read();
    Promise<IncrementResponse> response = env.promise();
    current.onComplete((state, readFailure) -> {
      if (readFailure != null) {
        cached = null;
        response.complete(failureOf(readFailure));
        return;
      }
      Promise<Cached> write = write(state);
      if (bug == Bug.ACK_BEFORE_DURABLE) {
        cached = null;
        response.complete(IncrementResponse.newBuilder().setValue(state.value() + 1).build());
        return;
      }
      write.onComplete((written, writeFailure) -> {
        if (writeFailure != null) {
          cached = null;
          if (bug == Bug.INDEFINITE_AS_DEFINITE && writeFailure instanceof IoFailure) {
            response.complete(definite("write failed: " + writeFailure.getMessage()));
            return;
          }
          response.complete(failureOf(writeFailure));
        } else if (written != null) {
          cached = written;
          response.complete(IncrementResponse.newBuilder().setValue(written.value()).build());
        } else {
          cached = null;
          if (attempt >= CAS_ATTEMPTS_MAX) {
            response.complete(definite("contention: " + CAS_ATTEMPTS_MAX + " compare-and-swaps lost"));
          } else {
            response.completeWith(increment(attempt + 1));
          }
        }
      });
    });
    return response;
  }

  /** Reads the stored state; fails with the seam's failure. */
  private Promise<Cached> read() {
    return switch (backend) {
      case OBJECT_STORE -> env.objectStore().get(OBJECT_KEY).map(r -> switch (r) {
        case GetResult.Found f -> new Cached(decode(f.data()), f.etag(), 0);
        case GetResult.NotFound n -> new Cached(0, null, 0);
        case GetResult.RangeNotSatisfiable x -> throw new IllegalStateException("no range was asked");
      });
      case METADATA -> env.metadataStore().get(METADATA_KEY).map((Optional<KeyValue> kv) ->
          kv.map(v -> new Cached(decode(v.value()), null, v.modRevision())).orElse(new Cached(0, null, 0)));
    };
  }

  /** Writes value + 1 if the state is still {@code state}; null when the compare-and-swap lost. */
  private Promise<Cached> write(Cached state) {
    long next = state.value() + 1;
    ByteString body = CounterState.newBuilder().setFormatVersion(FORMAT_VERSION).setValue(next).build().toByteString();
    return switch (backend) {
      case OBJECT_STORE -> {
        PutCondition condition = bug == Bug.BLIND_WRITE ? PutCondition.NONE
            : state.etag() == null ? PutCondition.IF_ABSENT : PutCondition.ifMatch(state.etag());
        yield env.objectStore().put(OBJECT_KEY, body, condition).map(r -> switch (r) {
          case PutResult.Written w -> new Cached(next, w.etag(), 0);
          case PutResult.PreconditionFailed p -> null;
        });
      }
      case METADATA -> {
        Txn.Builder txn = Txn.builder();
        if (bug == Bug.BLIND_WRITE) {
          // no condition
        } else if (state.modRevision() == 0) {
          txn.ifAbsent(METADATA_KEY);
        } else {
          txn.ifRevision(METADATA_KEY, state.modRevision());
        }
        yield env.metadataStore().commit(txn.put(METADATA_KEY, body).build()).map(r -> switch (r) {
          case TxnResult.Committed c -> new Cached(next, null, c.revision());
          case TxnResult.ConditionFailed f -> null;
        });
      }
    };
  }

  /** Decodes a stored state; a stored state this version cannot read is a bug. */
  public static long decode(ByteString bytes) {
    try {
      CounterState state = CounterState.parseFrom(bytes);
      Invariants.check(state.getFormatVersion() == FORMAT_VERSION, "unknown counter format %d", state.getFormatVersion());
      return state.getValue();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt counter state", e);
    }
  }

  private static IncrementResponse failureOf(Throwable failure) {
    if (failure instanceof IoFailure io) {
      return io.indefinite()
          ? IncrementResponse.newBuilder().setIndefiniteFailure(io.getMessage()).build()
          : definite(io.getMessage());
    }
    throw new IllegalStateException("unexpected failure", failure);
  }

  private static IncrementResponse definite(String why) {
    return IncrementResponse.newBuilder().setDefiniteFailure(why).build();
  }
}
