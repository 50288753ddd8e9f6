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

  static final long FOLLOW_POLL_MS = 5_000;
  static final long HEARTBEAT_MIN_MS = 5_000;
  static final long HEARTBEAT_MAX_MS = 15_000;

  private final Env env;
  private final Catalog catalog;
  private final ChannelDirectory directory;
  private final io.s2j.channel.PlantedBug bug;
  /** Reads of immutable segment bytes: through cachey when the cell has cachey nodes. */
  private final io.s2j.cachey.CacheyClient objects;
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
    this.env = env;
    this.catalog = catalog;
    this.directory = directory;
    this.bug = bug;
    this.objects = objects;
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
        stream.config(), stream.cipher());
  }

  /**
   * Calls a channel, trying its hosts in turn while the failure is definite: a refused or
   * undelivered request, or a host answering {@code unavailable} (down, taking over, fenced).
   */
  private <Req extends Message, Resp extends Message> Promise<Resp> callChannel(
      String channelId, RpcMethod<Req, Resp> method, Req request, Predicate<Resp> hostUnavailable) {
    Promise<Resp> result = env.promise();
    List<NodeId> hosts = directory.hostsOf(channelId);
    attempt(hosts, 0, method, request, hostUnavailable, result);
    return result;
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
    return e.getCode().equals(ErrorCode.UNAVAILABLE.name()) && !e.getIndefinite();
  }

  /** The stream's current streamlet, activating a dormant stream when {@code activate}. */
  private Promise<Outcome<Streamlet>> currentStreamlet(OpenedStream stream, boolean activate) {
    if (!stream.streamlets().isEmpty()) {
      return Promise.completed(env.scheduler(), Outcome.ok(last(stream.streamlets())));
    }
    if (!activate) {
      return Promise.completed(env.scheduler(), Outcome.ok(null));
    }
    return catalog.activate(stream.streamId(), directory.channelIdsFor(stream.config().storageClass()), c -> 0).map(o -> o.map(DataPlane::last));
  }

  private static Streamlet last(List<Streamlet> chain) {
    // Migration (issue 6) makes chains longer; reads will then walk every link.
    Invariants.check(chain.size() == 1, "streamlet chains of %d links are not served yet", chain.size());
    return chain.get(chain.size() - 1);
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
    return appendTarget(basin, stream).flatMap(target -> switch (target) {
      case Outcome.Failed<AppendTarget> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<AppendTarget> ok -> appendTo(ok.value().stream(), ok.value().streamlet(), input);
    });
  }

  /**
   * Opens an append session on one stream (S2-API §10.3): inputs are pipelined to the channel and
   * acknowledged in submission order; the first failure ends the session.
   */
  public AppendSession openAppendSession(BasinName basin, StreamName stream) {
    String id = env.network().self() + "/" + Long.toHexString(env.random().nextLong()) + "/" + (++appendSessionsOpened);
    return new AppendSession(env, this, basin, stream, id);
  }

  /** The stream and the streamlet an append goes to (activating a dormant stream). */
  Promise<Outcome<AppendTarget>> appendTarget(BasinName basin, StreamName stream) {
    return open(basin, stream, AutoCreate.ON_APPEND).flatMap(opened -> switch (opened) {
      case Outcome.Failed<OpenedStream> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<OpenedStream> ok -> currentStreamlet(ok.value(), true).map(current -> switch (current) {
        case Outcome.Failed<Streamlet> f -> pass(f);
        case Outcome.Ok<Streamlet> sl -> Outcome.ok(new AppendTarget(ok.value(), sl.value()));
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
      request.addRecords(ChannelRpc.toProto(r));
    }
    if (input.matchSeqNum() != null) {
      request.setMatchSeqNum(input.matchSeqNum());
    }
    if (input.fencingToken() != null) {
      request.setFencingToken(input.fencingToken());
    }
    // A session's later requests must reach the host that knows the session: no other host retries.
    boolean retryHosts = sessionId == null || index == 0;
    return callChannel(sl.channelId(), ChannelRpc.APPEND, request.build(), r -> retryHosts && r.hasError() && unavailable(r.getError()))
        .handle((resp, failure) -> {
          if (failure != null) {
            return failedFrom(failure);
          }
          return switch (resp.getOutcomeCase()) {
            case ACK -> Outcome.ok(new AppendAck(ChannelRpc.fromProto(resp.getAck().getStart()),
                ChannelRpc.fromProto(resp.getAck().getEnd()), ChannelRpc.fromProto(resp.getAck().getTail())));
            case SEQ_NUM_MISMATCH -> Outcome.ok(new AppendResult.SeqNumMismatch(resp.getSeqNumMismatch()));
            case FENCING_TOKEN_MISMATCH -> Outcome.ok(new AppendResult.FencingTokenMismatch(resp.getFencingTokenMismatch()));
            case ERROR -> failedFrom(resp.getError());
            case OUTCOME_NOT_SET -> throw new IllegalStateException("append response without outcome");
          };
        });
  }

  /** The durable tail (S2-API §6.8). */
  public Promise<Outcome<StreamPosition>> checkTail(BasinName basin, StreamName stream) {
    return open(basin, stream, AutoCreate.ON_READ).flatMap(opened -> switch (opened) {
      case Outcome.Failed<OpenedStream> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<OpenedStream> ok -> ok.value().streamlets().isEmpty()
          ? Promise.completed(env.scheduler(), Outcome.ok(StreamPosition.ZERO))
          : tailOf(ok.value(), last(ok.value().streamlets()));
    });
  }

  private Promise<Outcome<StreamPosition>> tailOf(OpenedStream stream, Streamlet sl) {
    TailRequest request = TailRequest.newBuilder().setStreamlet(ref(sl, stream)).build();
    return callChannel(sl.channelId(), ChannelRpc.TAIL, request, r -> r.hasError() && unavailable(r.getError()))
        .handle((resp, failure) -> {
          if (failure != null) {
            return failedFrom(failure);
          }
          return resp.hasTail() ? Outcome.ok(ChannelRpc.fromProto(resp.getTail())) : failedFrom(resp.getError());
        });
  }

  // ---------------------------------------------------------------- reads

  /**
   * A unary read (S2-API §6.10, §8): catch-up from the resolved start to the tail within the
   * unary caps; at the tail with {@code wait > 0}, the first live batch (long poll).
   */
  public Promise<Outcome<ReadResult>> read(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd requested) {
    ReadEnd end = requested.forUnary();
    return open(basin, stream, AutoCreate.ON_READ).flatMap(opened -> switch (opened) {
      case Outcome.Failed<OpenedStream> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<OpenedStream> ok -> {
        OpenedStream os = ok.value();
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
              : readFrom(os, sl.value(), from, clamp, end);
        });
      }
    });
  }

  private Promise<Outcome<ReadResult>> readFrom(OpenedStream os, Streamlet sl, ReadFrom from, boolean clamp, ReadEnd end) {
    return tailOf(os, sl).flatMap(tailOutcome -> switch (tailOutcome) {
      case Outcome.Failed<StreamPosition> f -> Promise.completed(env.scheduler(), pass(f));
      case Outcome.Ok<StreamPosition> t -> {
        StreamPosition tail = t.value();
        Promise<OptionalLong> found = from instanceof ReadFrom.Timestamp ts && Long.compareUnsigned(ts.timestampMs(), tail.timestamp()) <= 0
            ? firstAtOrAfter(os, sl, ts.timestampMs(), tail.seqNum())
            : Promise.completed(env.scheduler(), OptionalLong.empty());
        yield found.flatMap(seq -> {
          StartResolution start = ReadRules.resolveStart(from, clamp, tail, end.mayFollow(), x -> seq);
          if (start instanceof StartResolution.Unsatisfiable u) {
            return Promise.completed(env.scheduler(), Outcome.ok(new ReadResult.Unsatisfiable(u.tail())));
          }
          long startSeq = ((StartResolution.Start) start).seqNum();
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
      }
    });
  }

  /** What a catch-up produced: records, where the next one would be, the budget left, whether it ended. */
  record CatchUp(List<SequencedRecord> records, long nextSeqNum, ReadBudget budget, boolean ended) {}

  /** Reads {@code [seq, tailSeq)} within {@code budget}: from segments below what the channel holds, then from the channel. */
  private Promise<Outcome<CatchUp>> catchUp(OpenedStream os, Streamlet sl, long seq, long tailSeq, ReadBudget budget, List<SequencedRecord> out) {
    return catchUp(os, sl, seq, tailSeq, budget, out, false);
  }

  private Promise<Outcome<CatchUp>> catchUp(OpenedStream os, Streamlet sl, long seq, long tailSeq, ReadBudget budget,
      List<SequencedRecord> out, boolean afterSegment) {
    if (seq >= tailSeq || budget.exhausted()) {
      return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, seq, budget, budget.exhausted())));
    }
    int want = (int) Math.min(Limits.READ_BATCH_RECORDS_MAX, tailSeq - seq);
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
            return continueWith(os, sl, held, tailSeq, budget, out, false);
          }
          if (seq < got.getFirstHeldSeqNum()) {
            return segmentRecords(sl, seq).flatMap(fromSegment -> switch (fromSegment) {
              case Outcome.Failed<List<SequencedRecord>> f -> Promise.completed(env.scheduler(), pass(f));
              case Outcome.Ok<List<SequencedRecord>> records -> continueWith(os, sl, records.value(), tailSeq, budget, out, true);
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
    for (SequencedRecord r : records) {
      if (r.seqNum() < tailSeq) {
        upToTail.add(r);
      }
    }
    Invariants.check(!upToTail.isEmpty(), "a catch-up step made no progress");
    ReadBudget.Taken taken = budget.take(upToTail);
    out.addAll(taken.delivered());
    long next = upToTail.get(0).seqNum() + taken.delivered().size();
    if (taken.ended()) {
      return Promise.completed(env.scheduler(), Outcome.ok(new CatchUp(out, next, taken.left(), true)));
    }
    return catchUp(os, sl, next, tailSeq, taken.left(), out, fromSegment);
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
          List<SequencedRecord> live = decode(resp.getRecords().getRecordsList());
          if (live.isEmpty()) {
            return Outcome.ok(new ReadResult.Batch(List.of(), null));
          }
          return Outcome.ok(new ReadResult.Batch(budget.take(live).delivered(), ChannelRpc.fromProto(resp.getRecords().getTail())));
        });
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
                "no segment holds record " + seq + " of streamlet " + sl.streamletId(), false));
          }
          SegmentMeta meta = parseSegmentMeta(page.entries().get(0));
          if (meta.getFirstSeqNum() > seq) {
            // Below the first segment: trimmed or expired records; the read starts at what exists.
            return segmentRecords(sl, meta.getFirstSeqNum());
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
        yield objects.get(key, row.range(), meta.getObjectBytes()).map(got -> switch (got) {
          case GetResult.Found f when f.objectBytes() != meta.getObjectBytes() -> DataPlane.<List<SequencedRecord>>failed(
              ErrorCode.STORAGE, wrongSize(key, f, meta.getObjectBytes()), false);
          case GetResult.Found f -> Outcome.ok(Segment.fromSeqNum(Segment.readBlock(f.data(), row), seq));
          default -> DataPlane.<List<SequencedRecord>>failed(ErrorCode.STORAGE, "segment " + key + " is missing", false);
        });
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
        return Promise.completed(env.scheduler(), DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, "segment " + key + " is missing", false));
      }
      if (f.objectBytes() != objectBytes) {
        return Promise.completed(env.scheduler(), DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, wrongSize(key, f, objectBytes), false));
      }
      io.s2j.format.Footer footer = Segment.readFooter(f.data());
      return objects.get(key, footer.indexRange(), objectBytes).map(got -> {
        if (!(got instanceof GetResult.Found idx)) {
          return DataPlane.<List<Segment.BlockRow>>failed(ErrorCode.STORAGE, "segment " + key + " is missing", false);
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
  private Promise<OptionalLong> firstAtOrAfter(OpenedStream os, Streamlet sl, long timestampMs, long tailSeq) {
    return scanSegmentsForTimestamp(os, sl, timestampMs, tailSeq, MetaKey.segmentsPrefix(sl.streamletId()), 0);
  }

  private Promise<OptionalLong> scanSegmentsForTimestamp(OpenedStream os, Streamlet sl, long ts, long tailSeq, ByteString from, long segmentsEnd) {
    ByteString end = MetadataStore.prefixEnd(MetaKey.segmentsPrefix(sl.streamletId()));
    return env.metadataStore().scan(from, end, 100).flatMap(page -> {
      long reached = segmentsEnd;
      for (KeyValue kv : page.entries()) {
        SegmentMeta meta = parseSegmentMeta(kv);
        reached = meta.getFirstSeqNum() + meta.getRecordCount();
        if (Long.compareUnsigned(meta.getLastTimestamp(), ts) >= 0) {
          return objects.get(ObjectKey.of(meta.getObjectKey()), ByteRange.of(0, meta.getObjectBytes()), meta.getObjectBytes()).map(got -> {
            if (got instanceof GetResult.Found f && f.objectBytes() == meta.getObjectBytes()) {
              List<SequencedRecord> records = Segment.fromTimestamp(Segment.parse(f.data()).records(), ts);
              return records.isEmpty() ? OptionalLong.empty() : OptionalLong.of(records.get(0).seqNum());
            }
            return OptionalLong.empty();
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

  /** Opens a read session (S2-API §8.1); its events go to {@code sink}. */
  public ReadSession openSession(BasinName basin, StreamName stream, ReadFrom from, boolean clamp, ReadEnd end,
      java.util.function.Consumer<ReadSession.Event> sink) {
    Session session = new Session(end, sink);
    open(basin, stream, AutoCreate.ON_READ).onComplete((opened, failure) -> {
      if (failure != null) {
        session.fail(asFailed(DataPlane.<Object>failedFrom(failure)));
        return;
      }
      switch (opened) {
        case Outcome.Failed<OpenedStream> f -> session.fail(f);
        case Outcome.Ok<OpenedStream> ok -> session.start(ok.value(), from, clamp);
      }
    });
    return session;
  }

  /** One session's state; everything runs on the frontend's executor. */
  private final class Session implements ReadSession {
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

    Session(ReadEnd end, java.util.function.Consumer<ReadSession.Event> sink) {
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
            resolve(from, clamp);
          }
        }
      });
    }

    private void resolve(ReadFrom from, boolean clamp) {
      tailOf(stream, streamlet).onComplete((tailOutcome, failure) -> {
        if (done) {
          return;
        }
        if (failure != null || tailOutcome instanceof Outcome.Failed) {
          fail(failure != null ? asFailed(DataPlane.<Object>failedFrom(failure)) : asFailed(tailOutcome));
          return;
        }
        StreamPosition tail = tailOutcome.orThrow();
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
          seq = ((StartResolution.Start) start).seqNum();
          catchUpTo(tail.seqNum(), this::follow);
        });
      });
    }

    /** Delivers {@code [seq, tailSeq)} as catch-up batches, then runs {@code then} unless the session ended. */
    private void catchUpTo(long tailSeq, Runnable then) {
      catchUp(stream, streamlet, seq, tailSeq, budget, new ArrayList<>()).onComplete((caught, failure) -> {
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
            } else {
              then.run();
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
      if (end.waitSecs() == null || done) {
        return;
      }
      if (deadline != null) {
        deadline.cancel();
      }
      deadline = env.scheduler().schedule(end.waitSecs() * 1_000_000_000L, () -> finish(new ReadSession.End()));
    }

    /** A live batch from the subscription: keeps what is new to this session and within its budget. */
    void deliver(List<SequencedRecord> records, StreamPosition tail) {
      lastTail = tail;
      List<SequencedRecord> fresh = new ArrayList<>();
      for (SequencedRecord r : records) {
        if (r.seqNum() >= seq) {
          fresh.add(r);
        }
      }
      if (fresh.isEmpty()) {
        return;
      }
      ReadBudget.Taken taken = budget.take(fresh);
      budget = taken.left();
      if (!taken.delivered().isEmpty()) {
        emit(new ReadSession.Batch(taken.delivered(), tail));
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
            if (got.getRecordsCount() == 0 && nextSeq < got.getFirstHeldSeqNum()) {
              // Fell below what the channel holds: every listener catches up from segments and rejoins.
              subscriptions.remove(streamlet.streamletId());
              listeners.clear();
              now.forEach(s -> s.catchUpTo(tail.seqNum(), s::subscribe));
              return;
            }
            List<SequencedRecord> records = decode(got.getRecordsList());
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
