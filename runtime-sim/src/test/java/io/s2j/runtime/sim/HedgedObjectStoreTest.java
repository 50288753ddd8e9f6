package io.s2j.runtime.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import io.s2j.storage.HedgedObjectStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Hedged creates and reads over a simulated bucket whose first request misbehaves on purpose. */
class HedgedObjectStoreTest {
  static final long HEDGE_NANOS = 100 * Simulator.MS;

  private SimHarness h;
  private Env env;
  private Misbehaving bucket;
  private HedgedObjectStore hedged;
  private final ObjectKey key = ObjectKey.of("wal/ch-1/00000000000000000001");

  /** What the first request of each kind does; later requests pass straight through. */
  enum Mode {
    PASS, SLOW, APPLIED_BUT_TIMED_OUT, FAIL_READ
  }

  /** The bucket as one process sees it, with the first put or get misbehaving as told. */
  final class Misbehaving implements ObjectStore {
    final ObjectStore inner;
    Mode firstPut = Mode.PASS;
    Mode firstGet = Mode.PASS;
    int puts;
    int gets;

    Misbehaving(ObjectStore inner) {
      this.inner = inner;
    }

    @Override
    public Promise<PutResult> put(ObjectKey k, ByteString data, PutCondition c) {
      Mode mode = puts++ == 0 ? firstPut : Mode.PASS;
      return switch (mode) {
        case SLOW -> {
          Promise<PutResult> p = env.promise();
          env.scheduler().schedule(Simulator.SECOND, () -> p.completeWith(inner.put(k, data, c)));
          yield p;
        }
        case APPLIED_BUT_TIMED_OUT -> inner.put(k, data, c).handle((r, f) -> (PutResult) null)
            .flatMap(r -> Promise.<PutResult>failed(env.scheduler(), IoFailure.timeout("lost response")));
        default -> inner.put(k, data, c);
      };
    }

    @Override
    public Promise<GetResult> get(ObjectKey k) {
      if (gets++ == 0 && firstGet == Mode.FAIL_READ) {
        return Promise.failed(env.scheduler(), IoFailure.definite(IoFailure.Kind.SERVER_ERROR, "500"));
      }
      return inner.get(k);
    }

    @Override
    public Promise<GetResult> get(ObjectKey k, ByteRange range) {
      return inner.get(k, range);
    }

    @Override
    public Promise<Done> delete(ObjectKey k) {
      return inner.delete(k);
    }

    @Override
    public Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
      return inner.list(prefix, startAfter, limit);
    }
  }

  @BeforeEach
  void setUp() {
    h = new SimHarness(3, FaultProfile.NONE);
    env = h.env("client");
    bucket = new Misbehaving(env.objectStore());
    hedged = new HedgedObjectStore(env.scheduler(), bucket, HEDGE_NANOS);
  }

  private PutResult create(String value) {
    return h.await(env, e -> hedged.put(key, ByteString.copyFromUtf8(value), PutCondition.IF_ABSENT));
  }

  @Test
  void aSlowCreateIsSentAgainAndTheSecondAttemptAnswers() {
    bucket.firstPut = Mode.SLOW;
    long start = h.world.simulator().nowNanos();
    assertInstanceOf(PutResult.Written.class, create("chunk"));
    long tookNanos = h.world.simulator().nowNanos() - start;
    assertTrue(tookNanos < Simulator.SECOND, "answered by the hedge, not the slow attempt: " + tookNanos);
    assertEquals(1, hedged.hedges());
    assertEquals(1, hedged.hedgesWon());
    h.world.simulator().runFor(2 * Simulator.SECOND); // the slow attempt lands, refused
    assertEquals("chunk", h.world.bucket().peek(key).toStringUtf8());
  }

  @Test
  void aRefusalAfterAHedgeIsSettledByReadingTheKey() {
    // The first attempt lands but its caller times out; the hedge is refused (the key is
    // taken — by the first attempt), and the read shows these bytes: Written.
    bucket.firstPut = Mode.APPLIED_BUT_TIMED_OUT;
    hedged = new HedgedObjectStore(env.scheduler(), bucket, 1); // hedge at once
    assertInstanceOf(PutResult.Written.class, create("chunk"));
    assertEquals(1, bucket.gets, "the refusal was settled by one read");
  }

  @Test
  void anotherWritersKeyIsRefused() {
    h.await(env, e -> env.objectStore().put(key, ByteString.copyFromUtf8("fence"), PutCondition.IF_ABSENT));
    assertInstanceOf(PutResult.PreconditionFailed.class, create("zombie"));
    bucket.puts = 0;
    bucket.firstPut = Mode.SLOW; // hedged, both attempts refused, the read shows another's bytes
    assertInstanceOf(PutResult.PreconditionFailed.class, create("zombie"));
    assertEquals(1, hedged.hedges());
  }

  @Test
  void aFailedReadIsSentAgainAtOnce() {
    h.await(env, e -> env.objectStore().put(key, ByteString.copyFromUtf8("chunk"), PutCondition.NONE));
    bucket.firstGet = Mode.FAIL_READ;
    GetResult r = h.await(env, e -> hedged.get(key));
    assertEquals("chunk", assertInstanceOf(GetResult.Found.class, r).data().toStringUtf8());
    assertEquals(2, bucket.gets);
  }
}
