package io.s2j.channel;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.AppendStep;
import io.s2j.api.Checked;
import io.s2j.api.ConfigProtos;
import io.s2j.api.ErrorCode;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.StreamCipher;
import io.s2j.api.StreamState;
import io.s2j.api.proto.StreamCipherProto;
import io.s2j.channel.proto.AppendRecordProto;
import io.s2j.channel.proto.AppendRequest;
import io.s2j.channel.proto.AppendResponse;
import io.s2j.channel.proto.ErrorProto;
import io.s2j.channel.proto.ReadRequest;
import io.s2j.channel.proto.ReadResponse;
import io.s2j.channel.proto.StreamletRef;
import io.s2j.channel.proto.TailRequest;
import io.s2j.channel.proto.TailResponse;
import io.s2j.format.Chunk;
import io.s2j.format.ChunkBuilder;
import io.s2j.format.CorruptData;
import io.s2j.format.Segment;
import io.s2j.format.SegmentBuilder;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.ChannelMeta;
import io.s2j.metadata.proto.SegmentHeadMeta;
import io.s2j.metadata.proto.SegmentMeta;
import io.s2j.record.AppendRecord;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The sequencer of the streamlets assigned to it: checks conditions, assigns sequence numbers and
 * timestamps, multiplexes every streamlet's batches into chunks written to the object store, and
 * acknowledges strictly in chunk order once durable. Serves the durable tail to readers.
 *
 * <p>An incarnation first takes the channel over: it raises the channel's epoch in metadata,
 * replays the write-ahead log, and writes a fence chunk at the first free chunk number, so that
 * the previous incarnation, if still alive, can never acknowledge again (docs/design.md, "The
 * channel's write-ahead log and its fencing protocol"). Metadata is not touched per append.
 *
 * <p>Durable records are written, per streamlet, as segments (recorded in metadata) on a size or
 * time trigger; records are held in memory until they are in a segment, and some beyond that
 * ({@link ChannelKnobs#retainedBytesMax}) for readers of the recent tail. Reads below what the
 * channel holds go to segments (the frontend plans them). Simplified for now (docs/design.md,
 * Status): recovery replays the whole log (no WAL garbage collection yet).
 */
public final class Channel {
  /** Where the channel is in its life. */
  public enum State {
    TAKING_OVER,
    SERVING,
    FENCED
  }

  private final Env env;
  private final String channelId;
  private final ChannelKnobs knobs;
  private final PlantedBug bug;
  private final TreeMap<Long, Streamlet> streamlets = new TreeMap<>();
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private State state = State.TAKING_OVER;
  private long epoch;
  private long nextChunkSeq;
  private long fencedAtChunk = Long.MAX_VALUE;
  /** Chunks below this are covered by segments (ChannelMeta.first_live_chunk as this incarnation knows it). */
  private long firstLiveChunk;
  /** The durable chain from {@link #firstLiveChunk}: what each chunk holds, for garbage collection. */
  private final TreeMap<Long, WalChunk> wal = new TreeMap<>();
  private boolean collectingWal;
  /** Requests waiting while an unknown streamlet's state is read from its segment head. */
  private final TreeMap<Long, List<Runnable>> loading = new TreeMap<>();
  private ChunkBuilder current;
  private List<Pending> currentPending = new ArrayList<>();
  private List<Chunk.Entry> currentEntries = new ArrayList<>();
  /** Reads waiting for the open chunk to prove this incarnation still owns the log. */
  private List<java.util.function.Consumer<Boolean>> currentBarriers = new ArrayList<>();
  private Cancellable flushTimer;
  private boolean flushDue;
  private long pendingBytes;
  private long appendedBytes;
  /** Migrations this incarnation sealed: new streamlet id → when it stopped accepting appends. */
  private final TreeMap<Long, Long> migrationsSealedNanos = new TreeMap<>();
  /** When this incarnation acknowledged each streamlet's first batch. */
  private final TreeMap<Long, Long> firstAckNanos = new TreeMap<>();
  /** Held records already in segments (evictable). */
  private long segmentedHeldBytes;
  /** Streamlets that may hold records already in segments, in the order they got them: eviction takes from the front. */
  private final ArrayDeque<Streamlet> evictable = new ArrayDeque<>();
  /** Held records not yet in segments (not evictable). */
  private long unsegmentedBytes;
  /** Metered bytes of the records in {@link #wal} (the live log a take-over replays). */
  private long walLiveBytes;
  /** Streamlets due for a segment, waiting for one of the {@code segmentWritesInFlightMax} slots. */
  private final ArrayDeque<Streamlet> segmentQueue = new ArrayDeque<>();
  /** Segment writes started and not finished (head read, object put, commit). */
  private int segmentsInFlight;
  /** Segments whose objects are stored, waiting to be committed in metadata together. */
  private final List<SegmentCommit> segmentCommits = new ArrayList<>();
  /** A transaction of {@link #segmentCommits} is in flight (one at a time: the next one gathers meanwhile). */
  private boolean committingSegments;
  /** Segments of {@link #segmentsInFlight} in a commit in flight. */
  private int segmentsCommitting;
  /** Segment commits per metadata transaction: one condition and two puts each, within {@link Txn#OPS_MAX}. */
  static final int SEGMENT_COMMITS_PER_TXN = Txn.OPS_MAX / 3;

  /** One streamlet's sequencing state. */
  private static final class Streamlet {
    final long id;
    StreamState pending;
    StreamPosition durableTail;
    String durableToken;
    long durableTrim;
    ResolvedStreamConfig config = ResolvedStreamConfig.SYSTEM_DEFAULTS;
    StreamCipher cipher;
    int batchesNotDurable;
    final HeldRecords retained = new HeldRecords();
    final ArrayDeque<Held> held = new ArrayDeque<>();
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Records below this are in segments (as far as this incarnation knows). */
    long segmentedUpTo;
    /** Metered bytes of held records at or above {@link #segmentedUpTo}. */
    long unsegmentedBytes;
    /** When its oldest record not yet in segments became durable (0: long ago); meaningful while {@link #unsegmentedBytes} > 0. */
    long unsegmentedSinceNanos;
    boolean segmentWriting;
    /** Waiting in {@link #segmentQueue}. */
    boolean segmentQueued;
    /** In {@link #evictable}. */
    boolean evictableQueued;
    /**
     * The segment head as this incarnation last read or committed it: its mod revision (0: absent),
     * or -1: unknown, read it before the next segment. Only a compare-and-set on exactly this
     * revision commits a segment, so a stale value costs one refused commit, never an overlap.
     */
    long headRevision = -1;
    /** {@code next_seq_num} of that head (where the next segment starts). */
    long headNext;
    /** A terminal trim (stream deletion) has been sequenced: every later append is refused. */
    boolean deleting;
    /** The terminal trim is durable: the streamlet gets a tombstone head instead of segments. */
    boolean deletedDurable;
    /** Its chain link was read once by this incarnation (whether a migration sealed it). */
    boolean linkChecked;
    /** A migration is sealing it: appends are refused from now on. */
    boolean sealing;
    /** Sealed at this seq num (tentatively while the migration commit is unresolved); null: open. */
    Long sealedAt;
    /** Where the streamlet starts (a link after a migration starts past 0): its first segment starts here. */
    long startSeq;
    /**
     * Non-null while the streamlet was started from a migration source's announcement and its link
     * is not proven yet: every answer to an append is held, no read or tail is served.
     */
    Speculation spec;
    /** A speculation that failed: no chain names this streamlet (its records are garbage, or lost with a purge). */
    boolean discarded;
    /** Discarded without proof that no chain ever named it (a purged chain): acks become indefinite failures. */
    boolean discardedMaybeVisible;
    /** While a migration seals it speculatively: the next link as announced to frontends. */
    StreamletRef next;

    Streamlet(long id, StreamState state) {
      this.id = id;
      this.pending = state;
      this.durableTail = state.tail();
      this.durableToken = state.fencingToken();
      this.durableTrim = state.trimPoint();
    }
  }

  /**
   * One durable chunk of the chain: the chunk number that follows it in the chain (past a fence's
   * void range), and the end seq num of each streamlet batch in it.
   */
  private record WalChunk(long nextInChain, long[] streamletIds, long[] endSeqNums, long meteredBytes) {
    static WalChunk of(long nextInChain, List<Chunk.Entry> entries) {
      long[] ids = new long[entries.size()];
      long[] ends = new long[entries.size()];
      long bytes = 0;
      for (int i = 0; i < entries.size(); i++) {
        ids[i] = entries.get(i).streamletId();
        ends[i] = entries.get(i).nextSeqNum();
        for (SequencedRecord r : entries.get(i).records()) {
          bytes += r.meteredBytes();
        }
      }
      return new WalChunk(nextInChain, ids, ends, bytes);
    }
  }

  /** A segment whose object is stored, to be recorded in metadata under a compare-and-set of its streamlet's head. */
  private record SegmentCommit(Streamlet s, long end, long headRevision, ByteString segmentMeta, ByteString newHead) {}

  /** Adds a chunk to the live log (and its records to {@link #walLiveBytes}). */
  private void walPut(long seq, WalChunk chunk) {
    WalChunk old = wal.put(seq, chunk);
    walLiveBytes += chunk.meteredBytes() - (old == null ? 0 : old.meteredBytes());
  }

  /** A read parked until records past {@code request.start_seq_num} are durable, or its timer fires. */
  private static final class Waiter {
    final ReadRequest request;
    final Promise<ReadResponse> response;
    Cancellable timer;

    Waiter(ReadRequest request, Promise<ReadResponse> response) {
      this.request = request;
      this.response = response;
    }
  }

  /** Where an append session stands on this incarnation (see {@link #ordered}). */
  private static final class SessionOrder {
    long nextIndex;
    /** Requests that arrived before a predecessor, by index. */
    final java.util.TreeMap<Long, Runnable> early = new java.util.TreeMap<>();
    boolean poisoned;
    Cancellable gapTimer;
  }

  /** Append sessions known to this incarnation, least recently used first. */
  private final java.util.LinkedHashMap<String, SessionOrder> sessions = new java.util.LinkedHashMap<>();
  static final int SESSIONS_MAX = 65_536;
  private long sessionRequestsHeldEarly;
  static final int SESSION_EARLY_MAX = 1_024;
  /** How long an early request waits for a missing predecessor before the session is refused. */
  static final long SESSION_GAP_TIMEOUT_NANOS = 5_000_000_000L;

  /**
   * A streamlet sequenced speculatively (docs/design.md, "The cop"): the link a source announced,
   * the answers held until the link is read, and the polling of it.
   */
  private static final class Speculation {
    final StreamletRef predicted;
    final long sinceNanos;
    final List<HeldAnswer> answers = new ArrayList<>();
    boolean reading;
    boolean readAgain;
    /** Held past {@link #SPECULATION_HOLD_NANOS}: answers failed as indefinite, new appends refused. */
    boolean gaveUp;
    /** Undecided past {@link #SPECULATION_RETIRE_NANOS}: this channel moved the link before it on itself. */
    boolean retired;
    int polls;
    Cancellable poll;

    Speculation(StreamletRef predicted, long sinceNanos) {
      this.predicted = predicted;
      this.sinceNanos = sinceNanos;
    }
  }

  /** An answer to an append of a speculative streamlet, held until the speculation resolves. */
  private record HeldAnswer(Promise<AppendResponse> response, AppendResponse answer) {}

  /**
   * How long a speculation may stay undecided before the target decides it: it rewrites the link
   * before its streamlet unchanged under the revision the migration's commit is guarded by, so that
   * the commit can never land (if it has not) and the next read decides.
   */
  static final long SPECULATION_RETIRE_NANOS = 4_000_000_000L;
  /** How long a speculative streamlet holds answers before failing them as indefinite (below the frontends' call timeout). */
  static final long SPECULATION_HOLD_NANOS = 8_000_000_000L;
  /** Polls of a speculative streamlet's link: 2 ms doubling to 500 ms (the cop's hint comes first). */
  static final long SPECULATION_POLL_MIN_NANOS = 2_000_000L;
  static final long SPECULATION_POLL_MAX_NANOS = 500_000_000L;

  /** A rejection held back until the state it refers to is durable (S2-API §7.2). */
  private record Held(long untilSeqNum, Promise<AppendResponse> response, AppendResponse answer) {}

  /** An accepted batch waiting for its chunk (and all earlier chunks) to be durable. */
  private record Pending(Streamlet streamlet, AppendStep.Sequenced step, Promise<AppendResponse> response, long meteredBytes) {}

  /** A chunk being written. */
  private static final class InFlight {
    final long seq;
    final ByteString bytes;
    final List<Pending> pending;
    final List<Chunk.Entry> entries;
    final List<java.util.function.Consumer<Boolean>> barriers;
    boolean durable;
    int attempts;

    InFlight(long seq, ByteString bytes, List<Pending> pending, List<Chunk.Entry> entries,
        List<java.util.function.Consumer<Boolean>> barriers) {
      this.seq = seq;
      this.bytes = bytes;
      this.pending = pending;
      this.entries = entries;
      this.barriers = barriers;
    }
  }

  public Channel(Env env, String channelId, ChannelKnobs knobs) {
    this(env, channelId, knobs, PlantedBug.NONE);
  }

  /** A channel with a planted bug: for the simulator's planted-bug runs only. */
  public Channel(Env env, String channelId, ChannelKnobs knobs, PlantedBug bug) {
    this.env = env;
    this.channelId = channelId;
    this.knobs = knobs.conclude();
    this.bug = bug;
    env.network().serve(ChannelRpc.APPEND, this::onAppend);
    env.network().serve(ChannelRpc.READ, this::onRead);
    env.network().serve(ChannelRpc.TAIL, this::onTail);
    env.network().serve(ChannelRpc.MIGRATE, this::onMigrate);
    env.network().serve(ChannelRpc.STATUS, this::onStatus);
    env.network().serve(ChannelRpc.RESOLVE, this::onResolve);
    env.scheduler().execute(() -> takeOver(0));
  }

  public State state() {
    return state;
  }

  public long epoch() {
    return epoch;
  }

  /** Session requests that arrived before a predecessor and waited for it (reordering seen). */
  public long sessionRequestsHeldEarly() {
    return sessionRequestsHeldEarly;
  }

  /** The object key of chunk {@code seq} of channel {@code channelId}. */
  public static ObjectKey chunkKey(String channelId, long seq) {
    return ObjectKey.of(walPrefix(channelId) + String.format(Locale.ROOT, "%020d", seq));
  }

  public static String walPrefix(String channelId) {
    return "wal/" + channelId + "/";
  }

  // ---------------------------------------------------------------- take-over and recovery

  private long backoffMs(int attempt) {
    long max = Math.min(knobs.retryBackoffMaxMs(), knobs.retryBackoffMinMs() << Math.min(attempt, 20));
    return knobs.retryBackoffMinMs() + env.random().nextLong(0, Math.max(1, max - knobs.retryBackoffMinMs() + 1));
  }

  private void later(int attempt, Runnable r) {
    env.scheduler().schedule(backoffMs(attempt) * 1_000_000L, r);
  }

  /** Raises the channel's epoch in metadata (compare-and-set), then recovers. */
  private void takeOver(int attempt) {
    ByteString key = MetaKey.channel(channelId);
    env.metadataStore().get(key).onComplete((current, failure) -> {
      if (failure != null) {
        later(attempt, () -> takeOver(attempt + 1));
        return;
      }
      ChannelMeta old = current.map(kv -> parseChannelMeta(kv.value())).orElse(ChannelMeta.getDefaultInstance());
      ChannelMeta mine = old.toBuilder().setEpoch(old.getEpoch() + 1).setNode(env.node().value()).build();
      Txn.Builder txn = Txn.builder();
      if (current.isPresent()) {
        txn.ifRevision(key, current.get().modRevision());
      } else {
        txn.ifAbsent(key);
      }
      env.metadataStore().commit(txn.put(key, mine.toByteString()).build()).onComplete((result, commitFailure) -> {
        if (commitFailure != null) {
          // Indefinite or not: read again; if our value is there, it is ours.
          confirmEpoch(mine, attempt);
        } else if (result instanceof TxnResult.Committed) {
          epoch = mine.getEpoch();
          firstLiveChunk = mine.getFirstLiveChunk();
          recover(mine.getFirstLiveChunk(), 0);
        } else {
          later(attempt, () -> takeOver(attempt + 1));
        }
      });
    });
  }

  private void confirmEpoch(ChannelMeta mine, int attempt) {
    env.metadataStore().get(MetaKey.channel(channelId)).onComplete((current, failure) -> {
      if (failure != null) {
        later(attempt, () -> confirmEpoch(mine, attempt + 1));
      } else if (current.isPresent() && parseChannelMeta(current.get().value()).equals(mine)) {
        epoch = mine.getEpoch();
        firstLiveChunk = mine.getFirstLiveChunk();
        recover(mine.getFirstLiveChunk(), 0);
      } else {
        later(attempt, () -> takeOver(attempt + 1));
      }
    });
  }

  private static ChannelMeta parseChannelMeta(ByteString bytes) {
    try {
      return ChannelMeta.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt channel metadata: " + e.getMessage());
    }
  }

  /** Lists the WAL from chunk {@code from} and replays the chain; then fences. */
  private void recover(long from, int attempt) {
    TreeMap<Long, ObjectKey> found = new TreeMap<>();
    listFrom(from == 0 ? null : chunkKey(channelId, from - 1), found, attempt, () -> replay(from, found, attempt));
  }

  /**
   * The chunk number a WAL key ends with, or -1 for a key that is not a chunk: the WAL prefix may
   * hold other objects (s3proxy, the test endpoint, lists its in-flight {@code <key>-<uuid>} temp
   * files while another writer puts a chunk), which recovery and collection leave alone.
   */
  static long chunkSeqOf(String suffix) {
    if (suffix.isEmpty() || suffix.length() > 20) {
      return -1;
    }
    for (int i = 0; i < suffix.length(); i++) {
      if (suffix.charAt(i) < '0' || suffix.charAt(i) > '9') {
        return -1;
      }
    }
    try {
      return Long.parseLong(suffix);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void listFrom(ObjectKey after, TreeMap<Long, ObjectKey> found, int attempt, Runnable done) {
    String prefix = walPrefix(channelId);
    env.objectStore().list(prefix, after, 1000).onComplete((page, failure) -> {
      if (failure != null) {
        later(attempt, () -> listFrom(after, found, attempt + 1, done));
        return;
      }
      for (ObjectSummary o : page.objects()) {
        long seq = chunkSeqOf(o.key().value().substring(prefix.length()));
        if (seq >= 0) {
          found.put(seq, o.key());
        }
      }
      if (page.truncated()) {
        listFrom(page.objects().get(page.objects().size() - 1).key(), found, attempt, done);
      } else {
        done.run();
      }
    });
  }

  /** Replays chunks {@code seq}, {@code seq+1}, … while they exist; then fences at the first gap. */
  private void replay(long seq, TreeMap<Long, ObjectKey> found, int attempt) {
    if (!found.containsKey(seq)) {
      if (bug == PlantedBug.NO_FENCE) {
        startServing(seq);
        return;
      }
      fence(seq, 0);
      return;
    }
    env.objectStore().get(found.get(seq)).onComplete((result, failure) -> {
      if (failure != null) {
        later(attempt, () -> replay(seq, found, attempt + 1));
        return;
      }
      if (!(result instanceof GetResult.Found f)) {
        // Listed but gone: only a later incarnation's garbage collection deletes chunks, so one
        // took over while this one was still replaying. Stand down.
        standDown(seq);
        return;
      }
      Chunk.Contents contents = parseChunk(f.data(), seq);
      if (contents.origin().writerEpoch() > epoch) {
        // A later incarnation already took over while this one was starting: stand down.
        standDown(seq);
        return;
      }
      replay(applyRecovered(contents, seq == found.lastKey()), found, 0);
    });
  }

  /** A later incarnation took the channel over before this one started serving. */
  private void standDown(long seq) {
    state = State.FENCED;
    fencedAtChunk = seq;
  }

  private Chunk.Contents parseChunk(ByteString bytes, long seq) {
    try {
      Chunk.Contents c = Chunk.parse(bytes);
      Invariants.check(c.origin().chunkSeqNum() == seq && c.origin().channelId().equals(channelId),
          "chunk %d of %s names itself %s", seq, channelId, c.origin());
      return c;
    } catch (CorruptData e) {
      throw new Invariants.InvariantViolation("corrupt chunk " + seq + " of " + channelId + ": " + e.getMessage());
    }
  }

  /** Applies a recovered chunk; returns the next chunk number of the chain. */
  private long applyRecovered(Chunk.Contents contents, boolean newest) {
    Chunk.Origin origin = contents.origin();
    Invariants.check(origin.writerEpoch() < epoch, "recovered chunk %s of my own epoch %d before I wrote any", origin, epoch);
    if (origin.voidThroughChunkSeqNum() > 0) {
      Invariants.check(contents.entries().isEmpty(), "fence chunk with entries: %s", origin);
      walPut(origin.chunkSeqNum(), WalChunk.of(origin.voidThroughChunkSeqNum() + 1, List.of()));
      return origin.voidThroughChunkSeqNum() + 1;
    }
    walPut(origin.chunkSeqNum(), WalChunk.of(origin.chunkSeqNum() + 1, contents.entries()));
    for (Chunk.Entry e : contents.entries()) {
      if (bug == PlantedBug.SEQ_REUSE_AFTER_FAILOVER && newest) {
        continue;
      }
      Streamlet s = streamlets.get(e.streamletId());
      StreamPosition tail = new StreamPosition(e.nextSeqNum(), bug == PlantedBug.TIMESTAMP_BACKWARDS ? 0 : e.lastTimestamp());
      String token = e.fencingToken() != null ? e.fencingToken() : (s == null ? "" : s.pending.fencingToken());
      long trim = e.trimPoint() != null ? e.trimPoint() : (s == null ? 0 : s.pending.trimPoint());
      if (s == null) {
        s = new Streamlet(e.streamletId(), new StreamState(tail, token, trim));
        s.startSeq = e.firstSeqNum();
        streamlets.put(s.id, s);
      } else {
        Invariants.check(s.durableTail.seqNum() == e.firstSeqNum(),
            "streamlet %d: WAL entry starts at %d but the tail is %d", s.id, e.firstSeqNum(), s.durableTail.seqNum());
        s.pending = new StreamState(tail, token, trim);
        s.durableTail = tail;
      }
      s.durableToken = token;
      s.durableTrim = trim;
      if (e.terminal()) {
        s.deleting = true;
        s.deletedDurable = true;
      }
      retain(s, e.records());
    }
    return origin.chunkSeqNum() + 1;
  }

  /** Claims chunk {@code seq} with a fence voiding the numbers an older writer could still use. */
  private void fence(long seq, int attempt) {
    long voidThrough = seq + ChannelKnobs.CHUNKS_IN_FLIGHT_MAX_EVER - 1;
    ByteString bytes = new ChunkBuilder(channelId, epoch, seq, voidThrough).build().bytes();
    ObjectKey key = chunkKey(channelId, seq);
    env.objectStore().put(key, bytes, PutCondition.IF_ABSENT).onComplete((result, failure) -> {
      if (failure != null) {
        later(attempt, () -> fence(seq, attempt + 1));
      } else if (result instanceof PutResult.Written) {
        fenceLanded(seq, voidThrough, 0);
      } else {
        whoseChunk(key, seq, attempt, owner -> {
          if (owner == Owner.MINE) {
            fenceLanded(seq, voidThrough, 0);
          } else if (state != State.FENCED) {
            // Another writer's chunk landed at the gap meanwhile: keep replaying from it.
            TreeMap<Long, ObjectKey> found = new TreeMap<>();
            found.put(seq, key);
            listFrom(key, found, 0, () -> replay(seq, found, 0));
          }
        });
      }
    });
  }

  /**
   * The fence is in place; serve if this incarnation still holds the epoch. The check matters when
   * recovery was slow: a later incarnation may have taken over and garbage-collected the chunk
   * numbers this one replayed, so that its fence landed on a freed number outside the live chain.
   * Once the epoch is confirmed, no older incarnation can collect anything any more (its
   * compare-and-set on the channel's metadata fails), and a newer one will find this fence.
   */
  private void fenceLanded(long seq, long voidThrough, int attempt) {
    if (bug == PlantedBug.FENCE_WITHOUT_EPOCH_CHECK) {
      walPut(seq, WalChunk.of(voidThrough + 1, List.of()));
      startServing(voidThrough + 1);
      return;
    }
    env.metadataStore().get(MetaKey.channel(channelId)).onComplete((current, failure) -> {
      if (failure != null) {
        later(attempt, () -> fenceLanded(seq, voidThrough, attempt + 1));
      } else if (current.isPresent() && parseChannelMeta(current.get().value()).getEpoch() == epoch) {
        walPut(seq, WalChunk.of(voidThrough + 1, List.of()));
        startServing(voidThrough + 1);
      } else {
        standDown(seq);
      }
    });
  }

  /** Who holds a chunk number whose create was refused. */
  private enum Owner {
    /** This incarnation: an earlier attempt landed. */
    MINE,
    /** Another writer: this incarnation is fenced. */
    OTHER,
    /**
     * Nobody any more: a later incarnation recovered the chunk and garbage-collected it (this one
     * never deletes a chunk it has not released), so this one is superseded — and cannot tell
     * whether the chunk was its own, so its batches may or may not be in the stream.
     */
    GONE
  }

  /** Reads chunk {@code seq} and tells who wrote it. */
  private void whoseChunk(ObjectKey key, long seq, int attempt, java.util.function.Consumer<Owner> then) {
    env.objectStore().get(key).onComplete((result, failure) -> {
      if (failure != null) {
        later(attempt, () -> whoseChunk(key, seq, attempt + 1, then));
      } else if (result instanceof GetResult.Found f) {
        then.accept(parseChunk(f.data(), seq).origin().writerEpoch() == epoch ? Owner.MINE : Owner.OTHER);
      } else {
        then.accept(Owner.GONE);
      }
    });
  }

  private void startServing(long firstChunk) {
    nextChunkSeq = firstChunk;
    state = State.SERVING;
    scheduleSegmentTimer();
  }

  private void scheduleSegmentTimer() {
    env.scheduler().schedule(knobs.segmentIntervalMs() * 1_000_000L, () -> {
      if (state != State.SERVING) {
        return;
      }
      // Due: a deleted or sealed streamlet (nothing more will come; bgtask waits for its head), one
      // whose oldest unsegmented record is segmentAgeMaxMs old, or one that pins the oldest live
      // chunks beyond walLiveBytesMax. Streamlets reaching segmentBytesMin are queued on release.
      long now = env.clock().nowNanos();
      long ageNanos = knobs.segmentAgeMaxMs() * 1_000_000L;
      java.util.TreeSet<Long> pinning = pinningWal();
      for (Streamlet s : streamlets.values()) {
        if (s.durableTail.seqNum() > s.segmentedUpTo
            && (s.deletedDurable || s.sealedAt != null || now - s.unsegmentedSinceNanos >= ageNanos || pinning.contains(s.id))) {
          queueSegment(s);
        }
      }
      collectWal();
      scheduleSegmentTimer();
    });
  }

  // ---------------------------------------------------------------- appends

  /**
   * Runs {@code then} with the streamlet's state. A streamlet this incarnation has not seen (no
   * batch of it in the live log) resumes from its segment head in metadata — where its earlier
   * chunks went once garbage-collected — or, if it has none, from where the frontend says it starts.
   * Requests arriving meanwhile wait, in order.
   */
  private void withStreamlet(StreamletRef ref, java.util.function.Consumer<Streamlet> then) {
    long id = ref.getStreamletId();
    Streamlet known = streamlets.get(id);
    boolean usable = known != null && (known.linkChecked || ref.getStreamId() == 0
        // A speculative append goes on while the link is unproven (its answer is held); the
        // streamlet's state must be loaded first, and a recovered one starts a speculation too.
        || (ref.getSpeculative() && known.spec != null && !loading.containsKey(id)));
    if (usable) {
      if (ref.hasConfig()) { // the cop's migration requests carry none: they append nothing
        known.config = ConfigProtos.resolvedFromProto(ref.getConfig());
        known.cipher = ref.getCipher() == StreamCipherProto.STREAM_CIPHER_UNSPECIFIED ? null : ConfigProtos.fromProto(ref.getCipher());
      }
      then.accept(known);
      return;
    }
    List<Runnable> waiting = loading.get(id);
    boolean first = waiting == null;
    if (first) {
      waiting = new ArrayList<>();
      loading.put(id, waiting);
    }
    waiting.add(() -> withStreamlet(ref, then));
    if (first) {
      loadStreamlet(ref, 0);
    }
  }

  private void loadStreamlet(StreamletRef ref, int attempt) {
    long id = ref.getStreamletId();
    if (streamlets.containsKey(id)) {
      checkLink(ref, attempt);
      return;
    }
    env.metadataStore().get(MetaKey.segmentHead(id)).onComplete((head, failure) -> {
      if (failure != null) {
        later(attempt, () -> loadStreamlet(ref, attempt + 1));
        return;
      }
      if (!streamlets.containsKey(id)) {
        Streamlet s;
        if (head.isPresent()) {
          SegmentHeadMeta h = parseHeadMeta(head.get().value());
          s = new Streamlet(id, new StreamState(new StreamPosition(h.getNextSeqNum(), h.getTailTimestamp()),
              h.getFencingToken(), h.getTrimPoint()));
          s.segmentedUpTo = h.getNextSeqNum();
          s.headRevision = head.get().modRevision();
          s.headNext = h.getNextSeqNum();
          // A tombstone: the stream was deleted (its terminal trim is below next_seq_num).
          s.deleting = h.getDeleted();
          s.deletedDurable = h.getDeleted();
        } else {
          s = new Streamlet(id, new StreamState(ChannelRpc.fromProto(ref.getStart()), ref.getStartFencingToken(),
              ref.getStartTrimPoint()));
          s.startSeq = ref.getStart().getSeqNum();
          s.segmentedUpTo = s.startSeq;
          s.headRevision = 0;
          s.headNext = s.startSeq;
        }
        streamlets.put(id, s);
      }
      checkLink(ref, 0);
    });
  }

  /**
   * Reads the streamlet's chain link once per incarnation: a link with an end was sealed by a
   * migration (perhaps by an earlier incarnation), and this one must refuse its appends too.
   */
  private void checkLink(StreamletRef ref, int attempt) {
    long id = ref.getStreamletId();
    Streamlet s = streamlets.get(id);
    if (ref.getStreamId() == 0 || s.linkChecked) {
      runLoaded(id);
      return;
    }
    if (s.spec == null && ref.getSpeculative()) {
      // Announced by a migration's source and not yet proven by this incarnation (new, recovered
      // from the log, or resumed from a segment head): sequence, but hold every answer.
      s.spec = new Speculation(ref, env.clock().nowNanos());
      resolveSpeculation(s);
      runLoaded(id);
      return;
    }
    if (s.spec != null) {
      // A request from the chain (a read, a tail, a non-speculative append) waits for the proof.
      resolveSpeculation(s);
      return;
    }
    env.metadataStore().get(MetaKey.streamlet(ref.getStreamId(), ref.getIndex())).onComplete((link, failure) -> {
      if (failure != null) {
        later(attempt, () -> checkLink(ref, attempt + 1));
        return;
      }
      if (!s.linkChecked) {
        s.linkChecked = true;
        if (link.isPresent()) {
          io.s2j.metadata.proto.StreamletMeta meta = parseLink(link.get().value());
          Invariants.check(meta.getStreamletId() == id, "link %d/%d names streamlet %d, not %d",
              ref.getStreamId(), ref.getIndex(), meta.getStreamletId(), id);
          if (meta.hasEndSeqNum()) {
            Invariants.check(s.pending.tail().seqNum() <= meta.getEndSeqNum(),
                "streamlet %d is sealed at %d but this channel holds it up to %d", id, meta.getEndSeqNum(), s.pending.tail().seqNum());
            s.sealedAt = meta.getEndSeqNum();
          }
        }
      }
      runLoaded(id);
    });
  }

  private void runLoaded(long id) {
    List<Runnable> waiting = loading.remove(id);
    if (waiting != null) {
      waiting.forEach(Runnable::run);
    }
  }

  private static io.s2j.metadata.proto.StreamletMeta parseLink(ByteString bytes) {
    try {
      return io.s2j.metadata.proto.StreamletMeta.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt streamlet link: " + e.getMessage());
    }
  }

  static AppendResponse ackResponse(io.s2j.api.AppendAck ack) {
    return AppendResponse.newBuilder().setAck(io.s2j.channel.proto.AppendAckProto.newBuilder()
        .setStart(ChannelRpc.toProto(ack.start())).setEnd(ChannelRpc.toProto(ack.end()))
        .setTail(ChannelRpc.toProto(ack.tail()))).build();
  }

  static AppendResponse error(ErrorCode code, String message, boolean indefinite) {
    return AppendResponse.newBuilder().setError(errorProto(code, message, indefinite)).build();
  }

  static ErrorProto errorProto(ErrorCode code, String message, boolean indefinite) {
    return ErrorProto.newBuilder().setCode(code.name()).setMessage(message).setIndefinite(indefinite).build();
  }

  private Promise<AppendResponse> onAppend(NodeId caller, AppendRequest request) {
    Promise<AppendResponse> response = env.promise();
    if (foreign(request.getStreamlet())) {
      response.complete(error(ErrorCode.UNAVAILABLE, "this host serves " + channelId, false));
      return response;
    }
    if (request.hasSession()) {
      ordered(request, response);
    } else {
      append(request, response, null);
    }
    return response;
  }

  /**
   * Runs an append session's requests in index order. The network does not order calls, so a
   * request that arrives early waits (bounded in number and time) for its predecessors; after the
   * session's first refusal every later request is refused too, so a session's batches are applied
   * in order with no gap. Sessions are known to one incarnation only: after a take-over, or once
   * evicted by the {@link #SESSIONS_MAX} bound, a session's next request waits for predecessors
   * that never come and is refused after {@link #SESSION_GAP_TIMEOUT_NANOS}; the client opens a
   * new session.
   */
  private void ordered(AppendRequest request, Promise<AppendResponse> response) {
    if (bug == PlantedBug.SESSION_UNORDERED) {
      append(request, response, null);
      return;
    }
    String id = request.getSession().getId();
    long index = request.getSession().getIndex();
    SessionOrder known = sessions.remove(id);
    if (known == null) {
      // A first sight of index k > 0 is either reordering at the session's start or a session this
      // incarnation never saw (a take-over, an eviction); the gap timeout settles the second case.
      if (sessions.size() >= SESSIONS_MAX) {
        // The least recently used session goes; its next request is refused, never misordered.
        sessions.pollFirstEntry();
      }
      known = new SessionOrder();
    }
    SessionOrder order = known;
    sessions.put(id, order); // re-inserted last: the map runs from least to most recently used
    if (order.poisoned) {
      response.complete(sessionRefused(id));
      return;
    }
    if (index < order.nextIndex) {
      // Calls are delivered at most once, so this is a frontend bug; refuse rather than reapply.
      order.poisoned = true;
      response.complete(error(ErrorCode.INVALID, "append session " + id + " repeated index " + index, false));
      return;
    }
    if (index > order.nextIndex) {
      if (order.early.size() >= SESSION_EARLY_MAX) {
        poisonSession(order);
        response.complete(sessionRefused(id));
        return;
      }
      order.early.put(index, () -> append(request, response, order));
      sessionRequestsHeldEarly++;
      if (order.gapTimer == null) {
        order.gapTimer = env.scheduler().schedule(SESSION_GAP_TIMEOUT_NANOS, () -> {
          order.gapTimer = null;
          if (!order.early.isEmpty()) {
            poisonSession(order);
          }
        });
      }
      return;
    }
    order.nextIndex++;
    append(request, response, order);
    while (!order.early.isEmpty() && order.early.firstKey() == order.nextIndex) {
      order.nextIndex++;
      order.early.pollFirstEntry().getValue().run();
    }
    if (order.early.isEmpty() && order.gapTimer != null) {
      order.gapTimer.cancel();
      order.gapTimer = null;
    }
  }

  /** Refuses every request waiting for a predecessor (they were not applied) and all later ones. */
  private void poisonSession(SessionOrder order) {
    order.poisoned = true;
    if (order.gapTimer != null) {
      order.gapTimer.cancel();
      order.gapTimer = null;
    }
    // Each early entry runs append(), which sees the poison and refuses definitely.
    while (!order.early.isEmpty()) {
      order.early.pollFirstEntry().getValue().run();
    }
  }

  private static AppendResponse sessionRefused(String id) {
    return error(ErrorCode.INVALID, "append session " + id + " " + ChannelRpc.SESSION_REFUSED, false);
  }

  /** Completes {@code response} with a refusal; a refusal ends the request's session. */
  private static void refuse(SessionOrder order, Promise<AppendResponse> response, AppendResponse answer) {
    if (order != null) {
      order.poisoned = true;
    }
    response.complete(answer);
  }

  private void append(AppendRequest request, Promise<AppendResponse> response, SessionOrder order) {
    if (order != null && order.poisoned) {
      response.complete(sessionRefused(request.getSession().getId()));
      return;
    }
    if (state != State.SERVING) {
      refuse(order, response, error(ErrorCode.UNAVAILABLE, "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false));
      return;
    }
    List<AppendRecord> records = new ArrayList<>(request.getRecordsCount());
    for (AppendRecordProto r : request.getRecordsList()) {
      records.add(ChannelRpc.fromProto(r));
    }
    if (request.getTerminalTrim() && !isTerminalTrim(records)) {
      refuse(order, response, error(ErrorCode.INVALID, "a terminal trim is one trim command to u64::MAX", false));
      return;
    }
    AppendBatch batch;
    boolean sealed = request.getStreamlet().getCipher() != StreamCipherProto.STREAM_CIPHER_UNSPECIFIED;
    switch (sealed ? AppendBatch.validateSealed(records) : AppendBatch.validate(records)) {
      case Checked.Ok<AppendBatch> ok -> batch = ok.value();
      case Checked.Invalid<AppendBatch> invalid -> {
        refuse(order, response, error(ErrorCode.INVALID, invalid.message(), false));
        return;
      }
    }
    if (pendingBytes + batch.meteredBytes() > knobs.pendingBytesMax() || unsegmentedBytes > knobs.unsegmentedBytesMax()) {
      refuse(order, response, error(ErrorCode.RATE_LIMITED, "channel " + channelId + " has too many bytes in flight", false));
      return;
    }
    AppendInput input = new AppendInput(batch,
        request.hasMatchSeqNum() ? request.getMatchSeqNum() : null,
        request.hasFencingToken() ? request.getFencingToken() : null);
    long meteredBytes = batch.meteredBytes();
    withStreamlet(request.getStreamlet(), s -> {
      if (order != null && order.poisoned) {
        // An earlier request of the session was refused while this one waited for the streamlet.
        response.complete(sessionRefused(request.getSession().getId()));
        return;
      }
      if (state != State.SERVING) {
        refuse(order, response, error(ErrorCode.UNAVAILABLE, "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false));
        return;
      }
      if (s.deleting) {
        // S2-API §12.2: from the terminal trim on, every append fails (case 163).
        refuse(order, response, error(ErrorCode.STREAM_DELETION_PENDING, "stream is being deleted", false));
        return;
      }
      if (s.sealing || s.sealedAt != null) {
        refuse(order, response, sealedError(s));
        return;
      }
      if (s.discarded || (s.spec != null && (s.spec.gaveUp || !samePrediction(s.spec.predicted, request.getStreamlet())))) {
        // Nothing applied: the frontend reads the chain again.
        refuse(order, response, speculationRefused(s));
        return;
      }
      AppendInput checked = input;
      if (bug == PlantedBug.SKIP_FENCING_CHECK) {
        checked = new AppendInput(input.batch(), input.matchSeqNum(), null);
      }
      if (bug == PlantedBug.MATCH_AGAINST_DURABLE_TAIL && input.matchSeqNum() != null) {
        if (input.matchSeqNum() != s.durableTail.seqNum()) {
          refuse(order, response, AppendResponse.newBuilder().setSeqNumMismatch(s.durableTail.seqNum()).build());
          return;
        }
        checked = new AppendInput(checked.batch(), null, checked.fencingToken());
      }
      AppendStep step = s.pending.append(checked, s.config, s.cipher, env.clock().wallMillis());
      if (!(step instanceof AppendStep.Sequenced) && order != null) {
        order.poisoned = true;
      }
      switch (step) {
        case AppendStep.Sequenced sequenced -> accept(s, sequenced, response, meteredBytes, request.getTerminalTrim());
        case AppendResult.SeqNumMismatch m -> hold(s, response, AppendResponse.newBuilder().setSeqNumMismatch(m.nextSeqNum()).build());
        case AppendResult.FencingTokenMismatch f ->
            hold(s, response, AppendResponse.newBuilder().setFencingTokenMismatch(f.currentToken()).build());
        case AppendResult.SeqNumLimitExceeded x -> hold(s, response, error(ErrorCode.INVALID, x.toError().message(), false));
        case AppendResult.Failed f -> response.complete(error(f.error().code(), f.error().message(), false));
      }
    });
  }

  private void hold(Streamlet s, Promise<AppendResponse> response, AppendResponse answer) {
    if (s.batchesNotDurable == 0) {
      answer(s, response, answer);
    } else {
      s.held.addLast(new Held(s.pending.tail().seqNum(), response, answer));
    }
  }

  private void openChunk() {
    if (current != null) {
      return;
    }
    current = new ChunkBuilder(channelId, epoch, nextChunkSeq++, 0);
    Invariants.check(flushTimer == null, "flush timer without a chunk");
    flushTimer = env.scheduler().schedule(knobs.flushIntervalMs() * 1_000_000L, () -> {
      flushTimer = null;
      flushDue = true;
      tryFlush();
    });
  }

  /**
   * Runs {@code then(true)} once the open chunk (written even if empty) and every earlier one are
   * durable — proof that no other incarnation had taken the log over before that instant, which
   * is what makes a read of the tail linearizable; {@code then(false)} if this incarnation is
   * fenced first.
   */
  private void barrier(java.util.function.Consumer<Boolean> then) {
    if (bug == PlantedBug.READ_WITHOUT_BARRIER) {
      then.accept(true);
      return;
    }
    openChunk();
    currentBarriers.add(then);
    flushDue = true;
    tryFlush();
  }

  private void accept(Streamlet s, AppendStep.Sequenced step, Promise<AppendResponse> responseToClient, long meteredBytes,
      boolean terminal) {
    Promise<AppendResponse> response = responseToClient;
    openChunk();
    StreamState next = step.next();
    Chunk.Entry entry = new Chunk.Entry(s.id, step.records(), next.fencingToken(), next.trimPoint(), terminal);
    if (terminal) {
      s.deleting = true;
    }
    current.add(entry);
    currentEntries.add(entry);
    if (bug == PlantedBug.ACK_BEFORE_CHUNK_DURABLE) {
      io.s2j.api.AppendAck early = step.ack(next.tail());
      response.complete(ackResponse(early));
      response = env.promise(); // the release later completes nobody's promise
    }
    currentPending.add(new Pending(s, step, response, meteredBytes));
    s.pending = next;
    s.batchesNotDurable++;
    pendingBytes += meteredBytes;
    tryFlush();
  }

  private void tryFlush() {
    if (current == null || state != State.SERVING || inFlight.size() >= knobs.chunksInFlightMax()) {
      return;
    }
    boolean full = current.sizeBytes() >= knobs.chunkBytesMax();
    boolean idle = knobs.flushWhenIdle() && inFlight.isEmpty();
    if (!(full || idle || flushDue)) {
      return;
    }
    if (flushTimer != null) {
      flushTimer.cancel();
      flushTimer = null;
    }
    flushDue = false;
    InFlight chunk = new InFlight(current.origin().chunkSeqNum(), current.build().bytes(), currentPending, currentEntries,
        currentBarriers);
    current = null;
    currentPending = new ArrayList<>();
    currentEntries = new ArrayList<>();
    currentBarriers = new ArrayList<>();
    inFlight.addLast(chunk);
    write(chunk);
  }

  private void write(InFlight chunk) {
    chunk.attempts++;
    ObjectKey key = chunkKey(channelId, chunk.seq);
    env.objectStore().put(key, chunk.bytes, PutCondition.IF_ABSENT).onComplete((result, failure) -> {
      if (chunk.seq >= fencedAtChunk) {
        return;
      }
      if (failure != null) {
        // Definite or not, the retry is the same create of the same bytes: if the first attempt
        // landed, the retry is refused and the object tells whose it is.
        later(chunk.attempts, () -> write(chunk));
      } else if (result instanceof PutResult.Written || bug == PlantedBug.TRUST_REFUSED_CREATE) {
        durable(chunk);
      } else {
        whoseChunk(key, chunk.seq, 0, owner -> {
          if (chunk.seq >= fencedAtChunk) {
            return;
          }
          switch (owner) {
            case MINE -> durable(chunk);
            case OTHER -> fenced(chunk.seq, true);
            case GONE -> fenced(chunk.seq, false);
          }
        });
      }
    });
  }

  private void durable(InFlight chunk) {
    chunk.durable = true;
    if (bug == PlantedBug.ACK_OUT_OF_ORDER && inFlight.remove(chunk)) {
      release(chunk);
      tryFlush();
      return;
    }
    while (!inFlight.isEmpty() && inFlight.peekFirst().durable && inFlight.peekFirst().seq < fencedAtChunk) {
      release(inFlight.pollFirst());
    }
    tryFlush();
  }

  /** Makes a durable chunk's batches visible, then acknowledges them (S2-API §7.6: tail after the chunk). */
  private void release(InFlight chunk) {
    walPut(chunk.seq, WalChunk.of(chunk.seq + 1, chunk.entries));
    List<Streamlet> touched = new ArrayList<>();
    for (Chunk.Entry e : chunk.entries) {
      Streamlet s = streamlets.get(e.streamletId());
      Invariants.check(s.durableTail.seqNum() == e.firstSeqNum(), "streamlet %d: durable tail %d, entry at %d",
          s.id, s.durableTail.seqNum(), e.firstSeqNum());
      s.durableTail = new StreamPosition(e.nextSeqNum(), e.lastTimestamp());
      if (e.fencingToken() != null) {
        s.durableToken = e.fencingToken();
      }
      if (e.trimPoint() != null) {
        s.durableTrim = e.trimPoint();
      }
      if (e.terminal()) {
        s.deletedDurable = true;
      }
      s.batchesNotDurable--;
      retain(s, e.records());
      touched.add(s);
    }
    for (Pending p : chunk.pending) {
      appendedBytes += p.meteredBytes();
      pendingBytes -= p.meteredBytes();
      io.s2j.api.AppendAck ack = p.step().ack(p.streamlet().durableTail);
      answer(p.streamlet(), p.response(), ackResponse(ack));
    }
    for (Streamlet s : touched) {
      if (s.discarded) {
        segmented(s, s.durableTail.seqNum()); // garbage: nothing to segment, the log may be collected
      }
      while (!s.held.isEmpty() && s.held.peekFirst().untilSeqNum() <= s.durableTail.seqNum()) {
        Held h = s.held.pollFirst();
        answer(s, h.response(), h.answer());
      }
      wakeWaiters(s);
      if (s.unsegmentedBytes >= knobs.segmentBytesMin()) {
        queueSegment(s);
      }
    }
    chunk.barriers.forEach(b -> b.accept(true));
  }

  /**
   * This incarnation is fenced at chunk {@code seq}. When another writer holds that number ({@code
   * certain}), chunks from {@code seq} on are void or were never written, so their batches certainly
   * did not happen; when the chunk is gone instead, they may have (an indefinite failure). Batches
   * never sent certainly did not happen. Earlier chunks are in the chain and complete normally.
   */
  private void fenced(long seq, boolean certain) {
    if (seq >= fencedAtChunk) {
      return;
    }
    fencedAtChunk = seq;
    state = State.FENCED;
    AppendResponse gone = error(ErrorCode.UNAVAILABLE, "channel " + channelId + " was taken over", false);
    AppendResponse unknown = error(ErrorCode.UNAVAILABLE,
        "channel " + channelId + " was taken over; the append may have been applied", true);
    for (Iterator<InFlight> it = inFlight.descendingIterator(); it.hasNext(); ) {
      InFlight chunk = it.next();
      if (chunk.seq < seq) {
        break;
      }
      it.remove();
      if (bug == PlantedBug.ZOMBIE_ACKS) {
        chunk.pending.forEach(p -> {
          io.s2j.api.AppendAck zombie = p.step().ack(p.step().next().tail());
          p.response().complete(ackResponse(zombie));
        });
        chunk.barriers.forEach(b -> b.accept(false));
        continue;
      }
      chunk.pending.forEach(p -> p.response().complete(certain ? gone : unknown));
      chunk.barriers.forEach(b -> b.accept(false));
    }
    currentPending.forEach(p -> p.response().complete(gone));
    currentBarriers.forEach(b -> b.accept(false));
    currentPending = new ArrayList<>();
    currentEntries = new ArrayList<>();
    currentBarriers = new ArrayList<>();
    current = null;
    if (flushTimer != null) {
      flushTimer.cancel();
      flushTimer = null;
    }
    for (Streamlet s : streamlets.values()) {
      while (!s.held.isEmpty()) {
        s.held.pollFirst().response().complete(gone);
      }
      if (s.spec != null) {
        // Durable batches of an unproven streamlet: the next incarnation may prove it, or not.
        s.spec.answers.forEach(a -> a.response().complete(a.answer().hasAck() ? unknown : gone));
        s.spec.answers.clear();
        if (s.spec.poll != null) {
          s.spec.poll.cancel();
        }
      }
      while (!s.waiters.isEmpty()) {
        Waiter w = s.waiters.pollFirst();
        w.timer.cancel();
        w.response.complete(readUnavailable());
      }
    }
  }

  private ReadResponse readUnavailable() {
    return ReadResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE,
        "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false)).build();
  }

  // ---------------------------------------------------------------- reads

  private void retain(Streamlet s, List<SequencedRecord> records) {
    for (SequencedRecord r : records) {
      s.retained.addLast(r);
      if (r.seqNum() < s.segmentedUpTo) {
        segmentedHeldBytes += r.meteredBytes();
        markEvictable(s);
      } else {
        if (s.unsegmentedBytes == 0) {
          s.unsegmentedSinceNanos = env.clock().nowNanos();
        }
        unsegmentedBytes += r.meteredBytes();
        s.unsegmentedBytes += r.meteredBytes();
      }
    }
    evict();
  }

  /** Records {@code [s.segmentedUpTo, upTo)} are now in segments. */
  private void segmented(Streamlet s, long upTo) {
    if (upTo <= s.segmentedUpTo) {
      return;
    }
    for (Iterator<SequencedRecord> it = s.retained.from(s.segmentedUpTo); it.hasNext(); ) {
      SequencedRecord r = it.next();
      if (r.seqNum() >= upTo) {
        break;
      }
      if (r.seqNum() >= s.segmentedUpTo) {
        unsegmentedBytes -= r.meteredBytes();
        s.unsegmentedBytes -= r.meteredBytes();
        segmentedHeldBytes += r.meteredBytes();
      }
    }
    s.segmentedUpTo = upTo;
    markEvictable(s);
    if (s.unsegmentedBytes > 0) {
      s.unsegmentedSinceNanos = env.clock().nowNanos(); // they became durable while the segment was written
    }
    evict();
  }

  /** Drops the oldest records that are in segments while more than the knob's worth are held. */
  private void evict() {
    // Not a scan of every streamlet per call: with 10,000 streamlets over the bound, that was
    // 10,000 steps per durable batch.
    while (segmentedHeldBytes > knobs.retainedBytesMax() && !evictable.isEmpty()) {
      Streamlet s = evictable.peekFirst();
      while (segmentedHeldBytes > knobs.retainedBytesMax() && !s.retained.isEmpty()
          && s.retained.peekFirst().seqNum() < s.segmentedUpTo) {
        segmentedHeldBytes -= s.retained.pollFirst().meteredBytes();
      }
      if (s.retained.isEmpty() || s.retained.peekFirst().seqNum() >= s.segmentedUpTo) {
        evictable.pollFirst();
        s.evictableQueued = false;
      }
    }
  }

  private void markEvictable(Streamlet s) {
    if (!s.evictableQueued) {
      s.evictableQueued = true;
      evictable.addLast(s);
    }
  }

  // ---------------------------------------------------------------- segments

  /** The object key of a segment of {@code streamletId} holding {@code [first, end)}: content is fixed by the key. */
  public static ObjectKey segmentKey(long streamletId, long first, long end) {
    return ObjectKey.of(String.format(Locale.ROOT, "seg/%d/%020d-%020d", streamletId, first, end));
  }

  /**
   * Queues a segment of the streamlet's durable records (unless one is queued or being written);
   * at most {@code segmentWritesInFlightMax} are written at once, so that a round of many small
   * segments is spread between appends instead of running ahead of them.
   */
  private void queueSegment(Streamlet s) {
    if (s.segmentWriting || s.segmentQueued) {
      return;
    }
    s.segmentQueued = true;
    segmentQueue.addLast(s);
    pumpSegments();
  }

  private void pumpSegments() {
    while (segmentsInFlight < knobs.segmentWritesInFlightMax() && !segmentQueue.isEmpty()) {
      Streamlet s = segmentQueue.pollFirst();
      s.segmentQueued = false;
      if (!s.segmentWriting && s.durableTail.seqNum() > s.segmentedUpTo && writeSegment(s)) {
        segmentsInFlight++;
      }
    }
  }

  /** A segment write of {@code s} ended (committed or not). */
  private void segmentDone(Streamlet s) {
    s.segmentWriting = false;
    segmentsInFlight--;
    pumpSegments();
    commitSegments();
  }

  /**
   * Writes the streamlet's durable records past its segment head as one segment, then records it
   * in metadata with a compare-and-set of the head, so that segments never overlap whichever
   * incarnation writes them. The head is read only when this incarnation does not know its revision
   * (first segment, or after a refused or failed commit). Any failure just leaves the records held
   * for a later attempt. Returns whether a write started.
   */
  private boolean writeSegment(Streamlet s) {
    if (s.spec != null || s.discarded) {
      return false; // unproven or garbage: no segment until a chain names it
    }
    s.segmentWriting = true;
    if (s.headRevision >= 0 && !s.deletedDurable) {
      segmentFrom(s, s.headNext, s.headRevision);
      return true;
    }
    ByteString headKey = MetaKey.segmentHead(s.id);
    env.metadataStore().get(headKey).onComplete((head, failure) -> {
      if (failure != null || state == State.FENCED) {
        segmentDone(s);
        return;
      }
      if (s.deletedDurable) {
        writeTombstone(s, head);
        return;
      }
      s.headRevision = head.map(io.s2j.runtime.metadata.KeyValue::modRevision).orElse(0L);
      s.headNext = head.map(kv -> parseHead(kv.value())).orElse(s.startSeq);
      segmentFrom(s, s.headNext, s.headRevision);
    });
    return true;
  }

  /** Writes the segment {@code [first, durable tail)} of {@code s}, to be committed on the head at {@code headRevision}. */
  private void segmentFrom(Streamlet s, long first, long headRevision) {
    if (state == State.FENCED) {
      segmentDone(s);
      return;
    }
    segmented(s, first);
    long end = s.durableTail.seqNum();
    if (first >= end) {
      segmentDone(s);
      return;
    }
    SegmentHeadMeta newHead = SegmentHeadMeta.newBuilder().setNextSeqNum(end).setTailTimestamp(s.durableTail.timestamp())
        .setFencingToken(s.durableToken).setTrimPoint(s.durableTrim).build();
    SequencedRecord oldest = s.retained.peekFirst();
    Invariants.check(oldest != null && oldest.seqNum() <= first,
        "streamlet %d: records from %d are needed for a segment but the channel holds from %s", s.id, first, oldest);
    SegmentBuilder builder = new SegmentBuilder(s.id, 64 << 10);
    for (Iterator<SequencedRecord> it = s.retained.from(first); it.hasNext(); ) {
      SequencedRecord r = it.next();
      if (r.seqNum() >= end) {
        break;
      }
      if (r.seqNum() >= first) {
        builder.add(r);
      }
    }
    Segment.Built built = builder.build();
    ObjectKey key = segmentKey(s.id, first, end);
    env.objectStore().put(key, built.bytes(), PutCondition.IF_ABSENT).onComplete((put, putFailure) -> {
      if (putFailure != null) {
        segmentDone(s);
        return;
      }
      Segment.Summary sum = built.summary();
      SegmentMeta meta = SegmentMeta.newBuilder().setObjectKey(key.value()).setFirstSeqNum(first)
          .setRecordCount(end - first).setFirstTimestamp(sum.firstTimestamp()).setLastTimestamp(sum.lastTimestamp())
          .setObjectBytes(built.bytes().size()).build();
      segmentCommits.add(new SegmentCommit(s, end, headRevision, meta.toByteString(), newHead.toByteString()));
      commitSegments();
    });
  }

  /**
   * Commits the stored segments gathered so far, up to {@link #SEGMENT_COMMITS_PER_TXN} in one
   * metadata transaction (each a compare-and-set of its streamlet's head, plus the segment's key and
   * the new head); one transaction at a time, the next batch gathers meanwhile. A refused condition
   * names its segment, which is dropped (its head is read again next time; the object is an orphan,
   * as with any failed commit) and the rest are committed again; a failed commit (perhaps applied)
   * drops them all, and their next attempt reads the heads.
   */
  private void commitSegments() {
    // Wait while other segment writes are still reading heads or putting objects (they end, and no
    // new one starts while the slots are full), unless a transaction's worth is ready.
    boolean othersPreparing = segmentsInFlight - segmentsCommitting - segmentCommits.size() > 0;
    if (committingSegments || segmentCommits.isEmpty() || (othersPreparing && segmentCommits.size() < SEGMENT_COMMITS_PER_TXN)) {
      return;
    }
    List<SegmentCommit> batch = new ArrayList<>(segmentCommits.subList(0, Math.min(segmentCommits.size(), SEGMENT_COMMITS_PER_TXN)));
    segmentCommits.subList(0, batch.size()).clear();
    Txn.Builder txn = Txn.builder();
    for (SegmentCommit c : batch) {
      ByteString headKey = MetaKey.segmentHead(c.s().id);
      if (c.headRevision() == 0) {
        txn.ifAbsent(headKey);
      } else {
        txn.ifRevision(headKey, c.headRevision());
      }
    }
    for (SegmentCommit c : batch) {
      txn.put(MetaKey.segment(c.s().id, c.end()), c.segmentMeta()).put(MetaKey.segmentHead(c.s().id), c.newHead());
    }
    committingSegments = true;
    segmentsCommitting = batch.size();
    env.metadataStore().commit(txn.build()).onComplete((committed, commitFailure) -> {
      committingSegments = false;
      segmentsCommitting = 0;
      if (commitFailure == null && committed instanceof TxnResult.Committed done) {
        for (SegmentCommit c : batch) {
          c.s().headRevision = done.revision();
          c.s().headNext = c.end();
          segmented(c.s(), c.end());
          segmentDone(c.s());
        }
      } else if (commitFailure == null && committed instanceof TxnResult.ConditionFailed refused) {
        SegmentCommit c = batch.remove(refused.index());
        segmentCommits.addAll(0, batch);
        c.s().headRevision = -1;
        segmentDone(c.s());
      } else {
        for (SegmentCommit c : batch) {
          c.s().headRevision = -1;
          segmentDone(c.s());
        }
      }
      commitSegments();
    });
  }

  /**
   * The oldest live chunks' streamlets that keep more than {@code walLiveBytesMax} of records in the
   * live log (the log a take-over replays): they are segmented at the next round whatever their age.
   */
  private java.util.TreeSet<Long> pinningWal() {
    java.util.TreeSet<Long> pinning = new java.util.TreeSet<>();
    if (walLiveBytes <= knobs.walLiveBytesMax()) {
      return pinning;
    }
    long excess = walLiveBytes - knobs.walLiveBytesMax();
    for (WalChunk c : wal.values()) {
      if (excess <= 0) {
        break;
      }
      for (int i = 0; i < c.streamletIds().length; i++) {
        Streamlet s = streamlets.get(c.streamletIds()[i]);
        if (s != null && s.segmentedUpTo < c.endSeqNums()[i]) {
          pinning.add(s.id);
        }
      }
      excess -= c.meteredBytes();
    }
    return pinning;
  }

  /**
   * The streamlet's stream was deleted and its terminal trim is durable: instead of a segment, the
   * head becomes a tombstone at the durable tail (compare-and-set, like a segment commit), so no
   * incarnation ever writes a segment for it again and its WAL entries count as covered. bgtask
   * waits for the tombstone before it frees the stream's name and purges its segments.
   */
  private void writeTombstone(Streamlet s, java.util.Optional<io.s2j.runtime.metadata.KeyValue> head) {
    ByteString headKey = MetaKey.segmentHead(s.id);
    if (head.isPresent() && parseHeadMeta(head.get().value()).getDeleted()) {
      segmentDone(s);
      segmented(s, Math.max(parseHead(head.get().value()), s.durableTail.seqNum()));
      return;
    }
    SegmentHeadMeta tombstone = SegmentHeadMeta.newBuilder().setNextSeqNum(s.durableTail.seqNum())
        .setTailTimestamp(s.durableTail.timestamp()).setFencingToken(s.durableToken).setTrimPoint(s.durableTrim)
        .setDeleted(true).build();
    Txn.Builder txn = Txn.builder();
    if (head.isPresent()) {
      txn.ifRevision(headKey, head.get().modRevision());
    } else {
      txn.ifAbsent(headKey);
    }
    env.metadataStore().commit(txn.put(headKey, tombstone.toByteString()).build()).onComplete((committed, commitFailure) -> {
      s.headRevision = -1;
      if (commitFailure == null && committed instanceof TxnResult.Committed) {
        segmented(s, s.durableTail.seqNum());
      }
      segmentDone(s);
    });
  }

  /** Whether {@code records} are exactly one terminal trim: a trim command to u64::MAX (S2-API §12.2). */
  static boolean isTerminalTrim(List<AppendRecord> records) {
    return records.size() == 1 && io.s2j.record.Command.isCommand(records.get(0).headers())
        && io.s2j.record.Command.parse(records.get(0).headers(), records.get(0).body()) instanceof io.s2j.record.Command.Trim t
        && t.earliestSeqNum() == -1L;
  }

  private static long parseHead(ByteString bytes) {
    return parseHeadMeta(bytes).getNextSeqNum();
  }

  private static SegmentHeadMeta parseHeadMeta(ByteString bytes) {
    try {
      return SegmentHeadMeta.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt segment head: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- WAL garbage collection

  /**
   * Advances {@code first_live_chunk} past the chunks whose every batch is in segments, with a
   * compare-and-set on the channel's metadata that also proves this incarnation still holds the
   * epoch (a take-over changes the key, so at most one of a take-over and a collection succeeds),
   * then deletes those chunks (and any void garbage among them). Recovery starts from there.
   */
  private void collectWal() {
    if (collectingWal || state != State.SERVING) {
      return;
    }
    long newFirst = firstLiveChunk;
    for (WalChunk c : wal.values()) {
      if (!covered(c)) {
        break;
      }
      newFirst = c.nextInChain();
    }
    if (newFirst <= firstLiveChunk) {
      return;
    }
    long target = newFirst;
    collectingWal = true;
    ByteString key = MetaKey.channel(channelId);
    env.metadataStore().get(key).onComplete((current, failure) -> {
      if (failure != null || current.isEmpty() || parseChannelMeta(current.get().value()).getEpoch() != epoch) {
        collectingWal = false;
        return;
      }
      ChannelMeta meta = parseChannelMeta(current.get().value());
      if (meta.getFirstLiveChunk() >= target) {
        collectingWal = false;
        return;
      }
      Txn txn = Txn.builder().ifRevision(key, current.get().modRevision())
          .put(key, meta.toBuilder().setFirstLiveChunk(target).build().toByteString()).build();
      env.metadataStore().commit(txn).onComplete((result, commitFailure) -> {
        if (commitFailure != null || !(result instanceof TxnResult.Committed)) {
          collectingWal = false;
          return;
        }
        long oldFirst = firstLiveChunk;
        java.util.TreeSet<Long> fences = new java.util.TreeSet<>();
        wal.headMap(target).forEach((seq, c) -> {
          if (c.nextInChain() != seq + 1) {
            fences.add(seq);
          }
        });
        firstLiveChunk = target;
        wal.headMap(target).values().forEach(c -> walLiveBytes -= c.meteredBytes());
        wal.headMap(target).clear();
        deleteChunks(oldFirst, target, fences, oldFirst == 0 ? null : chunkKey(channelId, oldFirst - 1));
      });
    });
  }

  private boolean covered(WalChunk c) {
    for (int i = 0; i < c.streamletIds().length; i++) {
      Streamlet s = streamlets.get(c.streamletIds()[i]);
      if (s == null || s.segmentedUpTo < c.endSeqNums()[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Deletes the chunks numbered {@code [from, to)} — data chunks and void garbage — except fences,
   * which stay forever: a zombie whose next write is a fenced number must find it taken, or it would
   * write there, see its own chunk, and acknowledge records no reader will ever find.
   */
  private void deleteChunks(long from, long to, java.util.TreeSet<Long> fences, ObjectKey after) {
    String prefix = walPrefix(channelId);
    env.objectStore().list(prefix, after, 1000).onComplete((page, failure) -> {
      if (failure != null) {
        collectingWal = false;
        return;
      }
      List<ObjectKey> doomed = new ArrayList<>();
      boolean reachedLive = false;
      for (ObjectSummary o : page.objects()) {
        long seq = chunkSeqOf(o.key().value().substring(prefix.length()));
        if (seq < 0) {
          continue;
        }
        if (seq >= to) {
          reachedLive = true;
          break;
        }
        if (seq >= from && (!fences.contains(seq) || bug == PlantedBug.GC_DELETES_FENCES)) {
          doomed.add(o.key());
        }
      }
      List<Promise<io.s2j.runtime.Done>> deletes = new ArrayList<>();
      doomed.forEach(k -> deletes.add(env.objectStore().delete(k)));
      boolean more = !reachedLive && page.truncated();
      Promise.all(env.scheduler(), deletes).onComplete((done, deleteFailure) -> {
        if (deleteFailure == null && more) {
          deleteChunks(from, to, fences, page.objects().get(page.objects().size() - 1).key());
        } else {
          collectingWal = false;
        }
      });
    });
  }

  // ---------------------------------------------------------------- reads

  private Promise<ReadResponse> onRead(NodeId caller, ReadRequest request) {
    Promise<ReadResponse> response = env.promise();
    if (state != State.SERVING || foreign(request.getStreamlet())) {
      response.complete(readUnavailable());
      return response;
    }
    withStreamlet(request.getStreamlet(), s -> barrier(owner -> {
      if (!owner || s.discarded || s.spec != null) {
        response.complete(readUnavailable());
      } else if (request.getStartSeqNum() >= s.durableTail.seqNum() && request.getWaitMs() > 0 && s.sealedAt == null
          && s.waiters.size() < knobs.waitersMax()) {
        Waiter w = new Waiter(request, response);
        w.timer = env.scheduler().schedule(request.getWaitMs() * 1_000_000L, () -> {
          s.waiters.remove(w);
          barrier(stillOwner -> w.response.complete(stillOwner ? read(s, w.request) : readUnavailable()));
        });
        s.waiters.addLast(w);
      } else {
        response.complete(read(s, request));
      }
    }));
    return response;
  }

  private void wakeWaiters(Streamlet s) {
    for (Iterator<Waiter> it = s.waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.request.getStartSeqNum() < s.durableTail.seqNum()) {
        it.remove();
        w.timer.cancel();
        w.response.complete(read(s, w.request));
      }
    }
  }

  /**
   * Durable records from the request's start within its limits, with the durable tail and the
   * lowest seq num held; a start below that gets no records (the reader goes to segments).
   */
  private ReadResponse read(Streamlet s, ReadRequest request) {
    long start = request.getStartSeqNum();
    if (bug != PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD && start < s.durableTrim) {
      // Records below the durable trim point are deleted as far as readers can tell (S2-API §7.5).
      start = s.durableTrim;
    }
    SequencedRecord first = s.retained.peekFirst();
    long firstHeld = first == null ? s.durableTail.seqNum() : first.seqNum();
    ReadResponse.Records.Builder out = ReadResponse.Records.newBuilder()
        .setTail(ChannelRpc.toProto(s.durableTail)).setFirstHeldSeqNum(firstHeld)
        .setTrimPoint(bug == PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD ? 0 : s.durableTrim)
        .setSealed(s.sealedAt != null && start >= s.sealedAt);
    if (first != null && start >= firstHeld && start < s.durableTail.seqNum()) {
      long bytes = 0;
      for (Iterator<SequencedRecord> it = s.retained.from(start); it.hasNext() && out.getRecordsCount() < request.getRecordsMax(); ) {
        SequencedRecord r = it.next();
        if (bytes + r.meteredBytes() > request.getBytesMax() && out.getRecordsCount() > 0) {
          break; // the first record always goes, however large (a sealed record may exceed the bound)
        }
        bytes += r.meteredBytes();
        out.addRecords(ChannelRpc.toProto(r));
      }
    }
    return ReadResponse.newBuilder().setRecords(out).build();
  }

  private Promise<TailResponse> onTail(NodeId caller, TailRequest request) {
    Promise<TailResponse> response = env.promise();
    if (state != State.SERVING || foreign(request.getStreamlet())) {
      response.complete(TailResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE,
          "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false)).build());
    } else {
      withStreamlet(request.getStreamlet(), s -> barrier(owner -> response.complete(!owner || s.discarded || s.spec != null
          ? TailResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE, "channel " + channelId + " was taken over", false)).build()
          : s.sealedAt != null ? TailResponse.newBuilder().setError(sealedError(s).getError()).build()
          : TailResponse.newBuilder().setTail(ChannelRpc.toProto(s.durableTail))
              .setTrimPoint(bug == PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD ? 0 : s.durableTrim).setDeleting(s.deleting).build())));
    }
    return response;
  }

  /** True when the request names another channel (this host serves {@link #channelId} only). */
  private boolean foreign(StreamletRef ref) {
    return !ref.getChannelId().isEmpty() && !ref.getChannelId().equals(channelId);
  }

  private AppendResponse sealedError(Streamlet s) {
    ErrorProto.Builder e = errorProto(ErrorCode.UNAVAILABLE,
        "streamlet " + s.id + " of channel " + channelId + " is sealed" + (s.sealedAt == null ? "" : " at " + s.sealedAt)
            + ": the stream moved on", false).toBuilder().setSealed(true);
    if (s.next != null) {
      e.setNext(s.next);
    }
    return AppendResponse.newBuilder().setError(e).build();
  }

  /** A speculative append refused (nothing applied): the frontend reads the chain instead. */
  private AppendResponse speculationRefused(Streamlet s) {
    return AppendResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE,
        "streamlet " + s.id + " of channel " + channelId + " is not (yet) a link of the stream: read the chain", false)
        .toBuilder().setSealed(true)).build();
  }

  // ---------------------------------------------------------------- migration (the source side)

  private static io.s2j.channel.proto.MigrateResponse migrateError(String message) {
    return io.s2j.channel.proto.MigrateResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE, message, false)).build();
  }

  /**
   * Hands a streamlet over to a new link on another channel (docs/design.md, "The cop"): seal it
   * (appends refused from now on), wait until everything already accepted is durable — the barrier
   * chunk follows every batch of it — so that the durable tail is the streamlet's final tail, then
   * commit the chain change. The commit is guarded by the cop's epoch (a deposed cop's request
   * fails), the link's revision (the cop's view is current) and this incarnation's channel key (no
   * take-over since: a later incarnation reads the link before serving the streamlet, so it either
   * sees the seal or the commit fails). Until the commit resolves the seal is tentative; a commit
   * that cannot have applied lifts it.
   */
  private Promise<io.s2j.channel.proto.MigrateResponse> onMigrate(NodeId caller, io.s2j.channel.proto.MigrateRequest request) {
    Promise<io.s2j.channel.proto.MigrateResponse> response = env.promise();
    if (state != State.SERVING || foreign(request.getStreamlet()) || request.getStreamlet().getStreamId() == 0) {
      response.complete(migrateError("channel " + channelId + " cannot migrate this streamlet now"));
      return response;
    }
    withStreamlet(request.getStreamlet(), s -> {
      if (s.sealing || s.sealedAt != null || state != State.SERVING) {
        response.complete(migrateError("streamlet " + s.id + " is already sealed or being sealed"));
        return;
      }
      if (s.deleting) {
        // A terminal trim (deletion, delete-on-empty) retires the streamlet: it is the stream's last
        // record. Moving the stream on would start a link that knows nothing of it and accepts
        // appends after it (S2-API §12.2, case 163); a delete-on-empty whose ack was lost is then
        // never marked, and the stream lives on past its terminal trim (found by the sweep once
        // bgtask and the cop ran together: cell seeds 23, 151). Appends are refused while sealing,
        // so no terminal trim can be accepted after this check.
        response.complete(migrateError("streamlet " + s.id + " is being deleted: it is not migrated"));
        return;
      }
      s.sealing = true;
      long sealStartNanos = env.clock().nowNanos();
      if (knobs.speculativeMigration()) {
        s.next = announcedNext(s, request);
      }
      if (bug == PlantedBug.MIGRATION_LOSES_INFLIGHT_APPEND) {
        // The bug: take the durable tail as final without waiting for the batches in flight.
        sealed(s, request, response, sealStartNanos);
        return;
      }
      barrier(owner -> {
        if (!owner) {
          retireAnnounced(s, request, 0, () -> response.complete(migrateError("channel " + channelId + " was taken over while sealing")));
        } else {
          sealed(s, request, response, sealStartNanos);
        }
      });
    });
    return response;
  }

  private void sealed(Streamlet s, io.s2j.channel.proto.MigrateRequest request, Promise<io.s2j.channel.proto.MigrateResponse> response,
      long sealStartNanos) {
    Invariants.check(bug == PlantedBug.MIGRATION_LOSES_INFLIGHT_APPEND || s.durableTail.seqNum() == s.pending.tail().seqNum(),
        "streamlet %d sealed with batches in flight: durable %s, pending %s", s.id, s.durableTail, s.pending.tail());
    if (s.next != null && !(s.next.getStart().getSeqNum() == s.durableTail.seqNum()
        && s.next.getStart().getTimestamp() == s.durableTail.timestamp() && s.next.getStartFencingToken().equals(s.durableToken)
        && s.next.getStartTrimPoint() == s.durableTrim)) {
      // The final tail is not the one announced: never commit a link some frontend sequenced
      // differently (the target discards its speculation once the link revision moves on).
      Migration m = new Migration(s, request, s.durableTail, s.durableToken, s.durableTrim, response);
      unseal(m, "the final tail " + s.durableTail + " is not the announced " + s.next.getStart());
      return;
    }
    s.sealedAt = s.durableTail.seqNum();
    migrationsSealedNanos.put(request.getNewStreamletId(), sealStartNanos);
    // Readers parked at the end learn of the seal now and go on to the next link.
    for (Iterator<Waiter> it = s.waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      it.remove();
      w.timer.cancel();
      w.response.complete(read(s, w.request));
    }
    Migration m = new Migration(s, request, s.durableTail, s.durableToken, s.durableTrim, response);
    commitMigration(m, 0);
  }

  /** A migration this incarnation sealed, until its commit resolves. */
  private static final class Migration {
    final Streamlet s;
    final io.s2j.channel.proto.MigrateRequest request;
    final StreamPosition end;
    final String token;
    final long trim;
    final Promise<io.s2j.channel.proto.MigrateResponse> response;
    /** A commit of it had an unknown outcome: lifting the seal needs proof it can never apply. */
    boolean unresolved;

    Migration(Streamlet s, io.s2j.channel.proto.MigrateRequest request, StreamPosition end, String token, long trim,
        Promise<io.s2j.channel.proto.MigrateResponse> response) {
      this.s = s;
      this.request = request;
      this.end = end;
      this.token = token;
      this.trim = trim;
      this.response = response;
    }

    ByteString linkKey() {
      return MetaKey.streamlet(request.getStreamlet().getStreamId(), request.getStreamlet().getIndex());
    }

    ByteString nextKey() {
      return MetaKey.streamlet(request.getStreamlet().getStreamId(), request.getStreamlet().getIndex() + 1);
    }
  }

  static final int MIGRATION_COMMIT_ATTEMPTS_MAX = 6;

  private void commitMigration(Migration m, int attempt) {
    if (state != State.SERVING) {
      // Fenced: the next incarnation reads the link before serving the streamlet.
      m.response.complete(migrateError("channel " + channelId + " was taken over while migrating"));
      return;
    }
    if (attempt >= MIGRATION_COMMIT_ATTEMPTS_MAX) {
      liftSeal(m, 0);
      return;
    }
    ByteString channelKey = MetaKey.channel(channelId);
    env.metadataStore().get(channelKey).onComplete((channel, failure) -> {
      if (failure != null) {
        later(attempt, () -> commitMigration(m, attempt + 1));
        return;
      }
      if (channel.isEmpty() || parseChannelMeta(channel.get().value()).getEpoch() != epoch) {
        // Another incarnation took the channel over: no commit of this one can land any more (each
        // was guarded by the channel key as it was before). Lift the seal rather than keep refusing
        // appends: refusals write no chunk, so this incarnation would never learn it is fenced and
        // frontends would never go to the new one (found by the sweep as a liveness failure).
        unseal(m, "channel " + channelId + " was taken over while migrating");
        return;
      }
      env.metadataStore().get(m.linkKey()).onComplete((link, linkFailure) -> {
        if (linkFailure != null) {
          later(attempt, () -> commitMigration(m, attempt + 1));
          return;
        }
        if (link.isEmpty()) {
          // The stream was deleted and bgtask purged its chain while the seal drained: no commit can
          // apply (found by the sweep once bgtask and the cop ran together).
          unseal(m, "the stream's chain is gone (deleted)");
          return;
        }
        io.s2j.metadata.proto.StreamletMeta meta = parseLink(link.get().value());
        if (meta.hasEndSeqNum()) {
          // An earlier attempt of ours landed (only the streamlet's own channel commits its seal).
          Invariants.check(meta.getEndSeqNum() == m.end.seqNum(), "streamlet %d sealed at %d, migration ended at %s",
              m.s.id, meta.getEndSeqNum(), m.end);
          committed(m);
          return;
        }
        if (link.get().modRevision() != m.request.getLinkRevision()) {
          // The cop's view is stale; no commit of ours can apply any more (its guard is gone).
          unseal(m, "the chain changed since the cop read it");
          return;
        }
        io.s2j.metadata.proto.StreamletMeta sealedLink = meta.toBuilder().setEndSeqNum(m.end.seqNum()).build();
        io.s2j.metadata.proto.StreamletMeta next = io.s2j.metadata.proto.StreamletMeta.newBuilder()
            .setStreamletId(m.request.getNewStreamletId()).setChannelId(m.request.getNewChannelId())
            .setStartSeqNum(m.end.seqNum()).setStartTimestamp(m.end.timestamp())
            .setStartFencingToken(m.token).setStartTrimPoint(m.trim)
            .setCopEpoch(copEpochOf(m.request.getCopValue())).build();
        Txn.Builder guarded = Txn.builder();
        if (!m.request.getCopValue().isEmpty()) {
          guarded.ifValue(MetaKey.cop(), m.request.getCopValue()); // only a cop holding no epoch sends none (a planted bug)
        }
        Txn txn = guarded
            .ifRevision(m.linkKey(), link.get().modRevision())
            .ifRevision(channelKey, channel.get().modRevision())
            .ifAbsent(m.nextKey())
            .put(m.linkKey(), sealedLink.toByteString())
            .put(m.nextKey(), next.toByteString()).build();
        env.metadataStore().commit(txn).onComplete((result, commitFailure) -> {
          if (commitFailure != null) {
            if (commitFailure instanceof IoFailure io && io.indefinite()) {
              m.unresolved = true;
            }
            later(attempt, () -> commitMigration(m, attempt + 1));
          } else if (result instanceof TxnResult.Committed) {
            committed(m);
          } else {
            // A guard failed: the channel key may have moved for garbage collection; read again.
            later(attempt, () -> commitMigration(m, attempt + 1));
          }
        });
      });
    });
  }

  private static long copEpochOf(ByteString copValue) {
    try {
      return io.s2j.metadata.proto.CopMeta.parseFrom(copValue).getEpoch();
    } catch (InvalidProtocolBufferException e) {
      return 0;
    }
  }

  private void committed(Migration m) {
    m.s.sealing = false;
    m.response.complete(io.s2j.channel.proto.MigrateResponse.newBuilder().setSealedAt(ChannelRpc.toProto(m.end)).build());
  }

  /**
   * Gives up on a migration: a commit whose outcome is unknown could still apply, so the link is
   * first rewritten unchanged under the revision that commit was guarded by — after that it never
   * can — and only then are appends accepted again.
   */
  private void liftSeal(Migration m, int attempt) {
    if (state != State.SERVING) {
      m.response.complete(migrateError("channel " + channelId + " was taken over while migrating"));
      return;
    }
    if (!m.unresolved) {
      unseal(m, "the migration commit failed");
      return;
    }
    env.metadataStore().get(m.linkKey()).onComplete((link, failure) -> {
      if (failure != null || link.isEmpty()) {
        later(attempt, () -> liftSeal(m, attempt + 1));
        return;
      }
      io.s2j.metadata.proto.StreamletMeta meta = parseLink(link.get().value());
      if (meta.hasEndSeqNum()) {
        committed(m);
        return;
      }
      if (link.get().modRevision() != m.request.getLinkRevision()) {
        unseal(m, "the migration commit failed");
        return;
      }
      Txn txn = Txn.builder().ifRevision(m.linkKey(), link.get().modRevision()).put(m.linkKey(), link.get().value()).build();
      env.metadataStore().commit(txn).onComplete((result, commitFailure) -> later(attempt, () -> liftSeal(m, attempt + 1)));
    });
  }

  private void unseal(Migration m, String why) {
    m.s.sealing = false;
    m.s.sealedAt = null;
    migrationsSealedNanos.remove(m.request.getNewStreamletId());
    retireAnnounced(m.s, m.request, 0, () -> m.response.complete(migrateError("migration of streamlet " + m.s.id + " abandoned: " + why)));
  }

  static final int RETIRE_ATTEMPTS_MAX = 4;

  /**
   * A migration announced its next link and will never commit it (every path here is one where no
   * commit of it can land any more). Its target learns that only from the chain: the link being
   * sealed is rewritten, unchanged, under the revision every commit of the migration was guarded
   * by, so that the target finds it moved on with no end and discards its speculation at once
   * (its held appends fail definitely, and frontends read the chain again) instead of holding them
   * until its limit. The rewrite cannot harm: if a commit had landed the guard fails. Best effort.
   */
  private void retireAnnounced(Streamlet s, io.s2j.channel.proto.MigrateRequest request, int attempt, Runnable then) {
    if (s.next == null || s.next.getStreamletId() != request.getNewStreamletId()) {
      then.run();
      return;
    }
    ByteString linkKey = MetaKey.streamlet(request.getStreamlet().getStreamId(), request.getStreamlet().getIndex());
    env.metadataStore().get(linkKey).onComplete((link, failure) -> {
      if (failure != null) {
        if (attempt + 1 >= RETIRE_ATTEMPTS_MAX) {
          s.next = null;
          then.run();
        } else {
          later(attempt, () -> retireAnnounced(s, request, attempt + 1, then));
        }
        return;
      }
      if (link.isEmpty() || link.get().modRevision() != request.getLinkRevision()) {
        s.next = null;
        then.run();
        return;
      }
      Txn txn = Txn.builder().ifRevision(linkKey, request.getLinkRevision()).put(linkKey, link.get().value()).build();
      env.metadataStore().commit(txn).onComplete((result, commitFailure) -> {
        if (commitFailure == null || attempt + 1 >= RETIRE_ATTEMPTS_MAX) {
          s.next = null;
          then.run();
        } else {
          later(attempt, () -> retireAnnounced(s, request, attempt + 1, then));
        }
      });
    });
  }

  /** The next link a sealing source announces: the new streamlet from the predicted final tail. */
  private StreamletRef announcedNext(Streamlet s, io.s2j.channel.proto.MigrateRequest request) {
    boolean losesInflight = bug == PlantedBug.MIGRATION_LOSES_INFLIGHT_APPEND; // that bug takes the durable tail as final
    StreamPosition tail = losesInflight ? s.durableTail : s.pending.tail();
    return StreamletRef.newBuilder().setStreamletId(request.getNewStreamletId()).setStart(ChannelRpc.toProto(tail))
        .setStreamId(request.getStreamlet().getStreamId()).setIndex(request.getStreamlet().getIndex() + 1)
        .setStartFencingToken(losesInflight ? s.durableToken : s.pending.fencingToken())
        .setStartTrimPoint(losesInflight ? s.durableTrim : s.pending.trimPoint())
        .setChannelId(request.getNewChannelId()).setSpeculative(true).setPrevLinkRevision(request.getLinkRevision()).build();
  }

  /** Whether a speculative append predicts the same start as the one the streamlet was begun with. */
  private static boolean samePrediction(StreamletRef begun, StreamletRef ref) {
    if (!ref.getSpeculative()) {
      return true; // from the chain: the link exists (it is checked before the streamlet serves)
    }
    return begun.getStreamId() == ref.getStreamId() && begun.getIndex() == ref.getIndex()
        && begun.getStart().equals(ref.getStart()) && begun.getStartFencingToken().equals(ref.getStartFencingToken())
        && begun.getStartTrimPoint() == ref.getStartTrimPoint() && begun.getPrevLinkRevision() == ref.getPrevLinkRevision();
  }

  // ---------------------------------------------------------------- speculation (the target side)

  /**
   * Completes an append's answer — or, for a streamlet whose speculation is unproven, holds it until
   * the link is read. A discarded streamlet's answers are refusals (its records are garbage).
   */
  private void answer(Streamlet s, Promise<AppendResponse> response, AppendResponse answer) {
    if (s.spec != null && bug != PlantedBug.SPECULATION_ACKS_BEFORE_CONFIRM) {
      if (s.spec.gaveUp) {
        response.complete(heldTooLong(s, answer));
      } else {
        s.spec.answers.add(new HeldAnswer(response, answer));
      }
      return;
    }
    if (s.discarded) {
      response.complete(s.discardedMaybeVisible ? heldTooLong(s, answer) : speculationRefused(s));
      return;
    }
    if (answer.hasAck()) {
      firstAckNanos.putIfAbsent(s.id, env.clock().nowNanos());
    }
    response.complete(answer);
  }

  /** An ack held too long becomes an indefinite failure; a rejection (nothing applied) a refusal. */
  private AppendResponse heldTooLong(Streamlet s, AppendResponse answer) {
    return answer.hasAck()
        ? error(ErrorCode.UNAVAILABLE, "the migration this append followed is unresolved; it may have been applied", true)
        : speculationRefused(s);
  }

  private Promise<io.s2j.channel.proto.ResolveResponse> onResolve(NodeId caller, io.s2j.channel.proto.ResolveRequest request) {
    Streamlet s = streamlets.get(request.getStreamletId());
    if (state == State.SERVING && s != null && s.spec != null) {
      resolveSpeculation(s);
    }
    return Promise.completed(env.scheduler(), io.s2j.channel.proto.ResolveResponse.getDefaultInstance());
  }

  /**
   * Reads the link a speculative streamlet was announced as, and its predecessor, to learn whether
   * the migration committed it (proven: answers released), can never commit it (discarded: answers
   * refused, definitely when no chain can ever name it), or is still undecided (poll again).
   */
  private void resolveSpeculation(Streamlet s) {
    Speculation spec = s.spec;
    if (spec == null || state != State.SERVING) {
      return;
    }
    if (spec.reading) {
      spec.readAgain = true;
      return;
    }
    spec.reading = true;
    spec.readAgain = false;
    if (spec.poll != null) {
      spec.poll.cancel();
      spec.poll = null;
    }
    StreamletRef p = spec.predicted;
    env.metadataStore().get(MetaKey.streamlet(p.getStreamId(), p.getIndex())).onComplete((link, failure) -> {
      if (failure != null) {
        speculationUndecided(s, spec);
      } else if (link.isPresent()) {
        io.s2j.metadata.proto.StreamletMeta meta = parseLink(link.get().value());
        if (meta.getStreamletId() != s.id) {
          discard(s, spec, true, "link " + p.getIndex() + " names streamlet " + meta.getStreamletId());
        } else {
          Invariants.check(meta.getStartSeqNum() == p.getStart().getSeqNum() && meta.getStartTimestamp() == p.getStart().getTimestamp()
                  && meta.getStartFencingToken().equals(p.getStartFencingToken()) && meta.getStartTrimPoint() == p.getStartTrimPoint(),
              "streamlet %d was announced starting at %s but its link starts at %d/%d", s.id, p.getStart(), meta.getStartSeqNum(),
              meta.getStartTimestamp());
          confirm(s, spec, meta);
        }
      } else {
        env.metadataStore().get(MetaKey.streamlet(p.getStreamId(), p.getIndex() - 1)).onComplete((prev, prevFailure) -> {
          if (prevFailure != null) {
            speculationUndecided(s, spec);
          } else if (prev.isEmpty()) {
            // The stream's chain was purged (deleted): whether the commit landed before is unknown.
            discard(s, spec, false, "the stream's chain is gone");
          } else if (parseLink(prev.get().value()).hasEndSeqNum()) {
            spec.readAgain = true; // sealed between the two reads: read the new link again
            speculationUndecided(s, spec);
          } else if (prev.get().modRevision() != p.getPrevLinkRevision()) {
            // Every commit of the migration is guarded by that revision: none can land any more.
            discard(s, spec, true, "the link before it moved on unsealed");
          } else {
            speculationUndecided(s, spec);
          }
        });
      }
    });
  }

  /** Not decided yet: poll again (at once if asked meanwhile), giving up holding answers after a while. */
  private void speculationUndecided(Streamlet s, Speculation spec) {
    spec.reading = false;
    if (s.spec != spec || state != State.SERVING) {
      return;
    }
    if (!spec.retired && env.clock().nowNanos() - spec.sinceNanos >= SPECULATION_RETIRE_NANOS) {
      spec.retired = true;
      retirePrevious(s, spec);
      return;
    }
    if (!spec.gaveUp && env.clock().nowNanos() - spec.sinceNanos >= SPECULATION_HOLD_NANOS) {
      spec.gaveUp = true;
      spec.answers.forEach(a -> a.response().complete(heldTooLong(s, a.answer())));
      spec.answers.clear();
    }
    if (spec.readAgain) {
      resolveSpeculation(s);
      return;
    }
    long delay = Math.min(SPECULATION_POLL_MAX_NANOS, SPECULATION_POLL_MIN_NANOS << Math.min(spec.polls++, 16));
    spec.poll = env.scheduler().schedule(delay, () -> {
      spec.poll = null;
      resolveSpeculation(s);
    });
  }

  /**
   * Ends a migration that has not committed the speculation for too long (the source may be gone
   * or stuck): link {@code index - 1} is rewritten, unchanged, under the revision every commit of
   * that migration is guarded by. Whether the rewrite lands, fails its guard or has an unknown
   * outcome, the link is then read again: it names this streamlet (the commit landed first), or the
   * link before it has moved on unsealed and no commit can land any more. The source's commit then
   * fails its guard and it lifts its seal, as for any chain change. Safe because a rewrite of the
   * same bytes changes nothing a reader sees.
   */
  private void retirePrevious(Streamlet s, Speculation spec) {
    StreamletRef p = spec.predicted;
    ByteString prevKey = MetaKey.streamlet(p.getStreamId(), p.getIndex() - 1);
    spec.reading = true;
    env.metadataStore().get(prevKey).onComplete((prev, failure) -> {
      if (failure != null || prev.isEmpty() || prev.get().modRevision() != p.getPrevLinkRevision()) {
        spec.reading = false;
        spec.readAgain = true;
        speculationUndecided(s, spec);
        return;
      }
      Txn txn = Txn.builder().ifRevision(prevKey, p.getPrevLinkRevision()).put(prevKey, prev.get().value()).build();
      env.metadataStore().commit(txn).onComplete((result, commitFailure) -> {
        spec.reading = false;
        spec.readAgain = true;
        speculationUndecided(s, spec);
      });
    });
  }

  /** The chain names the streamlet where it was announced: it is an ordinary link from now on. */
  private void confirm(Streamlet s, Speculation spec, io.s2j.metadata.proto.StreamletMeta meta) {
    spec.reading = false;
    if (s.spec != spec || state != State.SERVING) {
      return;
    }
    s.spec = null;
    s.linkChecked = true;
    if (meta.hasEndSeqNum()) {
      Invariants.check(s.pending.tail().seqNum() <= meta.getEndSeqNum(),
          "streamlet %d is sealed at %d but this channel holds it up to %d", s.id, meta.getEndSeqNum(), s.pending.tail().seqNum());
      s.sealedAt = meta.getEndSeqNum();
    }
    for (HeldAnswer a : spec.answers) {
      answer(s, a.response(), a.answer());
    }
    spec.answers.clear();
    wakeWaiters(s);
    runLoaded(s.id);
  }

  /**
   * The speculation failed: the streamlet's answers are refusals — definite when no chain can ever
   * name it (its records are unreachable garbage), else indefinite for the acks.
   */
  private void discard(Streamlet s, Speculation spec, boolean never, String why) {
    spec.reading = false;
    if (s.spec != spec || state != State.SERVING) {
      return;
    }
    s.spec = null;
    s.linkChecked = true;
    s.discarded = true;
    s.discardedMaybeVisible = !never;
    segmented(s, s.durableTail.seqNum());
    for (HeldAnswer a : spec.answers) {
      answer(s, a.response(), a.answer());
    }
    spec.answers.clear();
    runLoaded(s.id);
  }

  private Promise<io.s2j.channel.proto.StatusResponse> onStatus(NodeId caller, io.s2j.channel.proto.StatusRequest request) {
    long open = streamlets.values().stream().filter(s -> s.sealedAt == null && !s.sealing).count();
    return Promise.completed(env.scheduler(), io.s2j.channel.proto.StatusResponse.newBuilder().setChannelId(channelId)
        .setServing(state == State.SERVING).setEpoch(epoch).setActiveStreamlets(open).setAppendedBytes(appendedBytes).build());
  }

  /** Migrations this incarnation sealed: new streamlet id → virtual time it stopped accepting appends. */
  public java.util.Map<Long, Long> migrationsSealedNanos() {
    return java.util.Collections.unmodifiableMap(migrationsSealedNanos);
  }

  /** When this incarnation acknowledged each streamlet's first batch. */
  public java.util.Map<Long, Long> firstAckNanos() {
    return java.util.Collections.unmodifiableMap(firstAckNanos);
  }

  /** For tests and checks: a streamlet's durable tail, or null if the channel does not know it. */
  public StreamPosition durableTail(long streamletId) {
    Streamlet s = streamlets.get(streamletId);
    return s == null ? null : s.durableTail;
  }
}
