package io.s2j.frontend;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.BasinReconfiguration;
import io.s2j.api.Checked;
import io.s2j.api.ConfigProtos;
import io.s2j.api.CreationKey;
import io.s2j.api.ErrorCode;
import io.s2j.api.ProvisionResult;
import io.s2j.api.Provisioning;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.S2Error;
import io.s2j.api.StreamCipher;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.StreamReconfiguration;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.BasinMeta;
import io.s2j.metadata.proto.StreamMeta;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.metadata.proto.TrimMeta;
import io.s2j.record.Limits;
import io.s2j.runtime.Done;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The frontend's control plane: basins and streams kept in the metadata store with S2's semantics
 * and errors (S2-API §4–6, §12.1), plus stream lookup and activation for the data path.
 *
 * <p>Holds no state: every read-modify-write is one transaction guarded by the revision (or the
 * absence) of each key it decided on; a lost race is retried, and a write whose outcome is unknown
 * is resolved by reading it back (see docs/design.md, "Control plane"). Make one per {@link Env}:
 * its ids come from a random stream forked by name from the env's.
 */
public final class Catalog {
  /** Attempts of one read-modify-write before {@code transaction_conflict} (or an indefinite failure). */
  static final int ATTEMPTS_MAX = 6;
  /** Pause per attempt before re-reading after a write whose outcome is unknown. */
  static final long RESOLVE_BACKOFF_NANOS = 20_000_000L;

  private static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

  private final Env env;
  private final MetadataStore store;
  private final RandomSource random;
  private final long streamCacheTtlNanos;
  private final io.s2j.channel.PlantedBug bug;

  /** A catalog whose frontend does not cache stream lookups. */
  public Catalog(Env env) {
    this(env, 0);
  }

  /**
   * A catalog for a frontend whose data path caches stream lookups for up to {@code
   * streamCacheTtlNanos}: every change such a cached lookup could contradict (stream reconfigure,
   * ensure, delete; basin delete) completes only that long after it committed, so that no frontend
   * acts on the old state once the change has been acknowledged.
   */
  public Catalog(Env env, long streamCacheTtlNanos) {
    this(env, streamCacheTtlNanos, io.s2j.channel.PlantedBug.NONE);
  }

  /** A catalog with a planted bug: for the simulator's planted-bug runs only. */
  public Catalog(Env env, long streamCacheTtlNanos, io.s2j.channel.PlantedBug bug) {
    this.bug = bug;
    this.env = env;
    this.store = env.metadataStore();
    this.random = env.random().fork("frontend/catalog");
    this.streamCacheTtlNanos = streamCacheTtlNanos;
  }

  public long streamCacheTtlNanos() {
    return streamCacheTtlNanos;
  }

  /** Completes with {@code change}'s outcome once every cached lookup older than it has expired. */
  private <T> Promise<Outcome<T>> outlivingCaches(Promise<Outcome<T>> change) {
    if (streamCacheTtlNanos == 0) {
      return change;
    }
    Promise<Outcome<T>> later = env.promise();
    change.onComplete((outcome, failure) -> env.scheduler().schedule(streamCacheTtlNanos, () -> {
      if (failure != null) {
        later.fail(failure);
      } else {
        later.complete(outcome);
      }
    }));
    return later;
  }

  // ---------------------------------------------------------------- basins

  /** {@code POST /v1/basins} (§5.3): creates, or replays a create with the same token and config. */
  public Promise<Outcome<Provisioned<BasinInfo>>> createBasin(BasinName basin, BasinConfig config, String requestToken) {
    if (config.validate() instanceof Checked.Invalid<BasinConfig> invalid) {
      return done(Outcome.failed(S2Error.invalid(invalid.message())));
    }
    CreationKey creationKey = CreationKey.ofBasin(requestToken, config);
    ByteString key = MetaKey.basin(basin.value());
    return readModifyWrite("create basin", () -> store.get(key).map(current -> {
      if (current.isEmpty()) {
        return newBasin(basin, config, creationKey);
      }
      BasinMeta meta = basinMeta(current.get());
      if (meta.hasDeletedAtMs()) {
        return Step.fail(S2Error.basinDeletionPending(basin));
      }
      if (Provisioning.isCreateReplay(creationKey(meta.getCreationKey()), creationKey)) {
        return Step.ok(new Provisioned<>(ProvisionResult.NOOP, basinInfo(basin, meta)));
      }
      return Step.fail(S2Error.basinAlreadyExists(basin));
    }));
  }

  /** {@code GET /v1/basins/{basin}} (§5.4): also while the basin is being deleted, as lite does. */
  public Promise<Outcome<BasinConfig>> getBasinConfig(BasinName basin) {
    return readOnly(store.get(MetaKey.basin(basin.value())), current -> current.isEmpty()
        ? Outcome.failed(S2Error.basinNotFound(basin))
        : Outcome.ok(ConfigProtos.fromProto(basinMeta(current.get()).getConfig())));
  }

  /** {@code PUT /v1/basins/{basin}} (§4.5, §5.5): the stored config becomes exactly {@code config}. */
  public Promise<Outcome<Provisioned<BasinInfo>>> ensureBasin(BasinName basin, BasinConfig config) {
    if (config.validate() instanceof Checked.Invalid<BasinConfig> invalid) {
      return done(Outcome.failed(S2Error.invalid(invalid.message())));
    }
    ByteString key = MetaKey.basin(basin.value());
    return readModifyWrite("ensure basin", () -> store.get(key).map(current -> {
      if (current.isEmpty()) {
        return newBasin(basin, config, null);
      }
      BasinMeta meta = basinMeta(current.get());
      if (meta.hasDeletedAtMs()) {
        return Step.fail(S2Error.basinDeletionPending(basin));
      }
      Provisioning.Ensured<BasinConfig> ensured = Provisioning.ensureBasin(ConfigProtos.fromProto(meta.getConfig()), config);
      if (ensured.result() == ProvisionResult.NOOP) {
        return Step.ok(new Provisioned<>(ProvisionResult.NOOP, basinInfo(basin, meta)));
      }
      // the creation key is kept, so a retry of the original create still replays (§4.6)
      BasinMeta updated = meta.toBuilder().setConfig(ConfigProtos.toProto(config)).build();
      return Step.write(Txn.builder().ifRevision(key, current.get().modRevision()), key, updated.toByteString(),
          new Provisioned<>(ProvisionResult.UPDATED, basinInfo(basin, updated)));
    }));
  }

  /** {@code PATCH /v1/basins/{basin}} (§5.7): existing streams keep their configs and ciphers. */
  public Promise<Outcome<BasinConfig>> reconfigureBasin(BasinName basin, BasinReconfiguration patch) {
    String problem = patch.problem();
    if (problem != null) {
      return done(Outcome.failed(S2Error.invalid(problem)));
    }
    ByteString key = MetaKey.basin(basin.value());
    return readModifyWrite("reconfigure basin", () -> store.get(key).map(current -> {
      if (current.isEmpty()) {
        return Step.fail(S2Error.basinNotFound(basin));
      }
      BasinMeta meta = basinMeta(current.get());
      if (meta.hasDeletedAtMs()) {
        return Step.fail(S2Error.basinDeletionPending(basin));
      }
      BasinConfig before = ConfigProtos.fromProto(meta.getConfig());
      BasinConfig after = before.reconfigure(patch).orThrow();
      if (after.equals(before)) {
        return Step.ok(after);
      }
      BasinMeta updated = meta.toBuilder().setConfig(ConfigProtos.toProto(after)).build();
      return Step.write(Txn.builder().ifRevision(key, current.get().modRevision()), key, updated.toByteString(), after);
    }));
  }

  /**
   * {@code DELETE /v1/basins/{basin}} (§5.6, §12.3): marks the basin deleted (202), idempotently.
   * Deleting its streams and finally the basin itself is background work (bgtask).
   */
  public Promise<Outcome<Done>> deleteBasin(BasinName basin) {
    return outlivingCaches(deleteBasinNow(basin));
  }

  private Promise<Outcome<Done>> deleteBasinNow(BasinName basin) {
    ByteString key = MetaKey.basin(basin.value());
    return readModifyWrite("delete basin", () -> store.get(key).map(current -> {
      if (current.isEmpty()) {
        return Step.fail(S2Error.basinNotFound(basin));
      }
      BasinMeta meta = basinMeta(current.get());
      if (meta.hasDeletedAtMs()) {
        return Step.ok(Done.DONE);
      }
      BasinMeta marked = meta.toBuilder().setDeletedAtMs(nowMs()).build();
      return Step.write(Txn.builder().ifRevision(key, current.get().modRevision()), key, marked.toByteString(), Done.DONE);
    }));
  }

  /**
   * {@code GET /v1/basins} (§5.2) with an already validated {@code prefix} and {@code startAfter}
   * (empty = none); a {@code limit} outside 1..1000 means 1000. Basins being deleted are listed.
   */
  public Promise<Outcome<Page<BasinInfo>>> listBasins(String prefix, String startAfter, int limit) {
    ByteString from = MetaKey.basinsPrefix(prefix);
    ByteString after = startAfter.isEmpty() ? null : MetaKey.basinsPrefix(startAfter);
    return list(from, after, limit, kv -> basinInfo(new BasinName(MetaKey.basinName(kv.key())), basinMeta(kv)));
  }

  private Step<Provisioned<BasinInfo>> newBasin(BasinName basin, BasinConfig config, CreationKey creationKey) {
    BasinMeta.Builder meta = BasinMeta.newBuilder()
        .setConfig(ConfigProtos.toProto(config))
        .setCreatedAtMs(nowMs())
        .setCreationNonce(random.nextLong());
    if (creationKey != null) {
      meta.setCreationKey(ByteString.copyFrom(creationKey.toBytes()));
    }
    BasinMeta created = meta.build();
    ByteString key = MetaKey.basin(basin.value());
    return Step.write(Txn.builder().ifAbsent(key), key, created.toByteString(),
        new Provisioned<>(ProvisionResult.CREATED, basinInfo(basin, created)));
  }

  // ---------------------------------------------------------------- streams

  /**
   * {@code POST /v1/streams} (§6.3): the config is resolved against the basin's current defaults,
   * the cipher is the basin's {@code stream_cipher}, and a new stream id is drawn.
   */
  public Promise<Outcome<Provisioned<StreamInfo>>> createStream(
      BasinName basin, StreamName stream, StreamConfigSpec config, String requestToken) {
    if (config.validate() instanceof Checked.Invalid<StreamConfigSpec> invalid) {
      return done(Outcome.failed(S2Error.invalid(invalid.message())));
    }
    return createStreamMeta(basin, stream, config, requestToken).map(o -> o.map(p -> new Provisioned<>(p.result(), streamInfo(stream, p.info()))));
  }

  /** Create, returning the stored meta (the data path needs the id and config of a stream it auto-creates). */
  private Promise<Outcome<Provisioned<StreamMeta>>> createStreamMeta(
      BasinName basin, StreamName stream, StreamConfigSpec config, String requestToken) {
    CreationKey creationKey = CreationKey.ofStream(requestToken, config);
    ByteString basinKey = MetaKey.basin(basin.value());
    ByteString streamKey = MetaKey.stream(basin.value(), stream.value());
    return readModifyWrite("create stream", () -> getBoth(basinKey, streamKey).map(both -> {
      Optional<KeyValue> basinKv = both.get(0);
      Optional<KeyValue> streamKv = both.get(1);
      if (basinKv.isEmpty()) {
        return Step.fail(S2Error.basinNotFound(basin));
      }
      BasinMeta basinMeta = basinMeta(basinKv.get());
      if (basinMeta.hasDeletedAtMs()) {
        return Step.fail(S2Error.basinDeletionPending(basin));
      }
      if (streamKv.isEmpty()) {
        BasinConfig basinConfig = ConfigProtos.fromProto(basinMeta.getConfig());
        StreamMeta created = newStream(streamKey, config.resolve(basinConfig.defaultStreamConfig()), basinConfig.streamCipher(), creationKey);
        return Step.write(Txn.builder().ifRevision(basinKey, basinKv.get().modRevision()).ifAbsent(streamKey),
            streamKey, created.toByteString(), new Provisioned<>(ProvisionResult.CREATED, created));
      }
      StreamMeta meta = streamMeta(streamKv.get());
      if (meta.hasDeletedAtMs()) {
        return Step.fail(S2Error.streamDeletionPending(basin, stream));
      }
      if (Provisioning.isCreateReplay(creationKey(meta.getCreationKey()), creationKey)) {
        return Step.ok(new Provisioned<>(ProvisionResult.NOOP, meta));
      }
      return Step.fail(S2Error.streamAlreadyExists(basin, stream));
    }));
  }

  /**
   * {@code GET /v1/streams/{stream}} (§6.4): the resolved config. Like lite, the basin is not
   * checked: a missing basin means a missing stream.
   */
  public Promise<Outcome<ResolvedStreamConfig>> getStreamConfig(BasinName basin, StreamName stream) {
    return readOnly(store.get(MetaKey.stream(basin.value(), stream.value())), current -> {
      if (current.isEmpty()) {
        return Outcome.failed(S2Error.streamNotFound(basin, stream));
      }
      StreamMeta meta = streamMeta(current.get());
      if (meta.hasDeletedAtMs()) {
        return Outcome.failed(S2Error.streamDeletionPending(basin, stream));
      }
      return Outcome.ok(ConfigProtos.resolvedFromProto(meta.getConfig()));
    });
  }

  /**
   * {@code PUT /v1/streams/{stream}} (§4.5, §6.5): the stored config becomes {@code config}
   * resolved against the basin's current defaults; cipher and creation key are kept.
   */
  public Promise<Outcome<Provisioned<StreamInfo>>> ensureStream(BasinName basin, StreamName stream, StreamConfigSpec config) {
    return outlivingCaches(ensureStreamNow(basin, stream, config));
  }

  private Promise<Outcome<Provisioned<StreamInfo>>> ensureStreamNow(BasinName basin, StreamName stream, StreamConfigSpec config) {
    if (config.validate() instanceof Checked.Invalid<StreamConfigSpec> invalid) {
      return done(Outcome.failed(S2Error.invalid(invalid.message())));
    }
    ByteString basinKey = MetaKey.basin(basin.value());
    ByteString streamKey = MetaKey.stream(basin.value(), stream.value());
    return readModifyWrite("ensure stream", () -> getBoth(basinKey, streamKey).map(both -> {
      Optional<KeyValue> basinKv = both.get(0);
      Optional<KeyValue> streamKv = both.get(1);
      if (basinKv.isEmpty()) {
        return Step.fail(S2Error.basinNotFound(basin));
      }
      BasinMeta basinMeta = basinMeta(basinKv.get());
      if (basinMeta.hasDeletedAtMs()) {
        return Step.fail(S2Error.basinDeletionPending(basin));
      }
      BasinConfig basinConfig = ConfigProtos.fromProto(basinMeta.getConfig());
      Txn.Builder txn = Txn.builder().ifRevision(basinKey, basinKv.get().modRevision());
      if (streamKv.isEmpty()) {
        StreamMeta created = newStream(streamKey, config.resolve(basinConfig.defaultStreamConfig()), basinConfig.streamCipher(), null);
        return Step.write(txn.ifAbsent(streamKey), streamKey, created.toByteString(),
            new Provisioned<>(ProvisionResult.CREATED, streamInfo(stream, created)));
      }
      StreamMeta meta = streamMeta(streamKv.get());
      if (meta.hasDeletedAtMs()) {
        return Step.fail(S2Error.streamDeletionPending(basin, stream));
      }
      Provisioning.Ensured<ResolvedStreamConfig> ensured = Provisioning.ensureStream(
          ConfigProtos.resolvedFromProto(meta.getConfig()), config, basinConfig.defaultStreamConfig());
      if (ensured.result() == ProvisionResult.NOOP) {
        return Step.ok(new Provisioned<>(ProvisionResult.NOOP, streamInfo(stream, meta)));
      }
      StreamMeta updated = meta.toBuilder().setConfig(ConfigProtos.toProto(ensured.config())).build();
      return Step.write(txn.ifRevision(streamKey, streamKv.get().modRevision()), streamKey, updated.toByteString(),
          new Provisioned<>(ProvisionResult.UPDATED, streamInfo(stream, updated)));
    }));
  }

  /**
   * {@code PATCH /v1/streams/{stream}} (§4.2, §6.7): applied to the resolved config, then resolved
   * again against the basin's current defaults. The basin is checked first.
   */
  public Promise<Outcome<ResolvedStreamConfig>> reconfigureStream(BasinName basin, StreamName stream, StreamReconfiguration patch) {
    return outlivingCaches(reconfigureStreamNow(basin, stream, patch));
  }

  private Promise<Outcome<ResolvedStreamConfig>> reconfigureStreamNow(BasinName basin, StreamName stream, StreamReconfiguration patch) {
    String problem = patch.problem();
    if (problem != null) {
      return done(Outcome.failed(S2Error.invalid(problem)));
    }
    ByteString basinKey = MetaKey.basin(basin.value());
    ByteString streamKey = MetaKey.stream(basin.value(), stream.value());
    return readModifyWrite("reconfigure stream", () -> getBoth(basinKey, streamKey).map(both -> {
      Optional<KeyValue> basinKv = both.get(0);
      Optional<KeyValue> streamKv = both.get(1);
      if (basinKv.isEmpty()) {
        return Step.fail(S2Error.basinNotFound(basin));
      }
      BasinMeta basinMeta = basinMeta(basinKv.get());
      if (basinMeta.hasDeletedAtMs()) {
        return Step.fail(S2Error.basinDeletionPending(basin));
      }
      if (streamKv.isEmpty()) {
        return Step.fail(S2Error.streamNotFound(basin, stream));
      }
      StreamMeta meta = streamMeta(streamKv.get());
      if (meta.hasDeletedAtMs()) {
        return Step.fail(S2Error.streamDeletionPending(basin, stream));
      }
      ResolvedStreamConfig before = ConfigProtos.resolvedFromProto(meta.getConfig());
      ResolvedStreamConfig after = before
          .reconfigure(patch, ConfigProtos.fromProto(basinMeta.getConfig()).defaultStreamConfig())
          .orThrow();
      if (after.equals(before)) {
        return Step.ok(after);
      }
      StreamMeta updated = meta.toBuilder().setConfig(ConfigProtos.toProto(after)).build();
      return Step.write(
          Txn.builder().ifRevision(basinKey, basinKv.get().modRevision()).ifRevision(streamKey, streamKv.get().modRevision()),
          streamKey, updated.toByteString(), after);
    }));
  }

  /**
   * {@code DELETE /v1/streams/{stream}} (§6.6, §12.2): marks the stream deleted (202),
   * idempotently, whatever the basin's state. The terminal trim is the stream's channel's, and
   * removing its records and metadata is background work (bgtask).
   */
  public Promise<Outcome<Done>> deleteStream(BasinName basin, StreamName stream) {
    return outlivingCaches(deleteStreamNow(basin, stream));
  }

  private Promise<Outcome<Done>> deleteStreamNow(BasinName basin, StreamName stream) {
    ByteString key = MetaKey.stream(basin.value(), stream.value());
    return readModifyWrite("delete stream", () -> store.get(key).map(current -> {
      if (current.isEmpty()) {
        return Step.fail(S2Error.streamNotFound(basin, stream));
      }
      StreamMeta meta = streamMeta(current.get());
      if (meta.hasDeletedAtMs()) {
        return Step.ok(Done.DONE);
      }
      StreamMeta marked = meta.toBuilder().setDeletedAtMs(nowMs()).build();
      return Step.write(Txn.builder().ifRevision(key, current.get().modRevision()), key, marked.toByteString(), Done.DONE);
    }));
  }

  /**
   * {@code GET /v1/streams} (§6.2), paginated as basins are. Like lite, a missing basin lists as
   * an empty page; streams being deleted are listed.
   */
  public Promise<Outcome<Page<StreamInfo>>> listStreams(BasinName basin, String prefix, String startAfter, int limit) {
    ByteString from = MetaKey.streamsPrefix(basin.value(), prefix);
    ByteString after = startAfter.isEmpty() ? null : MetaKey.stream(basin.value(), startAfter);
    return list(from, after, limit, kv -> streamInfo(new StreamName(MetaKey.streamNames(kv.key())[1]), streamMeta(kv)));
  }

  // ---------------------------------------------------------------- data path

  /**
   * Finds a stream for an append, read or check-tail, auto-creating it when the basin's flag for
   * {@code autoCreate} is on (§12.1): a missing basin is {@code basin_not_found} whatever the
   * flags; a create that loses a race to another creator proceeds with the winner's stream.
   */
  public Promise<Outcome<OpenedStream>> openStream(BasinName basin, StreamName stream, AutoCreate autoCreate) {
    ByteString streamKey = MetaKey.stream(basin.value(), stream.value());
    return store.get(streamKey).flatMap(current -> {
      if (current.isPresent()) {
        StreamMeta meta = streamMeta(current.get());
        if (meta.hasDeletedAtMs()) {
          return done(Outcome.<OpenedStream>failed(S2Error.streamDeletionPending(basin, stream)));
        }
        return chain(meta.getStreamId()).map(chain -> Outcome.ok(opened(meta, chain, false)));
      }
      return store.get(MetaKey.basin(basin.value())).flatMap(basinKv -> {
        if (basinKv.isEmpty()) {
          return done(Outcome.<OpenedStream>failed(S2Error.basinNotFound(basin)));
        }
        BasinConfig config = ConfigProtos.fromProto(basinMeta(basinKv.get()).getConfig());
        boolean allowed = switch (autoCreate) {
          case NONE -> false;
          case ON_APPEND -> config.createStreamOnAppend();
          case ON_READ -> config.createStreamOnRead();
        };
        if (!allowed) {
          return done(Outcome.<OpenedStream>failed(S2Error.streamNotFound(basin, stream)));
        }
        return createStreamMeta(basin, stream, StreamConfigSpec.EMPTY, null).flatMap(created -> switch (created) {
          case Outcome.Ok<Provisioned<StreamMeta>> ok -> done(Outcome.ok(opened(ok.value().info(), List.of(), true)));
          case Outcome.Failed<Provisioned<StreamMeta>> f when f.error().code() == ErrorCode.RESOURCE_ALREADY_EXISTS ->
              openStream(basin, stream, AutoCreate.NONE);
          case Outcome.Failed<Provisioned<StreamMeta>> f -> done(new Outcome.Failed<OpenedStream>(f.error(), f.indefinite()));
        });
      });
    }).handle(Catalog::readFailureAsOutcome);
  }

  /**
   * Activates a dormant stream: if its chain is empty, creates streamlet 0 (start seq num 0, start
   * timestamp 0) on a channel chosen by power of two choices — two distinct random channels, the
   * less loaded by {@code load}. Only one activation can create it; the others return the winner's.
   */
  public Promise<Outcome<List<Streamlet>>> activate(long streamId, List<String> channelIds, ToLongFunction<String> load) {
    if (channelIds.isEmpty()) {
      return done(Outcome.failed(new S2Error(ErrorCode.UNAVAILABLE, "no channel to activate the stream on")));
    }
    ByteString first = MetaKey.streamlet(streamId, 0);
    ByteString trimKey = MetaKey.trim(streamId);
    return readModifyWrite("activate stream", () -> store.get(trimKey).flatMap(trim -> chain(streamId).map(chain -> {
      if (!chain.isEmpty()) {
        return Step.ok(chain);
      }
      // A deleted incarnation keeps its purge marker as a tombstone: a lookup that predates the
      // deletion must not give it a new first link (the cop refuses the same; cell seed 5300).
      if (trim.isPresent() && parse(trim.get(), TrimMeta::parseFrom).getPurge()) {
        return Step.fail(new S2Error(ErrorCode.STREAM_NOT_FOUND, "the stream was deleted"));
      }
      Txn.Builder guard = Txn.builder().ifAbsent(first);
      if (trim.isPresent()) {
        guard.ifRevision(trimKey, trim.get().modRevision());
      } else {
        guard.ifAbsent(trimKey);
      }
      StreamletMeta meta = StreamletMeta.newBuilder()
          .setStreamletId(newId())
          .setChannelId(pickChannel(channelIds, load))
          .setStartSeqNum(0)
          .setStartTimestamp(0)
          .build();
      return Step.write(guard, first, meta.toByteString(), List.of(streamlet(streamId, 0, meta)));
    })));
  }

  private String pickChannel(List<String> channelIds, ToLongFunction<String> load) {
    if (channelIds.size() == 1) {
      return channelIds.get(0);
    }
    int a = random.nextInt(channelIds.size());
    int b = random.nextInt(channelIds.size() - 1);
    if (b >= a) {
      b++; // two distinct channels
    }
    String first = channelIds.get(a);
    String second = channelIds.get(b);
    return load.applyAsLong(second) < load.applyAsLong(first) ? second : first;
  }

  /** The streamlet chain of a stream, in index order. */
  private Promise<List<Streamlet>> chain(long streamId) {
    ByteString prefix = MetaKey.streamletsPrefix(streamId);
    return scanAll(prefix, MetadataStore.prefixEnd(prefix), new ArrayList<>())
        .map(kvs -> kvs.stream().map(kv -> streamlet(streamId, MetaKey.u64At(kv.key(), 1), parse(kv, StreamletMeta::parseFrom))).toList());
  }

  private Promise<List<KeyValue>> scanAll(ByteString from, ByteString end, List<KeyValue> found) {
    return store.scan(from, end, MetadataStore.SCAN_LIMIT_MAX).flatMap(page -> {
      found.addAll(page.entries());
      if (!page.more()) {
        return done(found);
      }
      return scanAll(page.entries().get(page.entries().size() - 1).key().concat(ZERO), end, found);
    });
  }

  /** A chain link from its metadata. */
  public static Streamlet streamlet(long streamId, long index, StreamletMeta m) {
    return new Streamlet(index, m.getStreamletId(), m.getChannelId(), m.getStartSeqNum(),
        m.hasEndSeqNum() ? m.getEndSeqNum() : null, m.getStartTimestamp(), m.getStartFencingToken(), m.getStartTrimPoint(),
        streamId);
  }

  private static OpenedStream opened(StreamMeta meta, List<Streamlet> chain, boolean created) {
    return new OpenedStream(meta.getStreamId(), ConfigProtos.resolvedFromProto(meta.getConfig()), cipher(meta), chain, created);
  }

  // ---------------------------------------------------------------- read-modify-write

  /** What one attempt of a read-modify-write decided from what it read. */
  private sealed interface Step<T> {
    /** Answer without writing. */
    record Answer<T>(Outcome<T> outcome) implements Step<T> {}

    /** Commit {@code txn}, which puts {@code value} at {@code key}; once committed, the answer is {@code result}. */
    record Write<T>(Txn txn, ByteString key, ByteString value, T result) implements Step<T> {}

    static <T> Step<T> ok(T value) {
      return new Answer<>(Outcome.ok(value));
    }

    static <T> Step<T> fail(S2Error error) {
      return new Answer<>(Outcome.failed(error));
    }

    /** A write of {@code value} at {@code key}, guarded by the conditions already in {@code txn}. */
    static <T> Step<T> write(Txn.Builder txn, ByteString key, ByteString value, T result) {
      return new Write<>(txn.put(key, value).build(), key, value, result);
    }
  }

  private <T> Promise<Outcome<T>> readModifyWrite(String what, Supplier<Promise<Step<T>>> decide) {
    Promise<Outcome<T>> result = env.promise();
    new ReadModifyWrite<>(what, decide, result).run(0);
    return result;
  }

  /**
   * Runs {@code decide} and commits what it proposes, up to {@link #ATTEMPTS_MAX} times: a failed
   * condition (a lost race) reads and decides again; a definite store failure before any write may
   * have applied ends it with {@code unavailable}; a write with an unknown outcome is remembered,
   * and every later attempt first reads its key back — finding one of our own values there means
   * that write applied. Retries write under fresh guards, so at most one of them can apply.
   */
  private final class ReadModifyWrite<T> {
    private final String what;
    private final Supplier<Promise<Step<T>>> decide;
    private final Promise<Outcome<T>> result;
    private final List<Step.Write<T>> unresolved = new ArrayList<>();

    ReadModifyWrite(String what, Supplier<Promise<Step<T>>> decide, Promise<Outcome<T>> result) {
      this.what = what;
      this.decide = decide;
      this.result = result;
    }

    void run(int attempt) {
      if (attempt == ATTEMPTS_MAX) {
        result.complete(unresolved.isEmpty()
            ? Outcome.failed(S2Error.transactionConflict())
            : new Outcome.Failed<>(new S2Error(ErrorCode.OTHER, what + ": metadata write outcome unknown"), true));
        return;
      }
      if (unresolved.isEmpty()) {
        decideAndWrite(attempt);
        return;
      }
      store.get(unresolved.get(0).key()).onComplete((current, failure) -> {
        if (failure != null) {
          onStoreFailure(attempt, failure);
          return;
        }
        for (Step.Write<T> w : unresolved) {
          if (current.isPresent() && current.get().value().equals(w.value())) {
            result.complete(Outcome.ok(w.result()));
            return;
          }
        }
        decideAndWrite(attempt);
      });
    }

    private void decideAndWrite(int attempt) {
      Promise<Step<T>> decided;
      try {
        decided = decide.get();
      } catch (RuntimeException e) {
        result.fail(e);
        return;
      }
      decided.onComplete((step, failure) -> {
        if (failure != null) {
          onStoreFailure(attempt, failure);
          return;
        }
        switch (step) {
          case Step.Answer<T> answer -> result.complete(answer.outcome());
          case Step.Write<T> write -> store.commit(write.txn()).onComplete((committed, commitFailure) -> {
            if (commitFailure != null) {
              if (commitFailure instanceof IoFailure io && io.indefinite()) {
                Invariants.check(unresolved.isEmpty() || unresolved.get(0).key().equals(write.key()),
                    "%s: retries write one key", what);
                unresolved.add(write);
              }
              onStoreFailure(attempt, commitFailure);
            } else if (committed instanceof TxnResult.Committed) {
              result.complete(Outcome.ok(write.result()));
            } else {
              run(attempt + 1); // lost a race: read again
            }
          });
        }
      });
    }

    private void onStoreFailure(int attempt, Throwable failure) {
      if (!(failure instanceof IoFailure)) {
        result.fail(failure); // a bug (corrupt metadata, a broken invariant): not an S2 error
      } else if (unresolved.isEmpty()) {
        result.complete(Outcome.failed(unavailable(what)));
      } else {
        env.scheduler().schedule(RESOLVE_BACKOFF_NANOS * (attempt + 1), () -> run(attempt + 1));
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private <T> Promise<Outcome<Page<T>>> list(ByteString prefix, ByteString startAfterKey, int limit, Function<KeyValue, T> item) {
    int pageLimit = limit <= 0 || limit > Limits.LIST_LIMIT_MAX ? Limits.LIST_LIMIT_MAX : limit;
    ByteString end = MetadataStore.prefixEnd(prefix);
    ByteString from = prefix;
    if (startAfterKey != null) {
      ByteString successor = startAfterKey.concat(ZERO); // the first key after start_after
      if (ByteString.unsignedLexicographicalComparator().compare(successor, from) > 0) {
        from = successor;
      }
    }
    if (ByteString.unsignedLexicographicalComparator().compare(from, end) >= 0) {
      return done(Outcome.ok(new Page<>(List.of(), false)));
    }
    // the scanned range holds exactly the matching keys, so "more in range" is has_more
    return readOnly(store.scan(from, end, pageLimit),
        (ScanPage page) -> Outcome.ok(new Page<>(page.entries().stream().map(item).toList(), page.more())));
  }

  private Promise<List<Optional<KeyValue>>> getBoth(ByteString a, ByteString b) {
    return Promise.all(env.scheduler(), List.of(store.get(a), store.get(b)));
  }

  /** A read-only answer: a store failure changed nothing, so it is a definite {@code unavailable}. */
  private <X, T> Promise<Outcome<T>> readOnly(Promise<X> read, Function<X, Outcome<T>> answer) {
    return read.map(answer).handle(Catalog::readFailureAsOutcome);
  }

  private static <T> Outcome<T> readFailureAsOutcome(Outcome<T> value, Throwable failure) {
    if (failure == null) {
      return value;
    }
    if (failure instanceof IoFailure) {
      return Outcome.failed(unavailable("read"));
    }
    throw failure instanceof RuntimeException re ? re : new IllegalStateException(failure);
  }

  private static S2Error unavailable(String what) {
    return new S2Error(ErrorCode.UNAVAILABLE, what + ": metadata store unavailable");
  }

  private <T> Promise<T> done(T value) {
    return Promise.completed(env.scheduler(), value);
  }

  private long nowMs() {
    return env.clock().wallMillis();
  }

  /** A fresh 63-bit id (never 0, which protobuf cannot tell from unset). */
  private long newId() {
    return random.nextLong(1, Long.MAX_VALUE);
  }

  private StreamMeta newStream(ByteString streamKey, ResolvedStreamConfig config, StreamCipher cipher, CreationKey creationKey) {
    long id = newId();
    if (bug == io.s2j.channel.PlantedBug.RECREATE_SEES_OLD_INCARNATION) {
      id = Math.max(1, com.dynatrace.hash4j.hashing.Hashing.xxh3_64().hashBytesToLong(streamKey.toByteArray()) & Long.MAX_VALUE);
    }
    StreamMeta.Builder meta = StreamMeta.newBuilder()
        .setStreamId(id)
        .setConfig(ConfigProtos.toProto(config))
        .setCreatedAtMs(nowMs());
    if (cipher != null) {
      meta.setCipher(ConfigProtos.toProto(cipher));
    }
    if (creationKey != null) {
      meta.setCreationKey(ByteString.copyFrom(creationKey.toBytes()));
    }
    return meta.build();
  }

  private static CreationKey creationKey(ByteString stored) {
    return stored.isEmpty() ? null : CreationKey.fromBytes(stored.toByteArray());
  }

  private static BasinInfo basinInfo(BasinName name, BasinMeta meta) {
    return new BasinInfo(name, meta.getCreatedAtMs(), meta.hasDeletedAtMs() ? meta.getDeletedAtMs() : null);
  }

  private static StreamInfo streamInfo(StreamName name, StreamMeta meta) {
    return new StreamInfo(name, meta.getCreatedAtMs(), meta.hasDeletedAtMs() ? meta.getDeletedAtMs() : null, cipher(meta));
  }

  private static StreamCipher cipher(StreamMeta meta) {
    return meta.hasCipher() ? ConfigProtos.fromProto(meta.getCipher()) : null;
  }

  private static BasinMeta basinMeta(KeyValue kv) {
    return parse(kv, BasinMeta::parseFrom);
  }

  private static StreamMeta streamMeta(KeyValue kv) {
    return parse(kv, StreamMeta::parseFrom);
  }

  private interface Parser<M> {
    M parse(ByteString bytes) throws InvalidProtocolBufferException;
  }

  private static <M> M parse(KeyValue kv, Parser<M> parser) {
    try {
      return parser.parse(kv.value());
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt metadata at " + MetaKey.typeOf(kv.key()) + " key: " + e.getMessage());
    }
  }
}
