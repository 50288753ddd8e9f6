package io.s2j.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ConfigProtos;
import io.s2j.api.ErrorCode;
import io.s2j.api.Patch;
import io.s2j.api.ProvisionResult;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.StreamReconfiguration;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.StreamMeta;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.sim.FaultProfile;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Catalog operations one at a time against a metadata store that refuses requests and loses
 * responses: every operation succeeds (and the store shows it), fails definitely (and the store is
 * unchanged), or is reported as possibly applied.
 */
class CatalogFaultsTest {
  private static final BasinName B = new BasinName("faulty-basin");
  private static final int SEEDS = 40;
  private static final int OPS_PER_SEED = 60;

  private final TreeMap<String, Integer> tally = new TreeMap<>();

  @Test
  void everyOutcomeIsTrueToTheStore() {
    for (long seed = 1; seed <= SEEDS; seed++) {
      runSeed(seed);
    }
    // the faults must have bitten, in every way an outcome can go
    assertTrue(tally.getOrDefault("ok", 0) > 0, "tally " + tally);
    assertTrue(tally.getOrDefault("unavailable", 0) > 0, "tally " + tally);
    assertTrue(tally.getOrDefault("create failed definitely", 0) > 0, "tally " + tally);
    assertTrue(tally.getOrDefault("ok after an unknown outcome", 0) > 0, "tally " + tally);
  }

  private void runSeed(long seed) {
    RandomSource random = RandomSource.seeded(seed).fork("catalog-faults-test");
    FaultProfile faults = new FaultProfile(0, 0, 0, 0, 0, 0, 0,
        0.05 + 0.45 * random.nextDouble(), 0.05 + 0.35 * random.nextDouble(), 0, false, false, false, false);
    SimCatalogs sim = new SimCatalogs(seed, faults);
    String context = "seed " + seed + " " + faults.describe();

    // a token makes the basin create safe to retry until it succeeds
    Outcome<Provisioned<BasinInfo>> basin = null;
    for (int i = 0; i < 100 && !(basin instanceof Outcome.Ok); i++) {
      basin = check(sim, MetaKey.basin(B.value()), context, c -> c.createBasin(B, BasinConfig.DEFAULT, "basin-token"));
    }
    assertTrue(basin instanceof Outcome.Ok, context);

    for (int op = 0; op < OPS_PER_SEED; op++) {
      StreamName stream = new StreamName("s" + random.nextInt(4));
      ByteString key = MetaKey.stream(B.value(), stream.value());
      String token = random.chance(0.5) ? "t-" + stream : null;
      switch (random.nextInt(5)) {
        case 0 -> {
          boolean existed = sim.world.metadata().peek(key).isPresent();
          Outcome<Provisioned<StreamInfo>> o = check(sim, key, context, c -> c.createStream(B, stream, StreamConfigSpec.EMPTY, token));
          if (o instanceof Outcome.Failed<Provisioned<StreamInfo>> f && !f.indefinite()) {
            if (!existed) {
              assertTrue(sim.world.metadata().peek(key).isEmpty(), context + ": a definitely failed create left a stream");
              tally.merge("create failed definitely", 1, Integer::sum);
            }
          } else if (o instanceof Outcome.Ok<Provisioned<StreamInfo>> ok) {
            StreamMeta meta = streamMeta(sim, key).orElseThrow(() -> new AssertionError(context + ": created stream missing"));
            assertEquals(ok.value().info().createdAtMs(), meta.getCreatedAtMs(), context);
            assertTrue(ok.value().result() != ProvisionResult.NOOP || token != null, context + ": noop without a token");
          }
        }
        case 1 -> {
          Outcome<Provisioned<StreamInfo>> o = check(sim, key, context, c -> c.ensureStream(B, stream,
              new StreamConfigSpec(random.chance(0.5) ? StorageClass.STANDARD : null, null, null, null, null)));
          if (o instanceof Outcome.Ok) {
            assertTrue(streamMeta(sim, key).isPresent(), context);
          }
        }
        case 2 -> {
          StreamReconfiguration patch = StreamReconfiguration.NONE.withRetentionPolicy(Patch.set(RetentionPolicy.ageSeconds(1 + random.nextInt(3))));
          Outcome<io.s2j.api.ResolvedStreamConfig> o = check(sim, key, context, c -> c.reconfigureStream(B, stream, patch));
          if (o instanceof Outcome.Ok<io.s2j.api.ResolvedStreamConfig> ok) {
            assertEquals(ok.value(), ConfigProtos.resolvedFromProto(streamMeta(sim, key).orElseThrow().getConfig()), context);
          }
        }
        case 3 -> {
          Outcome<io.s2j.runtime.Done> o = check(sim, key, context, c -> c.deleteStream(B, stream));
          if (o instanceof Outcome.Ok) {
            assertTrue(streamMeta(sim, key).orElseThrow().hasDeletedAtMs(), context);
          }
        }
        default -> {
          Optional<StreamMeta> meta = streamMeta(sim, key);
          if (meta.isEmpty()) {
            continue;
          }
          long id = meta.get().getStreamId();
          Outcome<List<Streamlet>> o = check(sim, MetaKey.streamlet(id, 0), context, c -> c.activate(id, List.of("ch-1", "ch-2", "ch-3"), ch -> 0));
          if (o instanceof Outcome.Ok<List<Streamlet>> ok) {
            assertEquals(1, ok.value().size(), context);
            assertTrue(sim.world.metadata().peek(MetaKey.streamlet(id, 0)).isPresent(), context);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- scripted unknown outcomes

  /** A store whose next commits lose their answers (applied or not), optionally refusing everything after. */
  private static final class ScriptedStore implements MetadataStore {
    private final MetadataStore delegate;
    private final io.s2j.runtime.Scheduler scheduler;
    final ArrayDeque<Boolean> lostCommitsApplied = new ArrayDeque<>();
    boolean refuseAfterLoss;
    private boolean refusing;

    ScriptedStore(MetadataStore delegate, io.s2j.runtime.Scheduler scheduler) {
      this.delegate = delegate;
      this.scheduler = scheduler;
    }

    private <T> Promise<T> refused() {
      return Promise.failed(scheduler, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "scripted outage"));
    }

    @Override
    public Promise<Optional<KeyValue>> get(ByteString key) {
      return refusing ? refused() : delegate.get(key);
    }

    @Override
    public Promise<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit) {
      return refusing ? refused() : delegate.scan(startInclusive, endExclusive, limit);
    }

    @Override
    public Promise<TxnResult> commit(Txn txn) {
      if (refusing) {
        return refused();
      }
      Boolean applied = lostCommitsApplied.poll();
      if (applied == null) {
        return delegate.commit(txn);
      }
      refusing = refuseAfterLoss;
      Promise<TxnResult> lost = Promise.create(scheduler);
      if (applied) {
        delegate.commit(txn).onComplete((v, f) -> lost.fail(IoFailure.timeout("scripted lost answer")));
      } else {
        scheduler.execute(() -> lost.fail(IoFailure.timeout("scripted lost request")));
      }
      return lost;
    }
  }

  private static final StreamName S = new StreamName("orders");

  /** Creates stream S through a catalog on node "fe-1" whose first commit loses its answer (applied or not). */
  private static Outcome<Provisioned<StreamInfo>> createThrough(SimCatalogs sim, boolean applied, boolean refuseAfter) {
    Env env = sim.env("fe-1");
    ScriptedStore store = new ScriptedStore(env.metadataStore(), env.scheduler());
    store.lostCommitsApplied.add(applied);
    store.refuseAfterLoss = refuseAfter;
    Catalog catalog = new Catalog(new Env(env.node(), env.clock(), env.scheduler(), env.network(), env.objectStore(), store, env.random()));
    return sim.run(c -> catalog.createStream(B, S, StreamConfigSpec.EMPTY, null));
  }

  private static SimCatalogs withBasin() {
    SimCatalogs sim = new SimCatalogs();
    SimCatalogs.ok(sim.run(c -> c.createBasin(B, BasinConfig.DEFAULT, null)));
    return sim;
  }

  @Test
  void lostAnswerOfAnAppliedCreateIsRecognisedByReadingBack() {
    SimCatalogs sim = withBasin();
    Outcome<Provisioned<StreamInfo>> o = createThrough(sim, true, false);
    Provisioned<StreamInfo> created = SimCatalogs.ok(o);
    assertEquals(ProvisionResult.CREATED, created.result(), "our own write, found by its stream id");
    assertEquals(created.info().createdAtMs(), streamMeta(sim, MetaKey.stream(B.value(), S.value())).orElseThrow().getCreatedAtMs());
  }

  @Test
  void lostRequestOfACreateIsRetried() {
    SimCatalogs sim = withBasin();
    assertEquals(ProvisionResult.CREATED, SimCatalogs.ok(createThrough(sim, false, false)).result());
    assertTrue(sim.world.metadata().peek(MetaKey.stream(B.value(), S.value())).isPresent());
  }

  @Test
  void unresolvableCreateIsReportedAsPossiblyApplied() {
    SimCatalogs sim = withBasin();
    Outcome<Provisioned<StreamInfo>> o = createThrough(sim, true, true);
    Outcome.Failed<?> f = (Outcome.Failed<?>) o;
    assertTrue(f.indefinite());
    assertEquals(ErrorCode.OTHER, f.error().code());
    assertTrue(sim.world.metadata().peek(MetaKey.stream(B.value(), S.value())).isPresent(), "it did apply");
  }

  @Test
  void unresolvableLostRequestIsStillReportedAsPossiblyApplied() {
    SimCatalogs sim = withBasin();
    Outcome.Failed<?> f = (Outcome.Failed<?>) createThrough(sim, false, true);
    assertTrue(f.indefinite(), "the catalog cannot tell a lost request from a lost answer");
    assertTrue(sim.world.metadata().peek(MetaKey.stream(B.value(), S.value())).isEmpty());
  }

  /** Runs {@code op}; a definite failure must leave {@code key} exactly as it was. */
  private <T> Outcome<T> check(SimCatalogs sim, ByteString key, String context, Function<Catalog, Promise<Outcome<T>>> op) {
    Optional<KeyValue> before = sim.world.metadata().peek(key);
    long revisionBefore = sim.world.metadata().revision();
    long startNanos = sim.world.simulator().nowNanos();
    Outcome<T> outcome = sim.run(op);
    boolean sawTimeout = sim.world.simulator().nowNanos() - startNanos >= sim.world.metadata().requestTimeoutNanos();
    switch (outcome) {
      case Outcome.Ok<T> ok -> {
        tally.merge("ok", 1, Integer::sum);
        if (sawTimeout) {
          // only a write with an unknown outcome makes an operation wait out a timeout and go on
          tally.merge("ok after an unknown outcome", 1, Integer::sum);
        }
      }
      case Outcome.Failed<T> f when f.indefinite() -> {
        assertEquals(ErrorCode.OTHER, f.error().code(), context);
        tally.merge("indefinite", 1, Integer::sum);
      }
      case Outcome.Failed<T> f -> {
        assertEquals(before, sim.world.metadata().peek(key), context + ": definite " + f.error() + " changed the store");
        assertEquals(revisionBefore, sim.world.metadata().revision(), context + ": definite " + f.error() + " committed something");
        tally.merge(f.error().code() == ErrorCode.UNAVAILABLE ? "unavailable" : "definite " + f.error().code().wireCode(), 1, Integer::sum);
      }
    }
    return outcome;
  }

  private static Optional<StreamMeta> streamMeta(SimCatalogs sim, ByteString key) {
    return sim.world.metadata().peek(key).map(kv -> {
      try {
        return StreamMeta.parseFrom(kv.value());
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    });
  }
}
