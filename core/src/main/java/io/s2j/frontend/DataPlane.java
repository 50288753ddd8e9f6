package io.s2j.frontend;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.ReadBudget;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.ReadRules;
import io.s2j.api.S2Error;
import io.s2j.api.StartResolution;
import io.s2j.api.StreamName;
import io.s2j.channel.ChannelRpc;
import io.s2j.channel.proto.AppendRequest;
import io.s2j.channel.proto.AppendResponse;
import io.s2j.channel.proto.ErrorProto;
import io.s2j.channel.proto.ReadRequest;
import io.s2j.channel.proto.ReadResponse;
import io.s2j.channel.proto.SequencedRecordProto;
import io.s2j.channel.proto.StreamletRef;
import io.s2j.channel.proto.TailRequest;
import io.s2j.channel.proto.TailResponse;
import io.s2j.format.Segment;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.SegmentMeta;
import io.s2j.record.AppendRecord;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcMethod;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Predicate;

/**
 * The frontend's data path: appends, check-tail and reads of S2 streams, routed to the channel
 * that sequences each stream's current streamlet, with reads planned across segments (in
 * metadata and the object store) and then the records the channel still holds.
 *
 * <p>Every call looks the stream up in metadata (simplified for now: no cache, so config changes
 * and deletions are seen at once; docs/design.md, Status). Channel calls that fail definitely
 * (refused, host down, host not serving) are retried on the channel's other hosts; an outcome
 * that may have taken effect is never retried, and is reported as indefinite.
 */
public final class DataPlane {
  static final long RPC_TIMEOUT_NANOS = 10_000_000_000L;
  static final int HOST_ROUNDS_MAX = 3;
  static final long HOST_ROUND_BACKOFF_NANOS = 100_000_000L;
  /** How long a call waits for the directory to list a channel it does not know (a view refresh or two). */
  static final long UNKNOWN_CHANNEL_WAIT_NANOS_MAX = 3_000_000_000L;

  static final long FOLLOW_POLL_MS = 5_000;
  /** Records a read session's catch-up reads before emitting them. */
  static final int CATCH_UP_STEP_RECORDS = 4 * Limits.READ_BATCH_RECORDS_MAX;
  /** ... and at most about this many metered bytes per step (a step may pass it by one channel read), so a paused session holds little. */
  static final long CATCH_UP_STEP_BYTES = 4 * Limits.READ_BATCH_METERED_BYTES_MAX;
  /** Live batches a paused follower holds before it leaves the shared follow (see {@code Session.heldLive}). */
  static final long LIVE_HELD_BYTES_MAX = CATCH_UP_STEP_BYTES;
  static final long HEARTBEAT_MIN_MS = 5_000;
  static final long HEARTBEAT_MAX_MS = 15_000;

  private final Env env;
  private final Catalog catalog;
  /** Where channels are served; replaced by the runtime when the cell grows. */
  private final io.s2j.runtime.View<ChannelDirectory> directory;
  private final io.s2j.channel.PlantedBug bug;
  /** Reads of immutable segment bytes: through cachey when the cell has cachey nodes. */
  private final io.s2j.cachey.CacheyClient objects;
  /** Nonces for encrypted records: the seeded source unless the runtime gives a secure one. */
  private io.s2j.crypto.NonceSource nonces;
  /** Stream lookups kept for {@link Catalog#streamCacheTtlNanos()} (active streams only). */
  private final java.util.TreeMap<String, CachedStream> streamCache = new java.util.TreeMap<>();
  static final int STREAM_CACHE_ENTRIES_MAX = 100_000;

  private record CachedStream(OpenedStream stream, long fetchedAtNanos) {}

  /** Block indexes of segments read so far (segments are immutable, so entries never go stale). */
  private final java.util.TreeMap<ObjectKey, List<Segment.BlockRow>> segmentIndexes = new java.util.TreeMap<>();
  static final int SEGMENT_INDEXES_MAX = 4096;

  /** One live subscription per followed streamlet, shared by every session at its tail. */
  private final java.util.TreeMap<Long, Subscription> subscriptions = new java.util.TreeMap<>();
  private long followPolls;
  private long pausesTotal;
  private long followsLeftTotal;
  private long appendSessionsOpened;

  public DataPlane(Env env, Catalog catalog, ChannelDirectory directory) {
    this(env, catalog, directory, io.s2j.channel.PlantedBug.NONE);
  }

  /** A data plane with a planted bug: for the simulator's planted-bug runs only. */
  public DataPlane(Env env, Catalog catalog, ChannelDirectory directory, io.s2j.channel.PlantedBug bug) {
    this(env, catalog, directory, bug, io.s2j.cachey.CacheyClient.direct(env));
  }

  /**
   * A data plane reading segment bytes through {@code objects} (a {@link io.s2j.cachey.CacheyClient}
   * over the cell's cachey nodes, or {@link io.s2j.cachey.CacheyClient#direct} for the object store).
   */
  public DataPlane(Env env, Catalog catalog, ChannelDirectory directory, io.s2j.channel.PlantedBug bug,
      io.s2j.cachey.CacheyClient objects) {
    this(env, catalog, io.s2j.runtime.View.of(directory), bug, objects);
  }

  /**
   * A data plane whose channel directory is {@code directory}'s current snapshot at each call (a
   * stream activated on a channel this frontend does not know yet waits for the view to list it, up
   * to {@link #UNKNOWN_CHANNEL_WAIT_NANOS_MAX}).
   */
  public DataPlane(Env env, Catalog catalog, io.s2j.runtime.View<ChannelDirectory> directory, io.s2j.channel.PlantedBug bug,
      io.s2j.cachey.CacheyClient objects) {
    this.env = env;
    this.catalog = catalog;
    this.directory = directory;
    this.bug = bug;
    this.objects = objects;
    this.activator = (streamId, storageClass) -> catalog.activate(streamId, directory.current().channelIdsFor(storageClass), c -> 0);
    this.nonces = env.random().fork("nonces")::nextBytes;
  }

  /**
   * Draws encryption nonces from {@code source} (the real runtime passes a {@code SecureRandom}:
   * a nonce that repeats under one key breaks AES-GCM).
   */
  public void useNonces(io.s2j.crypto.NonceSource source) {
    this.nonces = java.util.Objects.requireNonNull(source, "source");
  }

  /** How segment bytes are read (through cachey, or directly). */
  public io.s2j.cachey.CacheyClient objects() {
    return objects;
  }

  // ---------------------------------------------------------------- shared plumbing

  private static <T> Outcome<T> failed(ErrorCode code, String message, boolean indefinite) {
    return new Outcome.Failed<>(new S2Error(code, message), indefinite);
  }

  private static <T> Outcome<T> failedFrom(ErrorProto e) {
    return failed(ErrorCode.valueOf(e.getCode()), e.getMessage(), e.getIndefinite());
  }

  private static <T> Outcome<T> failedFrom(Throwable failure) {
    if (failure instanceof IoFailure io) {
      return failed(ErrorCode.UNAVAILABLE, io.getMessage(), io.indefinite());
    }
    if (failure instanceof io.s2j.format.CorruptData corrupt) {
      // A checksum caught damaged bytes: refuse to serve them (S2's `storage` error).
      return failed(ErrorCode.STORAGE, "corrupt stored data: " + corrupt.getMessage(), false);
    }
    throw new IllegalStateException("unexpected failure: " + failure, failure);
  }

  private static Outcome.Failed<?> asFailed(Outcome<?> o) {
    return (Outcome.Failed<?>) o;
  }

  private static <T, U> Outcome<U> pass(Outcome.Failed<T> f) {
    return new Outcome.Failed<>(f.error(), f.indefinite());
  }

  static StreamletRef ref(Streamlet sl, OpenedStream stream) {
    return ChannelRpc.streamletRef(sl.streamletId(), new StreamPosition(sl.startSeqNum(), sl.startTimestamp()),
        stream.config(), stream.cipher()).toBuilder()
        .setStreamId(sl.streamId()).setIndex(sl.index()).setStartFencingToken(sl.startFencingToken())
        .setStartTrimPoint(sl.startTrimPoint()).setChannelId(sl.channelId()).build();
  }

  /** Prefix of the message of a failure meaning "this streamlet is sealed: read the chain again". */
  static final String SEALED = "sealed: ";
  /** How often a call that met a sealed streamlet reads the chain again before giving up. */
  static final int SEALED_RETRIES_MAX = 40;
  static final long SEALED_RETRY_BACKOFF_MIN_NANOS = 5_000_000L;
  static final long SEALED_RETRY_BACKOFF_MAX_NANOS = 200_000_000L;

  /**
   * How long to wait before look number {@code attempt} at a chain whose last link was sealed: at
   * once the first time, then 5 ms doubling to 200 ms (a migration's commit is a few metadata
   * round trips away; 40 looks span about 7 s).
   */
  static long sealedBackoffNanos(int attempt) {
    return attempt == 0 ? 0 : Math.min(SEALED_RETRY_BACKOFF_MAX_NANOS, SEALED_RETRY_BACKOFF_MIN_NANOS << Math.min(attempt - 1, 16));
  }
  private long sealedRetries;
  private long sessionResends;

  /** Append-session inputs sent again to a stream's next link after a migration sealed theirs. */
  public long sessionResends() {
    return sessionResends;
  }

  void countSessionResends(int inputs) {
    sessionResends += inputs;
  }

  /** Calls that met a sealed streamlet and went again with a fresh chain (migrations seen). */
  public long sealedRetries() {
    return sealedRetries;
  }

  private static <T> Outcome<T> sealedFrom(ErrorProto e) {
    return failed(ErrorCode.UNAVAILABLE, SEALED + e.getMessage(), false);
  }

  static boolean isSealed(Outcome<?> o) {
    return o instanceof Outcome.Failed<?> f && f.error().message().startsWith(SEALED);
  }

  /** Drops cached lookups of a stream whose chain moved on. */
  private void forget(long streamId) {
    streamCache.values().removeIf(c -> c.stream().streamId() == streamId);
  }

  private void forget(BasinName basin, StreamName stream) {
    streamCache.remove(basin.value() + "\u0000" + stream.value());
  }

  /**
   * Runs {@code call} again, with the stream's lookup dropped from the cache, while it fails because
   * a streamlet is sealed (a migration is handing the stream over): each time the chain is read
   * anew, so the call goes to the new link once the migration committed.
   */
  private <T> Promise<Outcome<T>> acrossMigrations(BasinName basin, StreamName stream, java.util.function.Supplier<Promise<Outcome<T>>> call,
      int attempt) {
    return call.get().flatMap(o -> {
      if (!isSealed(o) || attempt >= SEALED_RETRIES_MAX) {
        return Promise.completed(env.scheduler(), o);
      }
      sealedRetries++;
      forget(basin, stream);
      Promise<Outcome<T>> again = env.promise();
      env.scheduler().schedule(sealedBackoffNanos(attempt), () ->
          acrossMigrations(basin, stream, call, attempt + 1).onComplete((r, f) -> {
            if (f != null) {
              again.fail(f);
            } else {
              again.complete(r);
            }
          }));
      return again;
    });
  }

  /**
   * Calls a channel, trying its hosts in turn while the failure is definite: a refused or
   * undelivered request, or a host answering {@code unavailable} (down, taking over, fenced).
   */
  private <Req extends Message, Resp extends Message> Promise<Resp> callChannel(
      String channelId, RpcMethod<Req, Resp> method, Req request, Predicate<Resp> hostUnavailable) {
    Promise<Resp> result = env.promise();
    whenKnown(channelId, 0, () -> attempt(directory.current().hostsOf(channelId), 0, method, request, hostUnavailable, result),
        result);
    return result;
  }

  /**
   * Runs {@code then} once the directory lists {@code channelId}: the cop may have activated a
   * stream on a channel that joined the cell after this frontend's last view of it. The view is
   * looked at again every {@link #HOST_ROUND_BACKOFF_NANOS}; after {@link
   * #UNKNOWN_CHANNEL_WAIT_NANOS_MAX} the call fails definitely (nothing was sent).
   */
  private void whenKnown(String channelId, long waitedNanos, Runnable then, Promise<?> result) {
    if (directory.current().has(channelId)) {
      then.run();
    } else if (waitedNanos >= UNKNOWN_CHANNEL_WAIT_NANOS_MAX) {
      result.fail(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "channel " + channelId + " is not in this frontend's directory"));
    } else {
      env.scheduler().schedule(HOST_ROUND_BACKOFF_NANOS,
          () -> whenKnown(channelId, waitedNanos + HOST_ROUND_BACKOFF_NANOS, then, result));
    }
  }

  private <Req extends Message, Resp extends Message> void attempt(
      List<NodeId> hosts, int n, RpcMethod<Req, Resp> method, Req request, Predicate<Resp> hostUnavailable, Promise<Resp> result) {
    NodeId host = hosts.get(n % hosts.size());
    env.network().call(host, method, request, RPC_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      boolean definiteMiss = (failure instanceof IoFailure io && !io.indefinite()) || (failure == null && hostUnavailable.test(resp));
      if (definiteMiss && n + 1 < hosts.size() * HOST_ROUNDS_MAX) {
        long delay = (n + 1) % hosts.size() == 0 ? HOST_ROUND_BACKOFF_NANOS : 0;
        env.scheduler().schedule(delay, () -> attempt(hosts, n + 1, method, request, hostUnavailable, result));
      } else if (failure != null) {
        result.fail(failure);
      } else {
        result.complete(resp);
      }
    });
  }

  private static boolean unavailable(ErrorProto e) {
    return e.getCode().equals(ErrorCode.UNAVAILABLE.name()) && !e.getIndefinite() && !e.getSealed();
  }

  /** The stream's current streamlet, activating a dormant stream when {@code activate}. */
  private Promise<Outcome<Streamlet>> currentStreamlet(OpenedStream stream, boolean activate) {
    if (!stream.streamlets().isEmpty()) {
      return Promise.completed(env.scheduler(), Outcome.ok(last(stream.streamlets())));
    }
    if (!activate) {
      return Promise.completed(env.scheduler(), Outcome.ok(null));
    }
    return activator.activate(stream.streamId(), stream.config().storageClass()).map(o -> o.map(DataPlane::last));
  }

  private static Streamlet last(List<Streamlet> chain) {
    return chain.get(chain.size() - 1);
  }

  /** {@code os} with the link its activation just created, if its lookup found it dormant. */
  private static OpenedStream withLink(OpenedStream os, Streamlet first) {
    return os.streamlets().isEmpty() ? new OpenedStream(os.streamId(), os.config(), os.cipher(), List.of(first), os.created(), os.key()) : os;
  }

  /** The link of the chain that holds {@code seq} (the last one starting at or before it). */
  private static Streamlet linkFor(OpenedStream os, long seq) {
    List<Streamlet> chain = os.streamlets();
    for (int i = chain.size() - 1; i > 0; i--) {
      if (chain.get(i).startSeqNum() <= seq) {
        return chain.get(i);
      }
    }
    return chain.get(0);
  }

  /** Activates dormant streams: the cop when the cell has one, else the catalog itself. */
  public interface Activator {
    /** Activates the stream on a channel of {@code storageClass} when the cell has one. */
    Promise<Outcome<List<Streamlet>>> activate(long streamId, io.s2j.api.StorageClass storageClass);
  }

  private Activator activator;

  /** Activation goes through {@code activator} (e.g. the cop) instead of the catalog. */
  public DataPlane withActivator(Activator activator) {
    this.activator = activator;
    return this;
  }

  /**
   * The stream's lookup, from the cache while fresh. An entry expires {@code ttl} after its lookup
   * began, and the catalog acknowledges a change only {@code ttl} after committing it, so an entry
   * never outlives an acknowledged change (docs/design.md, "The stream cache"). Only active streams
   * (with a streamlet) are cached; errors never are.
   */
  private Promise<Outcome<OpenedStream>> open(BasinName basin, StreamName stream, AutoCreate autoCreate) {
    long ttl = catalog.streamCacheTtlNanos();
    if (ttl == 0) {
      return catalog.openStream(basin, stream, autoCreate);
    }
    String key = basin.value() + "\u0000" + stream.value();
    long now = env.clock().nowNanos();
    CachedStream cached = streamCache.get(key);
    if (cached != null && now - cached.fetchedAtNanos() < ttl) {
      return Promise.completed(env.scheduler(), Outcome.ok(cached.stream()));
    }
    return catalog.openStream(basin, stream, autoCreate).map(o -> {
      if (o instanceof Outcome.Ok<OpenedStream> ok && !ok.value().streamlets().isEmpty()) {
        if (streamCache.size() >= STREAM_CACHE_ENTRIES_MAX && !streamCache.containsKey(key)) {
          streamCache.pollFirstEntry();
        }
        streamCache.put(key, new CachedStream(ok.value(), now));
      }
      return o;
    });
  }

  // ---------------------------------------------------------------- append and tail

  /** Appends one batch (S2-API §6.9, §7): an ack, a condition failure, or an error. */
  public Promise<Outcome<AppendResult>> append(BasinName basin, StreamName stream, AppendInput input) {
    return append(basin, stream, input, null);
  }

  /** {@link #append(BasinName, StreamName, AppendInput)} with the client's encryption key (null if none was sent). */
  public Promise<Outcome<AppendResult>> append(BasinName basin, StreamName stream, AppendInput input, io.s2j.crypto.EncryptionKey key) {
    return acrossMigrations(basin, stream, () -> appendOnce(basin, stream, input, key), 0);
  }

  private Promise<Outcome<AppendResult>> appendOnce(BasinName basin, StreamName stream, AppendInput input, io.s2j.crypto.EncryptionKey key) {
    return appendTarget(basin, stream, key).flatMap(target -> switch (target) {
      case Outcome.Failed<AppendTarget> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<AppendTarget> ok -> appendTo(ok.value().stream(), ok.value().streamlet(), input);
    });
  }

  /**
   * Opens an append session on one stream (S2-API §10.3): inputs are pipelined to the channel and
   * acknowledged in submission order; the first failure ends the session.
   */
  public AppendSession openAppendSession(BasinName basin, StreamName stream) {
    return openAppendSession(basin, stream, null);
  }

  /** {@link #openAppendSession(BasinName, StreamName)} with the client's encryption key (null if none was sent). */
  public AppendSession openAppendSession(BasinName basin, StreamName stream, io.s2j.crypto.EncryptionKey key) {
    String id = env.network().self() + "/" + Long.toHexString(env.random().nextLong()) + "/" + (++appendSessionsOpened);
    return new AppendSession(env, this, basin, stream, key, id);
  }

  /**
   * The stream and the streamlet an append goes to (activating a dormant stream); an encrypted
   * stream without {@code key} is {@code 400 bad_header}.
   */
  Promise<Outcome<AppendTarget>> appendTarget(BasinName basin, StreamName stream, io.s2j.crypto.EncryptionKey key) {
    return open(basin, stream, AutoCreate.ON_APPEND).flatMap(opened -> switch (opened) {
      case Outcome.Failed<OpenedStream> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<OpenedStream> ok when ok.value().withKey(key).missingKey() ->
          Promise.completed(env.scheduler(), Outcome.failed(io.s2j.crypto.RecordEncryption.missingKey(ok.value().cipher())));
      case Outcome.Ok<OpenedStream> ok -> currentStreamlet(ok.value(), true).map(current -> switch (current) {
        case Outcome.Failed<Streamlet> f -> pass(f);
        case Outcome.Ok<Streamlet> sl -> Outcome.ok(new AppendTarget(ok.value().withKey(key), sl.value()));
      });
    });
  }

  record AppendTarget(OpenedStream stream, Streamlet streamlet) {}

  private Promise<Outcome<AppendResult>> appendTo(OpenedStream stream, Streamlet sl, AppendInput input) {
    return appendTo(stream, sl, input, null, 0);
  }

  /** One append to the channel; within a session ({@code sessionId} set) in index order there. */
  Promise<Outcome<AppendResult>> appendTo(OpenedStream stream, Streamlet sl, AppendInput input, String sessionId, long index) {
    AppendRequest.Builder request = AppendRequest.newBuilder().setStreamlet(ref(sl, stream));
    if (sessionId != null) {
      request.setSession(io.s2j.channel.proto.AppendSessionRef.newBuilder().setId(sessionId).setIndex(index));
    }
    for (AppendRecord r : input.batch().records()) {
      request.addRecords(ChannelRpc.toProto(stream.cipher() == null ? r
          : io.s2j.crypto.RecordEncryption.encrypt(stream.cipher(), stream.key(), stream.streamId(), r, nonces)));
    }
    if (input.matchSeqNum() != null) {
      request.setMatchSeqNum(input.matchSeqNum());
    }
    if (input.fencingToken() != null) {
      request.setFencingToken(input.fencingToken());
    }
    return appendVia(stream, request.build(), sessionId, index, 0);
  }

  /** Speculative hops one append may take (a link announced, then perhaps that one sealed too). */
  static final int SPECULATIVE_HOPS_MAX = 3;
  private long speculativeAppends;

  /** Appends sent straight to a link a migration's source announced, without reading the chain. */
  public long speculativeAppends() {
    return speculativeAppends;
  }

  /**
   * Sends {@code request} to the channel its streamlet names. A refusal "sealed" that announces the
   * next link (a migration handing the stream over speculatively) sends the same records there at
   * once; the new channel holds the answer until the chain names that link (docs/design.md, "The
   * cop"). Append sessions do not follow announcements: their requests are ordered per channel.
   */
  private Promise<Outcome<AppendResult>> appendVia(OpenedStream stream, AppendRequest request, String sessionId, long index, int hops) {
    // A session's later requests must reach the host that knows the session: no other host retries.
    boolean retryHosts = sessionId == null || index == 0;
    return callChannel(request.getStreamlet().getChannelId(), ChannelRpc.APPEND, request,
        r -> retryHosts && r.hasError() && unavailable(r.getError()))
        .flatMap(resp -> {
          if (resp.hasError() && resp.getError().getSealed() && resp.getError().hasNext() && sessionId == null
              && hops < SPECULATIVE_HOPS_MAX) {
            forget(stream.streamId());
            speculativeAppends++;
            StreamletRef next = resp.getError().getNext().toBuilder().setConfig(request.getStreamlet().getConfig())
                .setCipher(request.getStreamlet().getCipher()).build();
            return appendVia(stream, request.toBuilder().setStreamlet(next).build(), null, 0, hops + 1);
          }
          return Promise.completed(env.scheduler(), appendOutcome(stream, resp));
        }, failure -> Promise.completed(env.scheduler(), failedFrom(failure)));
  }

  private Outcome<AppendResult> appendOutcome(OpenedStream stream, AppendResponse resp) {
    return switch (resp.getOutcomeCase()) {
      case ACK -> Outcome.ok(new AppendAck(ChannelRpc.fromProto(resp.getAck().getStart()),
          ChannelRpc.fromProto(resp.getAck().getEnd()), ChannelRpc.fromProto(resp.getAck().getTail())));
      case SEQ_NUM_MISMATCH -> Outcome.ok(new AppendResult.SeqNumMismatch(resp.getSeqNumMismatch()));
      case FENCING_TOKEN_MISMATCH -> Outcome.ok(new AppendResult.FencingTokenMismatch(resp.getFencingTokenMismatch()));
      case ERROR -> {
        if (resp.getError().getSealed()) {
          forget(stream.streamId());
          yield sealedFrom(resp.getError());
        }
        yield failedFrom(resp.getError());
      }
      case OUTCOME_NOT_SET -> throw new IllegalStateException("append response without outcome");
    };
  }

  /** The durable tail (S2-API §6.8). */
  public Promise<Outcome<StreamPosition>> checkTail(BasinName basin, StreamName stream) {
    return acrossMigrations(basin, stream, () -> checkTailOnce(basin, stream), 0);
  }

  private Promise<Outcome<StreamPosition>> checkTailOnce(BasinName basin, StreamName stream) {
    return open(basin, stream, AutoCreate.ON_READ).flatMap(opened -> switch (opened) {
      case Outcome.Failed<OpenedStream> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<OpenedStream> ok -> ok.value().streamlets().isEmpty()
          ? Promise.completed(env.scheduler(), Outcome.ok(StreamPosition.ZERO))
          : tailOf(ok.value(), last(ok.value().streamlets()));
    });
  }

  private Promise<Outcome<StreamPosition>> tailOf(OpenedStream stream, Streamlet sl) {
    return tailAndTrimOf(stream, sl).map(o -> o.map(TailAndTrim::tail));
  }

  /** The durable tail and, at the same instant, the durable trim point of a streamlet. */
  record TailAndTrim(StreamPosition tail, long trimPoint) {}

  private Promise<Outcome<TailAndTrim>> tailAndTrimOf(OpenedStream stream, Streamlet sl) {
    TailRequest request = TailRequest.newBuilder().setStreamlet(ref(sl, stream)).build();
    return callChannel(sl.channelId(), ChannelRpc.TAIL, request, r -> r.hasError() && unavailable(r.getError()))
        .handle((resp, failure) -> {
          if (failure != null) {
            return failedFrom(failure);
          }
          return resp.hasTail() ? Outcome.ok(new TailAndTrim(ChannelRpc.fromProto(resp.getTail()), resp.getTrimPoint()))
              : resp.getError().getSealed() ? sealedFrom(resp.getError()) : failedFrom(resp.getError());
        });
  }

  // ---------------------------------------------------------------- trim points

  /**
   * A stream's retention trim point (bgtask's {@code TrimMeta}), cached like stream lookups: age
   * retention is eventual (S2 promises only that expired records vanish "a short time after"), and
   * a read that finds a segment collected meanwhile asks again with {@code fresh}.
   */
  private Promise<Long> retentionTrim(long streamId, boolean fresh) {
    if (bug == io.s2j.channel.PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD) {
      return Promise.completed(env.scheduler(), 0L);
    }
    long now = env.clock().nowNanos();
    CachedTrim cached = retentionTrims.get(streamId);
    long ttl = Math.max(catalog.streamCacheTtlNanos(), 1);
    if (!fresh && cached != null && now - cached.fetchedAtNanos() < ttl) {
      return Promise.completed(env.scheduler(), cached.trimPoint());
    }
    return env.metadataStore().get(MetaKey.trim(streamId)).handle((kv, failure) -> {
      if (failure != null) {
        return cached == null ? 0L : cached.trimPoint();
      }
      long trim = 0;
      if (kv.isPresent()) {
        try {
          io.s2j.metadata.proto.TrimMeta meta = io.s2j.metadata.proto.TrimMeta.parseFrom(kv.get().value());
          // A deleted incarnation (purge marker) has nothing left to read.
          trim = meta.getPurge() ? Long.MAX_VALUE : meta.getTrimPoint();
        } catch (InvalidProtocolBufferException e) {
          throw new Invariants.InvariantViolation("corrupt trim metadata: " + e.getMessage());
        }
      }
      if (retentionTrims.size() >= STREAM_CACHE_ENTRIES_MAX && !retentionTrims.containsKey(streamId)) {
        retentionTrims.pollFirstEntry();
      }
      long known = cached == null ? 0 : cached.trimPoint();
      retentionTrims.put(streamId, new CachedTrim(Math.max(known, trim), now));
      return Math.max(known, trim);
    });
  }

  private record CachedTrim(long trimPoint, long fetchedAtNanos) {}

  /** Retention trim points by stream id, kept for the stream cache's TTL. */
  private final java.util.TreeMap<Long, CachedTrim> retentionTrims = new java.util.TreeMap<>();

  /**
   * Where a read at {@code seq} may go on after finding no segment (or a missing segment object)
   * for it: the streamlet's trim point asked afresh of the channel, and the retention trim point
   * afresh from metadata. Above {@code seq} means the records were trimmed and collected while the
   * read was under way; otherwise the records are really missing (a {@code storage} error).
   */
  private Promise<Long> freshFloor(OpenedStream os, Streamlet sl, Outcome<TailAndTrim> linkNow) {
    // The stream's trim point is its last link's: a link sealed by a migration keeps the one it had
    // (a terminal trim, say, reaches only the last link), while bgtask collects by the stream's
    // (found by the sweep: cell seed 175, a read of a sealed link whose segments a deletion took).
    Streamlet newest = os.streamlets().isEmpty() ? sl : last(os.streamlets());
    Promise<Long> streamTrim = newest.streamletId() == sl.streamletId() ? Promise.completed(env.scheduler(), 0L)
        : tailAndTrimOf(os, newest).map(DataPlane::trimPointOr0);
    return streamTrim.flatMap(b -> retentionTrim(os.streamId(), true).map(retained ->
        Math.max(Math.max(trimPointOr0(linkNow), b), retained)));
  }

  private static long trimPointOr0(Outcome<TailAndTrim> t) {
    return t instanceof Outcome.Ok<TailAndTrim> ok ? ok.value().trimPoint() : 0L;
  }

  /** The message prefix of a segment (or its metadata) not found: the read checks the trim point before calling it lost. */
  private static final String SEGMENT_MISSING = "missing from segments: ";

  // ---------------------------------------------------------------- reads

  /**
   * A unary read (S2-API §6.10, §8): catch-up from the resolved start to the tail within the
   * unary caps; at the tail with {@code wait > 0}, the first live batch (long poll).
   */
  public Promise<Outcome<ReadResult>> read(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd requested) {
    return read(basin, stream, from, clamp, requested, null);
  }

  /** {@link #read(BasinName, StreamName, ReadFrom, boolean, ReadEnd)} with the client's encryption key (null if none was sent). */
  public Promise<Outcome<ReadResult>> read(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd requested,
      io.s2j.crypto.EncryptionKey key) {
    return acrossMigrations(basin, stream, () -> readOnce(basin, stream, from, clamp, requested, key), 0);
  }

  private Promise<Outcome<ReadResult>> readOnce(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd requested,
      io.s2j.crypto.EncryptionKey key) {
    ReadEnd end = requested.forUnary();
    return open(basin, stream, AutoCreate.ON_READ).flatMap(opened -> switch (opened) {
      case Outcome.Failed<OpenedStream> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<OpenedStream> ok when ok.value().withKey(key).missingKey() ->
          Promise.completed(env.scheduler(), Outcome.failed(io.s2j.crypto.RecordEncryption.missingKey(ok.value().cipher())));
      case Outcome.Ok<OpenedStream> ok -> {
        OpenedStream os = ok.value().withKey(key);
        if (os.streamlets().isEmpty()) {
          StartResolution start = ReadRules.resolveStart(from, clamp, StreamPosition.ZERO, end.mayFollow(), t -> OptionalLong.empty());
          if (start instanceof StartResolution.Unsatisfiable u) {
            yield Promise.completed(env.scheduler(), Outcome.ok(new ReadResult.Unsatisfiable(u.tail())));
          }
        }
        yield currentStreamlet(os, end.mayFollow()).flatMap(current -> switch (current) {
          case Outcome.Failed<Streamlet> f -> Promise.completed(env.scheduler(), pass(f));
          case Outcome.Ok<Streamlet> sl -> sl.value() == null
              ? Promise.completed(env.scheduler(), Outcome.ok(new ReadResult.Batch(List.of(), null)))
              : readFrom(withLink(os, sl.value()), sl.value(), from, clamp, end);
        });
      }
    });
  }

  private Promise<Outcome<ReadResult>> readFrom(OpenedStream os, Streamlet sl, ReadFrom from, boolean clamp, ReadEnd end) {
    return tailAndTrimOf(os, sl).flatMap(tailOutcome -> switch (tailOutcome) {
      case Outcome.Failed<TailAndTrim> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<TailAndTrim> t -> {
        StreamPosition tail = t.value().tail();
        long trimPoint = bug == io.s2j.channel.PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD ? 0 : t.value().trimPoint();
        Promise<OptionalLong> found = from instanceof ReadFrom.Timestamp ts && Long.compareUnsigned(ts.timestampMs(), tail.timestamp()) <= 0
            ? firstAtOrAfter(os, sl, ts.timestampMs(), tail.seqNum())
            : Promise.completed(env.scheduler(), OptionalLong.empty());
        yield found.flatMap(seq -> {
          StartResolution start = ReadRules.resolveStart(from, clamp, tail, end.mayFollow(), x -> seq);
          if (start instanceof StartResolution.Unsatisfiable u) {
            return Promise.completed(env.scheduler(), Outcome.ok(new ReadResult.Unsatisfiable(u.tail())));
          }
          // A start below the trim point starts at the first record that still exists (S2-API §8.2).
          long resolved = ((StartResolution.Start) start).seqNum();
          return retentionTrim(os.streamId(), false).flatMap(retained -> {
            long startSeq = Math.max(resolved, Math.min(Math.max(trimPoint, retained), tail.seqNum()));
            return catchUp(os, sl, startSeq, tail.seqNum(), ReadBudget.of(end), new ArrayList<>()).flatMap(caught -> switch (caught) {
              case Outcome.Failed<CatchUp> f -> Promise.completed(env.scheduler(), pass(f));
              case Outcome.Ok<CatchUp> c -> {
                if (!c.value().records().isEmpty() || c.value().ended() || !end.mayFollow() || end.waitSecs() == null || end.waitSecs() == 0) {
                  yield Promise.completed(env.scheduler(), Outcome.ok(new ReadResult.Batch(c.value().records(), null)));
                }
                yield longPoll(os, sl, c.value().nextSeqNum(), c.value().budget(), end.waitSecs() * 1000);
              }
            });
          });
        });
      }
    });
  }

  /** What a catch-up produced: records, where the next one would be, the budget left, whether it ended. */
  record CatchUp(List<SequencedRecord> records, long nextSeqNum, ReadBudget budget, boolean ended) {}

  /** Reads {@code [seq, tailSeq)} within {@code budget}: from segments below what the channel holds, then from the channel. */
  private Promise<Outcome<CatchUp>> catchUp(OpenedStream os, Streamlet sl, long seq, long tailSeq, ReadBudget budget, List<SequencedRecord> out) {
    return catchUp(os, null, seq, tailSeq, budget, out, false);
  }

  private Promise<Outcome<CatchUp>> catchUp(OpenedStream os, Streamlet previous, long seqAsked, long tailSeq, ReadBudget budget,
      List<SequencedRecord> out, boolean afterSegment) {
    Streamlet sl = linkFor(os, seqAsked);
    if (seqAsked < sl.startSeqNum() && sl.index() > 0) {
      // The chain this read was given lacks its first links: bgtask's purge of a deleted stream
      // removed them (a chain is cut only then). The stream is gone (found by the sweep: cell seed
      // 175, a read session that re-read the chain of a stream being purged).
      return Promise.completed(env.scheduler(), DataPlane.<CatchUp>failed(ErrorCode.STREAM_NOT_FOUND,
          "the stream was deleted: its chain no longer holds record " + seqAsked, false));
    }
    boolean skip = bug == io.s2j.channel.PlantedBug.MIGRATION_READ_GAP && previous != null
        && previous.streamletId() != sl.streamletId() && seqAsked == sl.startSeqNum() && seqAsked + 1 < tailSeq;
    long seq = skip ? seqAsked + 1 : seqAsked; // the bug: crossing into the next link skips its first record
    if (seq >= tailSeq || budget.exhausted()) {
      return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, seq, budget, budget.exhausted())));
    }
    // A sealed link ends where the next begins: read it only that far.
    long linkEnd = sl.endSeqNum() == null ? tailSeq : Math.min(tailSeq, sl.endSeqNum());
    int want = (int) Math.min(Limits.READ_BATCH_RECORDS_MAX, linkEnd - seq);
    ReadRequest request = ReadRequest.newBuilder().setStreamlet(ref(sl, os)).setStartSeqNum(seq)
        .setRecordsMax(want).setBytesMax(Limits.READ_BATCH_METERED_BYTES_MAX).build();
    return callChannel(sl.channelId(), ChannelRpc.READ, request, r -> r.hasError() && unavailable(r.getError()))
        .flatMap(resp -> {
          if (resp.hasError()) {
            return Promise.completed(env.scheduler(), failedFrom(resp.getError()));
          }
          ReadResponse.Records got = resp.getRecords();
          if (got.getRecordsCount() > 0) {
            List<SequencedRecord> held = decode(got.getRecordsList());
            if (bug == io.s2j.channel.PlantedBug.READ_SKIPS_AT_SEGMENT_BOUNDARY && afterSegment && held.size() > 1) {
              held = held.subList(1, held.size());
            }
            if (held.get(0).seqNum() >= tailSeq) {
              // The trim point passed the catch-up target meanwhile (the channel served from it):
              // nothing below the target exists any more, so the catch-up is over there.
              return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, held.get(0).seqNum(), budget, false)));
            }
            return continueWith(os, sl, held, tailSeq, budget, out, false);
          }
          if (seq < got.getFirstHeldSeqNum()) {
            long channelTrim = bug == io.s2j.channel.PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD ? 0 : got.getTrimPoint();
            return retentionTrim(os.streamId(), false).flatMap(retained -> {
              long floor = Math.max(channelTrim, retained);
              if (seq < floor) {
                // Trimmed (explicitly or by retention): go on from the first record that still exists.
                return catchUp(os, sl, floor, tailSeq, budget, out, afterSegment);
              }
              return segmentRecords(sl, seq).flatMap(fromSegment -> switch (fromSegment) {
                case Outcome.Failed<List<SequencedRecord>> f when f.error().message().startsWith(SEGMENT_MISSING) ->
                    // Collected after this read planned it? Only if the trim point has passed seq since,
                    // or the stream was deleted meanwhile (its streamlet answers so).
                    tailAndTrimOf(os, sl).flatMap(now -> now instanceof Outcome.Failed<TailAndTrim> gone
                            && (gone.error().code() == ErrorCode.STREAM_DELETION_PENDING || gone.error().code() == ErrorCode.STREAM_NOT_FOUND)
                        ? Promise.completed(env.scheduler(), DataPlane.<TailAndTrim, CatchUp>pass(gone))
                        : freshFloor(os, sl, now).flatMap(fresh -> fresh > seq
                            ? catchUp(os, sl, fresh, tailSeq, budget, out, afterSegment)
                            : Promise.completed(env.scheduler(), DataPlane.<CatchUp>failed(ErrorCode.STORAGE,
                                f.error().message() + " (trim point " + fresh + ")", false))));
                case Outcome.Failed<List<SequencedRecord>> f -> Promise.completed(env.scheduler(), pass(f));
                case Outcome.Ok<List<SequencedRecord>> records -> continueWith(os, sl, records.value(), tailSeq, budget, out, true);
              });
            });
          }
          return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, seq, budget, false)));
        }, this::failedFromPromise);
  }

  private <T> Promise<Outcome<T>> failedFromPromise(Throwable failure) {
    return Promise.completed(env.scheduler(), failedFrom(failure));
  }

  private Promise<Outcome<CatchUp>> continueWith(OpenedStream os, Streamlet sl, List<SequencedRecord> records, long tailSeq,
      ReadBudget budget, List<SequencedRecord> out, boolean fromSegment) {
    List<SequencedRecord> upToTail = new ArrayList<>();
    long bound = boundOf(sl, tailSeq);
    for (SequencedRecord r : records) {
      if (r.seqNum() < bound) {
        upToTail.add(r);
      }
    }
    Invariants.check(!upToTail.isEmpty(), "a catch-up step made no progress");
    try {
      upToTail = plaintext(os, upToTail);
    } catch (io.s2j.crypto.RecordEncryption.Failure e) {
      return Promise.completed(env.scheduler(), Outcome.failed(e.error()));
    }
    ReadBudget.Taken taken = budget.take(upToTail);
    out.addAll(taken.delivered());
    long next = upToTail.get(0).seqNum() + taken.delivered().size();
    if (taken.ended()) {
      return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, next, taken.left(), true)));
    }
    if (meteredBytes(out) >= CATCH_UP_STEP_BYTES) {
      // A step's worth (unary reads never get here: their budget is one batch): the caller goes on from next.
      return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, next, taken.left(), false)));
    }
    return catchUp(os, sl, next, tailSeq, taken.left(), out, fromSegment);
  }

  private static long meteredBytes(List<SequencedRecord> records) {
    long bytes = 0;
    for (SequencedRecord r : records) {
      bytes += r.meteredBytes();
    }
    return bytes;
  }

  /** The records of {@code records} below both the read's tail and the end of {@code sl}. */
  private static long boundOf(Streamlet sl, long tailSeq) {
    return sl.endSeqNum() == null ? tailSeq : Math.min(tailSeq, sl.endSeqNum());
  }

  /** Waits up to {@code waitMs} for records at {@code seq}; returns the first live batch within the budget. */
  private Promise<Outcome<ReadResult>> longPoll(OpenedStream os, Streamlet sl, long seq, ReadBudget budget, long waitMs) {
    ReadRequest request = ReadRequest.newBuilder().setStreamlet(ref(sl, os)).setStartSeqNum(seq)
        .setRecordsMax(Limits.READ_BATCH_RECORDS_MAX).setBytesMax(Limits.READ_BATCH_METERED_BYTES_MAX)
        .setWaitMs((int) Math.min(waitMs, Integer.MAX_VALUE)).build();
    return callChannel(sl.channelId(), ChannelRpc.READ, request, r -> r.hasError() && unavailable(r.getError()))
        .handle((resp, failure) -> {
          if (failure != null) {
            return failedFrom(failure);
          }
          if (resp.hasError()) {
            return failedFrom(resp.getError());
          }
          List<SequencedRecord> live;
          try {
            live = plaintext(os, decode(resp.getRecords().getRecordsList()));
          } catch (io.s2j.crypto.RecordEncryption.Failure e) {
            return Outcome.failed(e.error());
          }
          if (live.isEmpty()) {
            return Outcome.ok(new ReadResult.Batch(List.of(), null));
          }
          return Outcome.ok(new ReadResult.Batch(budget.take(live).delivered(), ChannelRpc.fromProto(resp.getRecords().getTail())));
        });
  }

  /**
   * The records as the client appended them: decrypted when the stream has a cipher (the request's
   * key was checked before any read); throws {@link io.s2j.crypto.RecordEncryption.Failure}.
   */
  private static List<SequencedRecord> plaintext(OpenedStream os, List<SequencedRecord> stored) {
    return os.cipher() == null ? stored : io.s2j.crypto.RecordEncryption.decrypt(os.cipher(), os.key(), os.streamId(), stored);
  }

  static List<SequencedRecord> decode(List<SequencedRecordProto> protos) {
    List<SequencedRecord> out = new ArrayList<>(protos.size());
    for (SequencedRecordProto p : protos) {
      out.add(ChannelRpc.fromProto(p));
    }
    return out;
  }

  /** The records of the segment holding {@code seq}, from {@code seq} on. */
  private Promise<Outcome<List<SequencedRecord>>> segmentRecords(Streamlet sl, long seq) {
    ByteString from = MetaKey.segment(sl.streamletId(), seq + 1);
    return env.metadataStore().scan(from, MetadataStore.prefixEnd(MetaKey.segmentsPrefix(sl.streamletId())), 1)
        .flatMap(page -> {
          if (page.entries().isEmpty()) {
            return Promise.completed(env.scheduler(), failed(ErrorCode.STORAGE,
                SEGMENT_MISSING + "no segment holds record " + seq + " of streamlet " + sl.streamletId(), false));
          }
          SegmentMeta meta = parseSegmentMeta(page.entries().get(0));
          if (meta.getFirstSeqNum() > seq) {
            // The first segment from seq starts after it: the records in between were collected,
            // which only a trim point above seq explains (the caller checks).
            return Promise.completed(env.scheduler(), failed(ErrorCode.STORAGE, SEGMENT_MISSING + "records " + seq + ".."
                + meta.getFirstSeqNum() + " of streamlet " + sl.streamletId() + " are in no segment", false));
          }
          return blockRecords(meta, seq);
        }, this::failedFromPromise);
  }

  /**
   * The records of the block of a segment holding {@code seq}, from {@code seq} on: the segment's
   * block index (footer, then index, by byte range; cached, since segments never change) and then
   * that one block by byte range, each piece checked by its own checksum.
   */
  private Promise<Outcome<List<SequencedRecord>>> blockRecords(SegmentMeta meta, long seq) {
    ObjectKey key = ObjectKey.of(meta.getObjectKey());
    return segmentIndex(key, meta.getObjectBytes()).flatMap(index -> switch (index) {
      case Outcome.Failed<List<Segment.BlockRow>> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<List<Segment.BlockRow>> ok when !covers(ok.value(), seq) ->
          // A well-formed index that does not hold seq is not this segment's (metadata says it holds seq).
          Promise.completed(env.scheduler(), DataPlane.<List<SequencedRecord>>failed(ErrorCode.STORAGE,
              "the index of segment " + key + " does not hold record " + seq, false));
      case Outcome.Ok<List<Segment.BlockRow>> ok -> {
        Segment.BlockRow row = ok.value().get(Segment.blockForSeqNum(ok.value(), seq));
        // The block's own get can fail too (a store outage after the index was cached, damaged
        // bytes): an outcome, like every other failure of the read path, never a failed promise.
        yield objects.get(key, row.range(), meta.getObjectBytes()).map(got -> switch (got) {
          case GetResult.Found f when f.objectBytes() != meta.getObjectBytes() -> DataPlane.<List<SequencedRecord>>failed(
              ErrorCode.STORAGE, wrongSize(key, f, meta.getObjectBytes()), false);
          case GetResult.Found f -> Outcome.ok(Segment.fromSeqNum(Segment.readBlock(f.data(), row), seq));
          default -> DataPlane.<List<SequencedRecord>>failed(ErrorCode.STORAGE, SEGMENT_MISSING + "segment " + key + " is missing", false);
        }).flatMap(o -> Promise.completed(env.scheduler(), o), this::failedFromPromise);
      }
    }, this::failedFromPromise);
  }

  private Promise<Outcome<List<Segment.BlockRow>>> segmentIndex(ObjectKey key, long objectBytes) {
    List<Segment.BlockRow> cached = segmentIndexes.get(key);
    if (cached != null) {
      return Promise.completed(env.scheduler(), Outcome.ok(cached));
    }
    ByteRange footerRange = ByteRange.of(objectBytes - Segment.FOOTER_BYTES, Segment.FOOTER_BYTES);
    return objects.get(key, footerRange, objectBytes).flatMap(tail -> {
      if (!(tail instanceof GetResult.Found f)) {
        return Promise.completed(env.scheduler(), DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, SEGMENT_MISSING + "segment " + key + " is missing", false));
      }
      if (f.objectBytes() != objectBytes) {
        return Promise.completed(env.scheduler(), DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, wrongSize(key, f, objectBytes), false));
      }
      io.s2j.format.Footer footer = Segment.readFooter(f.data());
      return objects.get(key, footer.indexRange(), objectBytes).map(got -> {
        if (!(got instanceof GetResult.Found idx)) {
          return DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, SEGMENT_MISSING + "segment " + key + " is missing", false);
        }
        if (idx.objectBytes() != objectBytes) {
          return DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, wrongSize(key, idx, objectBytes), false);
        }
        List<Segment.BlockRow> index = Segment.readIndex(idx.data(), footer);
        if (segmentIndexes.size() >= SEGMENT_INDEXES_MAX) {
          segmentIndexes.pollFirstEntry();
        }
        segmentIndexes.put(key, index);
        return Outcome.ok(index);
      });
    });
  }

  private static boolean covers(List<Segment.BlockRow> index, long seq) {
    int i = Segment.blockForSeqNum(index, seq);
    return i < index.size() && index.get(i).firstSeqNum() <= seq;
  }

  private static String wrongSize(ObjectKey key, GetResult.Found f, long expected) {
    return "segment " + key + " has " + f.objectBytes() + " bytes where its metadata says " + expected;
  }

  private static SegmentMeta parseSegmentMeta(KeyValue kv) {
    try {
      return SegmentMeta.parseFrom(kv.value());
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt segment metadata: " + e.getMessage());
    }
  }

  /**
   * The first seq num below {@code tailSeq} whose timestamp is at least {@code timestampMs}: the
   * first segment whose last timestamp reaches it, else the records the channel holds.
   */
  private Promise<OptionalLong> firstAtOrAfter(OpenedStream os, Streamlet ignored, long timestampMs, long tailSeq) {
    return firstAtOrAfterFrom(os, 0, timestampMs, tailSeq);
  }

  /** Looks through the chain's links in order, from link {@code i}: segments, then what the channel holds. */
  private Promise<OptionalLong> firstAtOrAfterFrom(OpenedStream os, int i, long timestampMs, long tailSeq) {
    if (i >= os.streamlets().size()) {
      return Promise.completed(env.scheduler(), OptionalLong.empty());
    }
    Streamlet sl = os.streamlets().get(i);
    if (sl.startSeqNum() >= tailSeq) {
      return Promise.completed(env.scheduler(), OptionalLong.empty());
    }
    return scanSegmentsForTimestamp(os, sl, timestampMs, boundOf(sl, tailSeq), MetaKey.segmentsPrefix(sl.streamletId()), sl.startSeqNum())
        .flatMap(found -> found.isPresent() ? Promise.completed(env.scheduler(), found)
            : firstAtOrAfterFrom(os, i + 1, timestampMs, tailSeq));
  }

  private Promise<OptionalLong> scanSegmentsForTimestamp(OpenedStream os, Streamlet sl, long ts, long tailSeq, ByteString from, long segmentsEnd) {
    ByteString end = MetadataStore.prefixEnd(MetaKey.segmentsPrefix(sl.streamletId()));
    return env.metadataStore().scan(from, end, 100).flatMap(page -> {
      long reached = segmentsEnd;
      for (KeyValue kv : page.entries()) {
        SegmentMeta meta = parseSegmentMeta(kv);
        reached = meta.getFirstSeqNum() + meta.getRecordCount();
        if (Long.compareUnsigned(meta.getLastTimestamp(), ts) >= 0) {
          ByteString after = kv.key().concat(ByteString.copyFrom(new byte[] {0}));
          long reachedHere = reached;
          return objects.get(ObjectKey.of(meta.getObjectKey()), ByteRange.of(0, meta.getObjectBytes()), meta.getObjectBytes()).flatMap(got -> {
            if (got instanceof GetResult.Found f && f.objectBytes() == meta.getObjectBytes()) {
              List<SequencedRecord> records = Segment.fromTimestamp(Segment.parse(f.data()).records(), ts);
              return Promise.completed(env.scheduler(), records.isEmpty() ? OptionalLong.empty() : OptionalLong.of(records.get(0).seqNum()));
            }
            // Collected meanwhile (trimmed): its records no longer exist; search on after it.
            return scanSegmentsForTimestamp(os, sl, ts, tailSeq, after, reachedHere);
          });
        }
      }
      if (page.more()) {
        ByteString last = page.entries().get(page.entries().size() - 1).key();
        return scanSegmentsForTimestamp(os, sl, ts, tailSeq, last.concat(ByteString.copyFrom(new byte[] {0})), reached);
      }
      return scanChannelForTimestamp(os, sl, ts, reached, tailSeq);
    }, failure -> Promise.completed(env.scheduler(), OptionalLong.empty()));
  }

  private Promise<OptionalLong> scanChannelForTimestamp(OpenedStream os, Streamlet sl, long ts, long seq, long tailSeq) {
    if (seq >= tailSeq) {
      return Promise.completed(env.scheduler(), OptionalLong.empty());
    }
    ReadRequest request = ReadRequest.newBuilder().setStreamlet(ref(sl, os)).setStartSeqNum(seq)
        .setRecordsMax(Limits.READ_BATCH_RECORDS_MAX).setBytesMax(Limits.READ_BATCH_METERED_BYTES_MAX).build();
    return callChannel(sl.channelId(), ChannelRpc.READ, request, r -> r.hasError() && unavailable(r.getError()))
        .flatMap(resp -> {
          if (resp.hasError() || resp.getRecords().getRecordsCount() == 0) {
            return Promise.completed(env.scheduler(), OptionalLong.empty());
          }
          for (SequencedRecordProto r : resp.getRecords().getRecordsList()) {
            if (r.getSeqNum() < tailSeq && Long.compareUnsigned(r.getTimestamp(), ts) >= 0) {
              return Promise.completed(env.scheduler(), OptionalLong.of(r.getSeqNum()));
            }
          }
          List<SequencedRecordProto> got = resp.getRecords().getRecordsList();
          return scanChannelForTimestamp(os, sl, ts, got.get(got.size() - 1).getSeqNum() + 1, tailSeq);
        }, failure -> Promise.completed(env.scheduler(), OptionalLong.empty()));
  }

  // ---------------------------------------------------------------- read sessions

  /** Long polls issued by follow subscriptions so far (one per streamlet at a time, however many sessions follow). */
  public long followPolls() {
    return followPolls;
  }

  /** Times a paused follower fell too far behind and left its stream's shared follow so far. */
  public long readSessionFollowsLeft() {
    return followsLeftTotal;
  }

  /** Times a read session was paused by its consumer's back-pressure so far. */
  public long readSessionPauses() {
    return pausesTotal;
  }

  /** Opens a read session (S2-API §8.1); its events go to {@code sink}. */
  public ReadSession openSession(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd end,
      java.util.function.Consumer<ReadSession.Event> sink) {
    return openSession(basin, stream, from, clamp, end, null, sink);
  }

  /** {@link #openSession(BasinName, StreamName, ReadFrom, boolean, ReadEnd, java.util.function.Consumer)} with the client's key (null if none was sent). */
  public ReadSession openSession(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd end,
      io.s2j.crypto.EncryptionKey key, java.util.function.Consumer<ReadSession.Event> sink) {
    Session session = new Session(basin, stream, end, sink);
    open(basin, stream, AutoCreate.ON_READ).onComplete((opened, failure) -> {
      if (failure != null) {
        session.fail(asFailed(DataPlane.<Object>failedFrom(failure)));
        return;
      }
      switch (opened) {
        case Outcome.Failed<OpenedStream> f -> session.fail(f);
        case Outcome.Ok<OpenedStream> ok when ok.value().withKey(key).missingKey() ->
            session.fail(asFailed(Outcome.failed(io.s2j.crypto.RecordEncryption.missingKey(ok.value().cipher()))));
        case Outcome.Ok<OpenedStream> ok -> session.start(ok.value().withKey(key), from, clamp);
      }
    });
    return session;
  }

  /** One session's state; everything runs on the frontend's executor. */
  private final class Session implements ReadSession {
    private final BasinName basinName;
    private final StreamName streamName;
    private int sealedAttempts;
    private final ReadEnd end;
    private final java.util.function.Consumer<ReadSession.Event> sink;
    private ReadBudget budget;
    private OpenedStream stream;
    private Streamlet streamlet;
    private long seq;
    private StreamPosition lastTail = StreamPosition.ZERO;
    private boolean done;
    private io.s2j.runtime.Cancellable heartbeat;
    private io.s2j.runtime.Cancellable deadline;
    /** Back-pressure (see {@link ReadSession#pause()}): while set, the next step waits in {@code parked}. */
    private boolean paused;
    private Runnable parked;
    /** The wait deadline was armed when the session paused: it is armed afresh on resume. */
    private boolean deadlineHeld;
    /**
     * Live batches that came from the shared follow while paused, replayed on resume: a short
     * pause keeps the session on the one shared long poll. Past {@link #LIVE_HELD_BYTES_MAX} the
     * session leaves the follow instead and catches up on its own. The records are the
     * subscription's own (shared by every follower), so holding them costs references only.
     */
    private final List<Subscription.Live> heldLive = new ArrayList<>();
    private long heldLiveBytes;

    Session(BasinName basinName, StreamName streamName, ReadEnd end, java.util.function.Consumer<ReadSession.Event> sink) {
      this.basinName = basinName;
      this.streamName = streamName;
      this.end = end;
      this.sink = sink;
      this.budget = ReadBudget.of(end);
    }

    void emit(ReadSession.Event e) {
      if (!done) {
        sink.accept(e);
      }
    }

    void finish(ReadSession.Event last) {
      if (done) {
        return;
      }
      emit(last);
      done = true;
      heldLive.clear();
      parked = null;
      if (heartbeat != null) {
        heartbeat.cancel();
      }
      if (deadline != null) {
        deadline.cancel();
      }
      if (streamlet != null) {
        Subscription sub = subscriptions.get(streamlet.streamletId());
        if (sub != null) {
          sub.listeners.remove(this);
        }
      }
    }

    void fail(Outcome.Failed<?> f) {
      finish(new ReadSession.Failed(f.error(), f.indefinite()));
    }

    @Override
    public void cancel() {
      if (!done) {
        finish(new ReadSession.End());
      }
    }

    @Override
    public void pause() {
      if (paused || done) {
        return;
      }
      paused = true;
      pausesTotal++;
      if (deadline != null) {
        // Waiting on the consumer is not waiting for records: the deadline starts again on resume.
        deadline.cancel();
        deadline = null;
        deadlineHeld = true;
      }
    }

    @Override
    public void resume() {
      if (!paused || done) {
        return;
      }
      paused = false;
      if (deadlineHeld) {
        deadlineHeld = false;
        rearmDeadline();
      }
      if (!heldLive.isEmpty()) {
        List<Subscription.Live> replay = new ArrayList<>(heldLive);
        heldLive.clear();
        heldLiveBytes = 0;
        for (Subscription.Live live : replay) {
          deliver(live.records(), live.tail());
        }
      }
      Runnable next = parked;
      parked = null;
      if (next != null && !done) {
        next.run();
      }
    }

    /** Runs {@code next} now, or when the consumer resumes. */
    private void proceed(Runnable next) {
      Invariants.check(parked == null, "a read session parked twice");
      if (paused) {
        parked = next;
      } else {
        next.run();
      }
    }

    /** Stops listening to the shared follow; the session rejoins through {@link #subscribe()}. */
    private void leaveSubscription() {
      Subscription sub = subscriptions.get(streamlet.streamletId());
      if (sub != null) {
        sub.listeners.remove(this);
      }
    }

    void start(OpenedStream os, ReadFrom from, boolean clamp) {
      stream = os;
      currentStreamlet(os, end.mayFollow()).onComplete((current, failure) -> {
        if (done) {
          return;
        }
        if (failure != null) {
          fail(asFailed(DataPlane.<Object>failedFrom(failure)));
          return;
        }
        switch (current) {
          case Outcome.Failed<Streamlet> f -> fail(f);
          case Outcome.Ok<Streamlet> ok -> {
            if (ok.value() == null) {
              // A dormant stream that may not follow: its tail is {0, 0}.
              StartResolution r = ReadRules.resolveStart(from, clamp, StreamPosition.ZERO, end.mayFollow(), t -> OptionalLong.empty());
              finish(r instanceof StartResolution.Unsatisfiable u ? new ReadSession.Unsatisfiable(u.tail()) : new ReadSession.End());
              return;
            }
            streamlet = ok.value();
            stream = withLink(stream, streamlet);
            resolve(from, clamp);
          }
        }
      });
    }

    private void resolve(ReadFrom from, boolean clamp) {
      tailAndTrimOf(stream, streamlet).onComplete((tailOutcome, failure) -> {
        if (done) {
          return;
        }
        if (failure == null && isSealed(tailOutcome)) {
          // The chain moved on since it was read: read it again and resolve against the new tail.
          afterSeal(() -> resolve(from, clamp));
          return;
        }
        if (failure != null || tailOutcome instanceof Outcome.Failed) {
          fail(failure != null ? asFailed(DataPlane.<Object>failedFrom(failure)) : asFailed(tailOutcome));
          return;
        }
        StreamPosition tail = tailOutcome.orThrow().tail();
        long trimPoint = bug == io.s2j.channel.PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD ? 0 : tailOutcome.orThrow().trimPoint();
        lastTail = tail;
        Promise<OptionalLong> found = from instanceof ReadFrom.Timestamp ts && Long.compareUnsigned(ts.timestampMs(), tail.timestamp()) <= 0
            ? firstAtOrAfter(stream, streamlet, ts.timestampMs(), tail.seqNum())
            : Promise.completed(env.scheduler(), OptionalLong.empty());
        found.onComplete((seqFound, lookupFailure) -> {
          StartResolution start = ReadRules.resolveStart(from, clamp, tail, end.mayFollow(), x -> seqFound);
          if (start instanceof StartResolution.Unsatisfiable u) {
            finish(new ReadSession.Unsatisfiable(u.tail()));
            return;
          }
          long resolved = ((StartResolution.Start) start).seqNum();
          retentionTrim(stream.streamId(), false).onComplete((retained, trimFailure) -> {
            if (done) {
              return;
            }
            long floor = Math.max(trimPoint, retained == null ? 0 : retained);
            seq = Math.max(resolved, Math.min(floor, tail.seqNum()));
            catchUpTo(tail.seqNum(), this::follow);
          });
        });
      });
    }

    /**
     * Delivers {@code [seq, tailSeq)} as catch-up batches, then runs {@code then} unless the session
     * ended. It goes {@link #CATCH_UP_STEP_RECORDS} at a time, emitting each step before reading the
     * next, so the first batch goes out at once and a long range is never held in memory whole.
     */
    private void catchUpTo(long tailSeq, Runnable then) {
      long stepStart = seq;
      long stepEnd = tailSeq - seq > CATCH_UP_STEP_RECORDS ? seq + CATCH_UP_STEP_RECORDS : tailSeq;
      catchUp(stream, streamlet, seq, stepEnd, budget, new ArrayList<>()).onComplete((caught, failure) -> {
        if (done) {
          return;
        }
        if (failure != null) {
          fail(asFailed(DataPlane.<Object>failedFrom(failure)));
          return;
        }
        switch (caught) {
          case Outcome.Failed<CatchUp> f -> fail(f);
          case Outcome.Ok<CatchUp> c -> {
            for (List<SequencedRecord> batch : ReadRules.splitBatches(c.value().records())) {
              emit(new ReadSession.Batch(batch, null));
            }
            if (!c.value().records().isEmpty()) {
              rearmDeadline();
            }
            seq = c.value().nextSeqNum();
            budget = c.value().budget();
            if (c.value().ended() || budget.exhausted()) {
              finish(new ReadSession.End());
            } else if (seq < tailSeq && seq > stepStart) {
              proceed(() -> catchUpTo(tailSeq, then));
            } else {
              proceed(then);
            }
          }
        }
      });
    }

    private void follow() {
      if (!end.mayFollow() || (end.waitSecs() != null && end.waitSecs() == 0)) {
        finish(new ReadSession.End());
        return;
      }
      emit(new ReadSession.Heartbeat(lastTail));
      rearmHeartbeat();
      if (deadline == null) {
        rearmDeadline();
      }
      subscribe();
    }

    /**
     * The streamlet this session reads is sealed (a migration): read the chain again (after a short
     * wait once the first try found it unchanged — the commit may not be visible yet, or may be
     * abandoned) and carry on from the same position on its current last link.
     */
    void afterSeal(Runnable then) {
      if (done) {
        return;
      }
      if (++sealedAttempts > SEALED_RETRIES_MAX) {
        fail(asFailed(DataPlane.<Object>failed(ErrorCode.UNAVAILABLE, "the stream's streamlet stays sealed", false)));
        return;
      }
      sealedRetries++;
      forget(stream.streamId());
      env.scheduler().schedule(sealedBackoffNanos(sealedAttempts - 1), () -> open(basinName, streamName, AutoCreate.NONE)
          .onComplete((opened, failure) -> {
            if (done) {
              return;
            }
            if (failure != null) {
              fail(asFailed(DataPlane.<Object>failedFrom(failure)));
              return;
            }
            switch (opened) {
              case Outcome.Failed<OpenedStream> f -> fail(f);
              case Outcome.Ok<OpenedStream> ok -> {
                if (ok.value().streamlets().isEmpty() || ok.value().streamId() != stream.streamId()) {
                  fail(asFailed(DataPlane.<Object>failed(ErrorCode.UNAVAILABLE, "the stream changed under the session", false)));
                  return;
                }
                stream = ok.value().withKey(stream.key()); // lookups are cached without the client's key
                streamlet = last(stream.streamlets());
                then.run();
              }
            }
          }));
    }

    private void subscribe() {
      Subscription sub = subscriptions.get(streamlet.streamletId());
      if (sub == null) {
        sub = new Subscription(stream, streamlet, seq);
        subscriptions.put(streamlet.streamletId(), sub);
      }
      if (seq < sub.nextSeq) {
        // Behind the shared subscription: catch up on our own first, then join.
        long target = sub.nextSeq;
        catchUpTo(target, this::subscribe);
        return;
      }
      sub.listeners.add(this);
      sub.poll();
    }

    void rearmHeartbeat() {
      if (heartbeat != null) {
        heartbeat.cancel();
      }
      long ms = env.random().nextLong(HEARTBEAT_MIN_MS, HEARTBEAT_MAX_MS);
      heartbeat = env.scheduler().schedule(ms * 1_000_000L, () -> {
        emit(new ReadSession.Heartbeat(lastTail));
        rearmHeartbeat();
      });
    }

    void rearmDeadline() {
      if (end.waitSecs() == null || end.waitSecs() == 0 || done) {
        // wait=0: the session ends when catch-up does (follow()); a zero deadline armed after a
        // catch-up step would otherwise end it before the next step (found by ServerSlowReaderTest).
        return;
      }
      if (deadline != null) {
        deadline.cancel();
        deadline = null;
      }
      if (paused) {
        deadlineHeld = true; // armed on resume
        return;
      }
      deadline = env.scheduler().schedule(end.waitSecs() * 1_000_000_000L, () -> finish(new ReadSession.End()));
    }

    /** A live batch from the subscription: keeps what is new to this session and within its budget. */
    void deliver(List<SequencedRecord> records, StreamPosition tail) {
      lastTail = tail;
      if (paused) {
        heldLive.add(new Subscription.Live(records, tail));
        heldLiveBytes += meteredBytes(records);
        if (heldLiveBytes > LIVE_HELD_BYTES_MAX) {
          // Too far behind: leave the shared follow (which must not wait for one slow reader)
          // and catch up on our own from seq once the consumer drains.
          heldLive.clear();
          heldLiveBytes = 0;
          followsLeftTotal++;
          leaveSubscription();
          proceed(this::subscribe);
        }
        return;
      }
      List<SequencedRecord> fresh = new ArrayList<>();
      for (SequencedRecord r : records) {
        if (r.seqNum() >= seq) {
          fresh.add(r);
        }
      }
      if (fresh.isEmpty()) {
        return;
      }
      boolean whole = fresh.size() == records.size() && stream.cipher() == null;
      try {
        fresh = plaintext(stream, fresh);
      } catch (io.s2j.crypto.RecordEncryption.Failure e) {
        fail(asFailed(Outcome.failed(e.error())));
        return;
      }
      ReadBudget.Taken taken = budget.take(fresh);
      budget = taken.left();
      if (!taken.delivered().isEmpty()) {
        sealedAttempts = 0;
        // Taken whole (the common case at the tail): hand over the subscription's own list, the same
        // instance every such follower gets, so the consumer can encode it once for all of them.
        emit(whole && taken.delivered().size() == records.size()
            ? new ReadSession.Batch(records, tail, true)
            : new ReadSession.Batch(taken.delivered(), tail));
        seq = taken.delivered().get(taken.delivered().size() - 1).seqNum() + 1;
        rearmHeartbeat();
        rearmDeadline();
      }
      if (taken.ended() || budget.exhausted()) {
        finish(new ReadSession.End());
      }
    }
  }

  /** The one long poll of a followed streamlet on this frontend, fanned out to every session at its tail. */
  private final class Subscription {
    /** One long poll's answer as every follower receives it. */
    record Live(List<SequencedRecord> records, StreamPosition tail) {}

    final OpenedStream stream;
    final Streamlet streamlet;
    final List<Session> listeners = new ArrayList<>();
    long nextSeq;
    boolean polling;

    Subscription(OpenedStream stream, Streamlet streamlet, long nextSeq) {
      this.stream = stream;
      this.streamlet = streamlet;
      this.nextSeq = nextSeq;
    }

    void poll() {
      if (polling) {
        return;
      }
      if (listeners.isEmpty()) {
        subscriptions.remove(streamlet.streamletId());
        return;
      }
      polling = true;
      followPolls++;
      ReadRequest request = ReadRequest.newBuilder().setStreamlet(ref(streamlet, stream)).setStartSeqNum(nextSeq)
          .setRecordsMax(Limits.READ_BATCH_RECORDS_MAX).setBytesMax(Limits.READ_BATCH_METERED_BYTES_MAX)
          .setWaitMs((int) FOLLOW_POLL_MS).build();
      callChannel(streamlet.channelId(), ChannelRpc.READ, request, r -> r.hasError() && unavailable(r.getError()))
          .onComplete((resp, failure) -> {
            polling = false;
            Outcome.Failed<?> failed = failure != null ? asFailed(DataPlane.<Object>failedFrom(failure))
                : resp.hasError() ? asFailed(DataPlane.<Object>failedFrom(resp.getError())) : null;
            List<Session> now = new ArrayList<>(listeners);
            if (failed != null) {
              subscriptions.remove(streamlet.streamletId());
              now.forEach(s -> s.fail(failed));
              return;
            }
            ReadResponse.Records got = resp.getRecords();
            StreamPosition tail = ChannelRpc.fromProto(got.getTail());
            if (got.getRecordsCount() == 0 && got.getSealed()) {
              // The streamlet is sealed at its tail: every listener goes on to the next link.
              subscriptions.remove(streamlet.streamletId());
              listeners.clear();
              now.forEach(s -> s.afterSeal(s::subscribe));
              return;
            }
            if (got.getRecordsCount() == 0 && nextSeq < got.getFirstHeldSeqNum()) {
              // Fell below what the channel holds: every listener catches up from segments and rejoins.
              subscriptions.remove(streamlet.streamletId());
              listeners.clear();
              now.forEach(s -> s.catchUpTo(tail.seqNum(), s::subscribe));
              return;
            }
            // Unmodifiable, so that sessions taking it whole pass this very list on (ReadSession.Batch#shared).
            List<SequencedRecord> records = List.copyOf(decode(got.getRecordsList()));
            if (!records.isEmpty()) {
              nextSeq = records.get(records.size() - 1).seqNum() + 1;
            }
            for (Session s : now) {
              if (records.isEmpty()) {
                s.lastTail = tail;
              } else {
                s.deliver(records, tail);
              }
            }
            poll();
          });
    }
  }
}
