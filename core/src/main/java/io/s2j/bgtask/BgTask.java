package io.s2j.bgtask;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.BasinName;
import io.s2j.api.ConfigProtos;
import io.s2j.api.ErrorCode;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.StreamName;
import io.s2j.channel.Channel;
import io.s2j.channel.ChannelRpc;
import io.s2j.channel.PlantedBug;
import io.s2j.channel.proto.AppendRequest;
import io.s2j.channel.proto.AppendResponse;
import io.s2j.channel.proto.StreamletRef;
import io.s2j.channel.proto.TailRequest;
import io.s2j.channel.proto.TailResponse;
import io.s2j.format.Chunk;
import io.s2j.format.CorruptData;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.BasinMeta;
import io.s2j.metadata.proto.ChannelMeta;
import io.s2j.metadata.proto.SegmentHeadMeta;
import io.s2j.metadata.proto.SegmentMeta;
import io.s2j.metadata.proto.StreamMeta;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.metadata.proto.TrimMeta;
import io.s2j.record.Command;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.Done;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The cell's background work (S2-API §12.2–12.5), on the metadata store, the object store and the
 * channels' RPCs only, so any number of nodes may run one (every step is idempotent and guarded):
 *
 * <ul>
 *   <li><b>retention by age</b>: a stream's segments whose every record is older than its
 *       retention age raise its retention trim point ({@code TrimMeta}); frontends do not serve
 *       below it;
 *   <li><b>delete-on-empty</b>: a stream with no record left and no write for {@code min_age}
 *       gets a terminal trim conditioned on the tail it saw (so a racing append wins), then is
 *       marked deleted;
 *   <li><b>stream deletion</b>: a terminal trim on the stream's current streamlet (the channel
 *       refuses every later append and turns the streamlet's segment head into a tombstone); once
 *       the tombstone is there and the frontends' stream caches have expired, the name is freed and
 *       a purge marker put in one transaction; the purge then removes segments and the chain by
 *       stream id (never by name, so a re-created stream — a new id — is never touched);
 *   <li><b>basin deletion</b>: marks every stream of a deleting basin deleted, and removes the
 *       basin once none is left;
 *   <li><b>garbage collection</b>: segments entirely below a streamlet's trim point (metadata
 *       first, then the object), and chunks below a channel's {@code first_live_chunk} that its
 *       own collection left behind — never a fence.
 * </ul>
 *
 * The safety argument is in docs/design.md, "bgtask and GC safety".
 */
public final class BgTask {
  /**
   * @param tickNanos pause between rounds
   * @param nameFreeDelayNanos how long a deleted stream's name stays taken after this task first
   *     saw the deletion: at least the frontends' stream cache TTL, so no cached lookup of the old
   *     incarnation outlives the new one's creation
   */
  public record Knobs(long tickNanos, long nameFreeDelayNanos) {
    /** A round every 5 s (lite: 60 s); names freed two stream-cache TTLs (at least 1 s) after the deletion was seen. */
    public static Knobs standard(long streamCacheTtlNanos) {
      return new Knobs(5_000_000_000L, Math.max(2 * streamCacheTtlNanos, 1_000_000_000L));
    }

    public Knobs {
      if (tickNanos <= 0 || nameFreeDelayNanos < 0) {
        throw new IllegalArgumentException("bad bgtask knobs: " + tickNanos + " ns rounds, names freed after " + nameFreeDelayNanos + " ns");
      }
    }
  }

  /** What the task did so far (this incarnation). */
  public static final class Counters {
    long rounds;
    long retentionTrims;
    long segmentsCollected;
    long terminalTrims;
    long streamsFinalised;
    long streamsPurged;
    long basinsFinalised;
    long deletesOnEmpty;
    long chunksCollected;
    long failures;

    public long rounds() {
      return rounds;
    }

    public long retentionTrims() {
      return retentionTrims;
    }

    public long segmentsCollected() {
      return segmentsCollected;
    }

    public long terminalTrims() {
      return terminalTrims;
    }

    public long streamsFinalised() {
      return streamsFinalised;
    }

    public long streamsPurged() {
      return streamsPurged;
    }

    public long basinsFinalised() {
      return basinsFinalised;
    }

    public long deletesOnEmpty() {
      return deletesOnEmpty;
    }

    public long chunksCollected() {
      return chunksCollected;
    }

    public long failures() {
      return failures;
    }

    @Override
    public String toString() {
      return "rounds=" + rounds + " retention_trims=" + retentionTrims + " segments_collected=" + segmentsCollected
          + " terminal_trims=" + terminalTrims + " streams_finalised=" + streamsFinalised + " streams_purged=" + streamsPurged
          + " basins_finalised=" + basinsFinalised + " deletes_on_empty=" + deletesOnEmpty + " chunks_collected=" + chunksCollected
          + " failures=" + failures;
    }
  }

  static final long RPC_TIMEOUT_NANOS = 10_000_000_000L;
  static final int DELETES_PER_TXN = 100;
  private static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

  private final Env env;
  private final Catalog catalog;
  /** Where channels are served; replaced by the runtime when the cell grows. */
  private final io.s2j.runtime.View<ChannelDirectory> directory;
  private final Knobs knobs;
  private final PlantedBug bug;
  private final Counters counters = new Counters();
  /** How a dormant stream is activated: the cop when the cell has one (one writer of first links), else the catalog. */
  private io.s2j.frontend.DataPlane.Activator activator;
  /** When this incarnation first saw each deleted stream (by id) with its tombstone in place. */
  private final TreeMap<Long, Long> deletionSeenNanos = new TreeMap<>();
  /** When this incarnation first saw each deleting basin without streams. */
  private final TreeMap<String, Long> basinEmptySeenNanos = new TreeMap<>();
  /** Chunks known to be fences, per channel: never collected, so read once. */
  private final TreeMap<String, TreeSet<Long>> knownFences = new TreeMap<>();

  public BgTask(Env env, Catalog catalog, ChannelDirectory directory, Knobs knobs) {
    this(env, catalog, directory, knobs, PlantedBug.NONE);
  }

  /** A task with a planted bug: for the simulator's planted-bug runs only. */
  public BgTask(Env env, Catalog catalog, ChannelDirectory directory, Knobs knobs, PlantedBug bug) {
    this(env, catalog, io.s2j.runtime.View.of(directory), knobs, bug);
  }

  /** A task reading the channel directory's current snapshot of {@code directory} at each call. */
  public BgTask(Env env, Catalog catalog, io.s2j.runtime.View<ChannelDirectory> directory, Knobs knobs, PlantedBug bug) {
    this.env = env;
    this.catalog = catalog;
    this.directory = directory;
    this.knobs = knobs;
    this.bug = bug;
    this.activator = (streamId, storageClass) -> catalog.activate(streamId, directory.current().channelIdsFor(storageClass), c -> 0);
    env.scheduler().schedule(env.random().nextLong(0, knobs.tickNanos()) + 1, this::round);
  }

  /**
   * Activates dormant streams through {@code activator} (the cop's client): with a cop, only it
   * writes first links, so bgtask's activation cannot race one of the cop's.
   */
  public BgTask withActivator(io.s2j.frontend.DataPlane.Activator activator) {
    this.activator = java.util.Objects.requireNonNull(activator, "activator");
    return this;
  }

  public Counters counters() {
    return counters;
  }

  // ---------------------------------------------------------------- the round

  private void round() {
    counters.rounds++;
    step(this::basins)
        .flatMap(x -> step(this::streams))
        .flatMap(x -> step(this::purges))
        .flatMap(x -> step(this::walGarbage))
        .onComplete((x, failure) -> {
          // Jitter (±10 %) so that several tasks do not move in lockstep.
          long jitter = knobs.tickNanos() / 10;
          env.scheduler().schedule(knobs.tickNanos() - jitter + env.random().nextLong(0, 2 * jitter + 1), this::round);
        });
  }

  /** Runs one worker; a store failure ends it for this round (everything is retried next round). */
  private Promise<Done> step(java.util.function.Supplier<Promise<Done>> worker) {
    Promise<Done> p;
    try {
      p = worker.get();
    } catch (RuntimeException e) {
      return Promise.failed(env.scheduler(), e);
    }
    return p.handle((d, failure) -> {
      if (failure != null) {
        if (!(failure instanceof IoFailure)) {
          throw failure instanceof RuntimeException re ? re : new IllegalStateException(failure);
        }
        counters.failures++;
      }
      return Done.DONE;
    });
  }

  private Promise<Done> done() {
    return Promise.completed(env.scheduler(), Done.DONE);
  }

  /** Runs {@code each} on the items one after another. */
  private <T> Promise<Done> forEach(List<T> items, int i, Function<T, Promise<Done>> each) {
    if (i >= items.size()) {
      return done();
    }
    return each.apply(items.get(i)).flatMap(x -> forEach(items, i + 1, each));
  }

  private Promise<List<KeyValue>> scanAll(ByteString from, ByteString end) {
    return scanAll(from, end, new ArrayList<>());
  }

  private Promise<List<KeyValue>> scanAll(ByteString from, ByteString end, List<KeyValue> found) {
    return env.metadataStore().scan(from, end, MetadataStore.SCAN_LIMIT_MAX).flatMap(page -> {
      found.addAll(page.entries());
      if (!page.more()) {
        return Promise.completed(env.scheduler(), found);
      }
      return scanAll(page.entries().get(page.entries().size() - 1).key().concat(ZERO), end, found);
    });
  }

  private Promise<List<KeyValue>> scanPrefix(ByteString prefix) {
    return scanAll(prefix, MetadataStore.prefixEnd(prefix));
  }

  private Promise<Done> commit(Txn txn) {
    return env.metadataStore().commit(txn).map(r -> Done.DONE);
  }

  /** Deletes {@code keys} in transactions of at most {@link #DELETES_PER_TXN} (each key is dead already). */
  private Promise<Done> deleteKeys(List<ByteString> keys) {
    if (keys.isEmpty()) {
      return done();
    }
    Txn.Builder txn = Txn.builder();
    int n = Math.min(keys.size(), DELETES_PER_TXN);
    for (int i = 0; i < n; i++) {
      txn.delete(keys.get(i));
    }
    return commit(txn.build()).flatMap(x -> deleteKeys(keys.subList(n, keys.size())));
  }

  private Promise<Done> deleteObjects(List<ObjectKey> keys) {
    List<Promise<Done>> deletes = new ArrayList<>();
    for (ObjectKey k : keys) {
      deletes.add(env.objectStore().delete(k));
    }
    return Promise.all(env.scheduler(), deletes).map(x -> Done.DONE);
  }

  private long nowMs() {
    return env.clock().wallMillis();
  }

  // ---------------------------------------------------------------- basins (§12.3)

  private Promise<Done> basins() {
    return scanPrefix(MetaKey.basinsPrefix("")).flatMap(basins -> forEach(basins, 0, kv -> {
      BasinMeta meta = parse(kv, BasinMeta::parseFrom);
      if (!meta.hasDeletedAtMs()) {
        return done();
      }
      String basin = MetaKey.basinName(kv.key());
      return scanPrefix(MetaKey.streamsPrefix(basin, "")).flatMap(streams -> {
        if (streams.isEmpty()) {
          // No stream can appear any more: creates are guarded by the basin's revision and refuse a
          // deleting basin. So the basin goes, guarded by the revision it was seen at — like a
          // stream's name, only a while after this task first saw it empty and deleting.
          long now = env.clock().nowNanos();
          long seen = basinEmptySeenNanos.computeIfAbsent(basin, x -> now);
          if (now - seen < knobs.nameFreeDelayNanos()) {
            return done();
          }
          basinEmptySeenNanos.remove(basin);
          return env.metadataStore().commit(Txn.builder().ifRevision(kv.key(), kv.modRevision()).delete(kv.key()).build())
              .map(r -> {
                if (r instanceof TxnResult.Committed) {
                  counters.basinsFinalised++;
                }
                return Done.DONE;
              });
        }
        for (KeyValue s : streams) {
          if (!parse(s, StreamMeta::parseFrom).hasDeletedAtMs()) {
            // Marking is the catalog's (it waits out the stream caches before answering); the
            // finalisation below picks the stream up once marked.
            catalog.deleteStream(new BasinName(basin), new StreamName(MetaKey.streamNames(s.key())[1]));
          }
        }
        return done();
      });
    }));
  }

  // ---------------------------------------------------------------- streams

  private Promise<Done> streams() {
    return scanPrefix(MetaKey.typePrefix(MetaKey.Type.STREAM)).flatMap(streams -> forEach(streams, 0, kv -> {
      StreamMeta meta = parse(kv, StreamMeta::parseFrom);
      if (meta.hasDeletedAtMs()) {
        return finalise(kv, meta);
      }
      return scanPrefix(MetaKey.streamletsPrefix(meta.getStreamId())).flatMap(chainKvs -> {
        List<StreamletMeta> chain = new ArrayList<>();
        chainKvs.forEach(c -> chain.add(parse(c, StreamletMeta::parseFrom)));
        return retention(kv, meta, chain)
            .flatMap(x -> collectSegments(meta, chain))
            .flatMap(x -> deleteOnEmpty(kv, meta, chain));
      });
    }));
  }

  /** The reference to {@code sl}, link {@code index} of {@code meta}'s chain. */
  private StreamletRef ref(StreamMeta meta, StreamletMeta sl, long index) {
    return ChannelRpc.linkRef(meta.getStreamId(), index, sl, ConfigProtos.resolvedFromProto(meta.getConfig()),
        meta.hasCipher() ? ConfigProtos.fromProto(meta.getCipher()) : null);
  }

  private Promise<Optional<TrimMeta>> trimMeta(long streamId) {
    return env.metadataStore().get(MetaKey.trim(streamId)).map(kv -> kv.map(v -> parse(v, TrimMeta::parseFrom)));
  }

  /**
   * Age retention: the longest run of a streamlet's first segments whose last record is older
   * than the retention age raises the stream's retention trim point (compare-and-set; it never
   * goes down). Records the channel has not yet put in segments wait for their segment.
   */
  private Promise<Done> retention(KeyValue streamKv, StreamMeta meta, List<StreamletMeta> chain) {
    ResolvedStreamConfig config = ConfigProtos.resolvedFromProto(meta.getConfig());
    if (!(config.retentionPolicy() instanceof RetentionPolicy.Age age) || chain.isEmpty()) {
      return done();
    }
    long cutoffMs = nowMs() - Math.min(age.ageSeconds(), Long.MAX_VALUE / 2000) * 1000;
    // Chains of one link for now (migration is cop's): the last streamlet holds the records.
    StreamletMeta sl = chain.get(chain.size() - 1);
    return scanPrefix(MetaKey.segmentsPrefix(sl.getStreamletId())).flatMap(segments -> {
      long expiredTo = -1;
      for (KeyValue s : segments) {
        SegmentMeta seg = parse(s, SegmentMeta::parseFrom);
        if (seg.getLastTimestamp() >= cutoffMs || seg.getLastTimestamp() < 0) {
          break;
        }
        expiredTo = seg.getFirstSeqNum() + seg.getRecordCount();
      }
      if (expiredTo < 0) {
        return done();
      }
      long target = expiredTo;
      ByteString key = MetaKey.trim(meta.getStreamId());
      return env.metadataStore().get(key).flatMap(current -> {
        TrimMeta old = current.map(v -> parse(v, TrimMeta::parseFrom)).orElse(TrimMeta.getDefaultInstance());
        if (old.getPurge() || old.getTrimPoint() >= target) {
          return done();
        }
        // Guarded by the stream's own key too: a stream finalised (and purged) meanwhile never gets
        // a trim key back.
        Txn.Builder txn = Txn.builder().ifRevision(streamKv.key(), streamKv.modRevision());
        if (current.isPresent()) {
          txn.ifRevision(key, current.get().modRevision());
        } else {
          txn.ifAbsent(key);
        }
        return env.metadataStore().commit(txn.put(key, old.toBuilder().setTrimPoint(target).build().toByteString()).build())
            .map(r -> {
              if (r instanceof TxnResult.Committed) {
                counters.retentionTrims++;
              }
              return Done.DONE;
            });
      });
    });
  }

  /**
   * Collects a live streamlet's segments that lie entirely below its trim point: the larger of the
   * durable trim point its segment head carries and the stream's retention trim point. Both only
   * grow, and every reader starts at or above them, so nothing can need those records again. The
   * metadata goes first, then the objects: a reader that found the metadata before and the object
   * gone after asks for the trim point again and goes on above it (DataPlane's read path).
   */
  private Promise<Done> collectSegments(StreamMeta meta, List<StreamletMeta> chain) {
    if (chain.isEmpty()) {
      return done();
    }
    StreamletMeta sl = chain.get(chain.size() - 1);
    long id = sl.getStreamletId();
    return env.metadataStore().get(MetaKey.segmentHead(id)).flatMap(headKv -> {
      if (headKv.isEmpty()) {
        return done();
      }
      SegmentHeadMeta head = parse(headKv.get(), SegmentHeadMeta::parseFrom);
      if (head.getDeleted()) {
        return done(); // the stream's finalisation purges it
      }
      return trimMeta(meta.getStreamId()).flatMap(trim -> {
        long floor = Math.max(head.getTrimPoint(), trim.map(TrimMeta::getTrimPoint).orElse(0L));
        if (floor == 0) {
          return done();
        }
        ByteString prefix = MetaKey.segmentsPrefix(id);
        // Segment keys are ordered by their exclusive end: those ending at or below the floor.
        ByteString end = bug == PlantedBug.GC_DELETES_REFERENCED_SEGMENT ? MetadataStore.prefixEnd(prefix)
            : MetaKey.segment(id, floor + 1);
        return scanAll(prefix, end).flatMap(segments -> {
          List<ByteString> keys = new ArrayList<>();
          List<ObjectKey> objects = new ArrayList<>();
          for (KeyValue s : segments) {
            SegmentMeta seg = parse(s, SegmentMeta::parseFrom);
            if (bug == PlantedBug.GC_DELETES_REFERENCED_SEGMENT && seg.getFirstSeqNum() >= floor) {
              continue;
            }
            keys.add(s.key());
            objects.add(ObjectKey.of(seg.getObjectKey()));
          }
          return deleteKeys(keys).flatMap(x -> deleteObjects(objects)).map(x -> {
            counters.segmentsCollected += objects.size();
            return Done.DONE;
          });
        });
      });
    });
  }

  /**
   * Delete-on-empty (§12.4): a stream whose every record is trimmed or expired, whose last write
   * (its tail's timestamp, or its creation) is at least {@code min_age} old, gets a terminal trim
   * conditioned on the tail seen ({@code match_seq_num}): an append that slipped in meanwhile makes
   * it fail, and nothing is deleted. Then the stream is marked deleted (the catalog's delete).
   */
  private Promise<Done> deleteOnEmpty(KeyValue kv, StreamMeta meta, List<StreamletMeta> chain) {
    ResolvedStreamConfig config = ConfigProtos.resolvedFromProto(meta.getConfig());
    long minAgeMs = Math.min(config.deleteOnEmptyMinAgeSecs(), Long.MAX_VALUE / 2000) * 1000;
    if (minAgeMs <= 0 || nowMs() - meta.getCreatedAtMs() < minAgeMs) {
      return done();
    }
    String[] names = MetaKey.streamNames(kv.key());
    BasinName basin = new BasinName(names[0]);
    StreamName stream = new StreamName(names[1]);
    if (chain.isEmpty()) {
      // A dormant stream is activated first, so that the decision goes through its channel like
      // any other: marking it deleted here could race with an activation and a first append (the
      // sweep found that: an acknowledged record deleted on "empty"). The next round decides.
      return activator.activate(meta.getStreamId(), config.storageClass()).map(x -> Done.DONE);
    }
    StreamletMeta sl = chain.get(chain.size() - 1);
    long index = chain.size() - 1;
    TailRequest request = TailRequest.newBuilder().setStreamlet(ref(meta, sl, index)).build();
    return call(sl.getChannelId(), ChannelRpc.TAIL, request, r -> r.hasError() && unavailable(r.getError()))
        .flatMap(tail -> trimMeta(meta.getStreamId()).flatMap(trim -> {
          if (!tail.hasTail()) {
            return done();
          }
          StreamPosition t = ChannelRpc.fromProto(tail.getTail());
          long floor = Math.max(tail.getTrimPoint(), trim.map(TrimMeta::getTrimPoint).orElse(0L));
          if (tail.getDeleting()) {
            catalog.deleteStream(basin, stream);
            return done();
          }
          if (floor < t.seqNum() || nowMs() - t.timestamp() < minAgeMs) {
            return done();
          }
          return terminalTrim(meta, sl, index, t.seqNum()).map(r -> {
            if (r.hasAck() || (r.hasError() && r.getError().getCode().equals(ErrorCode.STREAM_DELETION_PENDING.name()))) {
              counters.deletesOnEmpty++;
              catalog.deleteStream(basin, stream);
            }
            return Done.DONE;
          });
        }));
  }

  /** Appends a terminal trim (a trim command to u64::MAX) to the streamlet, optionally at {@code matchSeqNum}. */
  private Promise<AppendResponse> terminalTrim(StreamMeta meta, StreamletMeta sl, long index, Long matchSeqNum) {
    io.s2j.record.AppendRecord trim = Command.toRecord(new Command.Trim(-1L));
    // A timestamp of now satisfies every timestamping mode (client-require included).
    trim = new io.s2j.record.AppendRecord(nowMs(), trim.headers(), trim.body());
    AppendRequest.Builder request = AppendRequest.newBuilder().setStreamlet(ref(meta, sl, index)).addRecords(ChannelRpc.toProto(trim))
        .setTerminalTrim(true);
    if (matchSeqNum != null) {
      request.setMatchSeqNum(matchSeqNum);
    }
    counters.terminalTrims++;
    return call(sl.getChannelId(), ChannelRpc.APPEND, request.build(), r -> r.hasError() && unavailable(r.getError()));
  }

  // ---------------------------------------------------------------- stream deletion (§12.2)

  /**
   * A deleted stream: first its current streamlet gets a terminal trim and, from the channel, a
   * tombstone head; then, once the stream caches have expired, one transaction guarded by the
   * stream key's revision removes the key (the name is free) and puts the purge marker under the
   * stream id. The purge works by id only.
   */
  private Promise<Done> finalise(KeyValue kv, StreamMeta meta) {
    long streamId = meta.getStreamId();
    return scanPrefix(MetaKey.streamletsPrefix(streamId)).flatMap(chainKvs -> {
      Promise<Boolean> tombstoned;
      if (chainKvs.isEmpty()) {
        tombstoned = Promise.completed(env.scheduler(), true);
      } else {
        KeyValue lastLink = chainKvs.get(chainKvs.size() - 1);
        StreamletMeta sl = parse(lastLink, StreamletMeta::parseFrom);
        long index = MetaKey.u64At(lastLink.key(), 1);
        tombstoned = env.metadataStore().get(MetaKey.segmentHead(sl.getStreamletId())).flatMap(head -> {
          if (head.isPresent() && parse(head.get(), SegmentHeadMeta::parseFrom).getDeleted()) {
            return Promise.completed(env.scheduler(), true);
          }
          // Not yet: (again) append the terminal trim; the channel writes the tombstone once it is
          // durable, and a later round finds it. A refusal as "being deleted" means it is there.
          return terminalTrim(meta, sl, index, null).handle((r, f) -> false);
        }).flatMap(last -> last ? sealedLinksSegmented(chainKvs.subList(0, chainKvs.size() - 1), 0)
            : Promise.completed(env.scheduler(), false));
      }
      return tombstoned.flatMap(ready -> {
        if (!ready) {
          return done();
        }
        long now = env.clock().nowNanos();
        long seen = deletionSeenNanos.computeIfAbsent(streamId, id -> now);
        if (now - seen < knobs.nameFreeDelayNanos()) {
          return done();
        }
        return trimMeta(streamId).flatMap(trim -> {
          TrimMeta marker = trim.orElse(TrimMeta.getDefaultInstance()).toBuilder().setPurge(true).build();
          Txn txn = Txn.builder().ifRevision(kv.key(), kv.modRevision()).delete(kv.key())
              .put(MetaKey.trim(streamId), marker.toByteString()).build();
          return env.metadataStore().commit(txn).map(r -> {
            if (r instanceof TxnResult.Committed) {
              counters.streamsFinalised++;
              deletionSeenNanos.remove(streamId);
            }
            return Done.DONE;
          });
        });
      });
    });
  }

  /**
   * Whether every link sealed by a migration has its segments up to its end: its channel writes
   * no segment for it after that (a segment write starts from the head, which has reached the end).
   * Until then the purge could delete a link's segments while its channel still commits one (an
   * object put before the purge's deletes, its metadata after: metadata naming a missing object —
   * found by the sweep, cell seed 215 once the cop and bgtask ran together). Sealed links have no
   * tombstone (no terminal trim reaches them), so this is what tells their writer is done.
   */
  private Promise<Boolean> sealedLinksSegmented(List<KeyValue> links, int i) {
    if (i >= links.size()) {
      return Promise.completed(env.scheduler(), true);
    }
    StreamletMeta link = parse(links.get(i), StreamletMeta::parseFrom);
    if (!link.hasEndSeqNum()) {
      return Promise.completed(env.scheduler(), false); // only the last link is open
    }
    if (link.getEndSeqNum() <= link.getStartSeqNum()) {
      return sealedLinksSegmented(links, i + 1); // sealed empty: nothing to segment, no head
    }
    return env.metadataStore().get(MetaKey.segmentHead(link.getStreamletId())).flatMap(head -> {
      boolean done = head.isPresent() && (parse(head.get(), SegmentHeadMeta::parseFrom).getDeleted()
          || parse(head.get(), SegmentHeadMeta::parseFrom).getNextSeqNum() >= link.getEndSeqNum());
      return done ? sealedLinksSegmented(links, i + 1) : Promise.completed(env.scheduler(), false);
    });
  }

  /** Removes the data of every finalised incarnation (purge markers), by stream id; the marker goes last. */
  private Promise<Done> purges() {
    return scanPrefix(MetaKey.typePrefix(MetaKey.Type.TRIM)).flatMap(trims -> forEach(trims, 0, kv -> {
      TrimMeta marker = parse(kv, TrimMeta::parseFrom);
      if (!marker.getPurge() || marker.getPurged()) {
        return done();
      }
      long streamId = MetaKey.u64At(kv.key(), 0);
      return scanPrefix(MetaKey.streamletsPrefix(streamId)).flatMap(chain -> forEach(chain, 0, c -> {
        long streamletId = parse(c, StreamletMeta::parseFrom).getStreamletId();
        return scanPrefix(MetaKey.segmentsPrefix(streamletId)).flatMap(segments -> {
          List<ByteString> keys = new ArrayList<>();
          segments.forEach(s -> keys.add(s.key()));
          // Metadata first; then every object under the streamlet's prefix (orphans of failed
          // commits included): its head is a tombstone, so no segment is written there again.
          return deleteKeys(keys).flatMap(x -> deletePrefix(segmentPrefix(streamletId), null));
        });
      }).flatMap(x -> {
        List<ByteString> keys = new ArrayList<>();
        chain.forEach(c -> keys.add(c.key()));
        return deleteKeys(keys);
      })).flatMap(x -> env.metadataStore().commit(Txn.builder().ifRevision(kv.key(), kv.modRevision())
              .put(kv.key(), marker.toBuilder().setPurged(true).build().toByteString()).build())
          .map(r -> {
            if (r instanceof TxnResult.Committed) {
              counters.streamsPurged++;
            }
            return Done.DONE;
          }));
    }));
  }

  static String segmentPrefix(long streamletId) {
    String k = Channel.segmentKey(streamletId, 0, 0).value();
    return k.substring(0, k.lastIndexOf('/') + 1);
  }

  private Promise<Done> deletePrefix(String prefix, ObjectKey after) {
    return env.objectStore().list(prefix, after, 1000).flatMap(page -> {
      List<ObjectKey> keys = new ArrayList<>();
      page.objects().forEach(o -> keys.add(o.key()));
      return deleteObjects(keys).flatMap(x -> page.truncated() && !keys.isEmpty()
          ? deletePrefix(prefix, keys.get(keys.size() - 1)) : done());
    });
  }

  // ---------------------------------------------------------------- WAL garbage

  /**
   * Chunks numbered below a channel's {@code first_live_chunk} are covered by segments or void
   * (the channel's own collection deletes them right after advancing it, and a crash in between
   * leaves them behind). Fences stay: deleting one would free its number for a zombie's write.
   */
  private Promise<Done> walGarbage() {
    return scanPrefix(MetaKey.typePrefix(MetaKey.Type.CHANNEL)).flatMap(channels -> forEach(channels, 0, kv -> {
      ChannelMeta meta = parse(kv, ChannelMeta::parseFrom);
      String channelId = kv.key().substring(1).toStringUtf8();
      long firstLive = meta.getFirstLiveChunk();
      if (firstLive == 0) {
        return done();
      }
      return collectChunks(channelId, firstLive, null);
    }));
  }

  private Promise<Done> collectChunks(String channelId, long firstLive, ObjectKey after) {
    String prefix = Channel.walPrefix(channelId);
    return env.objectStore().list(prefix, after, 1000).flatMap(page -> {
      List<ObjectKey> candidates = new ArrayList<>();
      boolean reachedLive = false;
      TreeSet<Long> fences = knownFences.computeIfAbsent(channelId, c -> new TreeSet<>());
      for (ObjectSummary o : page.objects()) {
        long seq = Long.parseLong(o.key().value().substring(prefix.length()));
        if (seq >= firstLive) {
          reachedLive = true;
          break;
        }
        if (!fences.contains(seq)) {
          candidates.add(o.key());
        }
      }
      boolean more = !reachedLive && page.truncated() && !page.objects().isEmpty();
      ObjectKey last = page.objects().isEmpty() ? null : page.objects().get(page.objects().size() - 1).key();
      return forEach(candidates, 0, key -> env.objectStore().get(key).flatMap(got -> {
        if (!(got instanceof GetResult.Found f)) {
          return done();
        }
        long seq = Long.parseLong(key.value().substring(prefix.length()));
        Chunk.Origin origin;
        try {
          origin = Chunk.parse(f.data()).origin();
        } catch (CorruptData e) {
          throw new Invariants.InvariantViolation("corrupt chunk " + key + ": " + e.getMessage());
        }
        if (origin.voidThroughChunkSeqNum() > 0) {
          fences.add(seq);
          return done();
        }
        counters.chunksCollected++;
        return env.objectStore().delete(key);
      })).flatMap(x -> more ? collectChunks(channelId, firstLive, last) : done());
    });
  }

  // ---------------------------------------------------------------- channel calls

  private static boolean unavailable(io.s2j.channel.proto.ErrorProto e) {
    return e.getCode().equals(ErrorCode.UNAVAILABLE.name()) && !e.getIndefinite();
  }

  /** Calls a channel, trying its hosts in turn (twice round) while the answer is a definite "unavailable". */
  private <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message> Promise<Resp> call(
      String channelId, io.s2j.runtime.RpcMethod<Req, Resp> method, Req request, java.util.function.Predicate<Resp> hostUnavailable) {
    Promise<Resp> result = env.promise();
    if (!directory.current().has(channelId)) {
      // A channel that joined after this task's last view of the cell: the next round tries again.
      result.fail(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "channel " + channelId + " is not in this task's directory"));
      return result;
    }
    attempt(directory.current().hostsOf(channelId), 0, method, request, hostUnavailable, result);
    return result;
  }

  private <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message> void attempt(List<NodeId> hosts, int n,
      io.s2j.runtime.RpcMethod<Req, Resp> method, Req request, java.util.function.Predicate<Resp> hostUnavailable, Promise<Resp> result) {
    env.network().call(hosts.get(n % hosts.size()), method, request, RPC_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      boolean definiteMiss = (failure instanceof IoFailure io && !io.indefinite()) || (failure == null && hostUnavailable.test(resp));
      if (definiteMiss && n + 1 < 2 * hosts.size()) {
        attempt(hosts, n + 1, method, request, hostUnavailable, result);
      } else if (failure != null) {
        result.fail(failure);
      } else {
        result.complete(resp);
      }
    });
  }

  // ---------------------------------------------------------------- parsing

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
