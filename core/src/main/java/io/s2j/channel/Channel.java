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
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.ChannelMeta;
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
 * <p>Simplified for now (see docs/design.md, Status): durable records are kept in memory up to
 * {@link ChannelKnobs#retainedBytesMax} and reads are served from there; segments, chunk-pointer
 * reads, followers and WAL garbage collection come next.
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
  private ChunkBuilder current;
  private List<Pending> currentPending = new ArrayList<>();
  private List<Chunk.Entry> currentEntries = new ArrayList<>();
  private Cancellable flushTimer;
  private boolean flushDue;
  private long pendingBytes;
  private long retainedBytes;

  /** One streamlet's sequencing state. */
  private static final class Streamlet {
    final long id;
    StreamState pending;
    StreamPosition durableTail;
    ResolvedStreamConfig config = ResolvedStreamConfig.SYSTEM_DEFAULTS;
    StreamCipher cipher;
    int batchesNotDurable;
    final ArrayDeque<SequencedRecord> retained = new ArrayDeque<>();
    final ArrayDeque<Held> held = new ArrayDeque<>();

    Streamlet(long id, StreamState state) {
      this.id = id;
      this.pending = state;
      this.durableTail = state.tail();
    }
  }

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
    boolean durable;
    int attempts;

    InFlight(long seq, ByteString bytes, List<Pending> pending, List<Chunk.Entry> entries) {
      this.seq = seq;
      this.bytes = bytes;
      this.pending = pending;
      this.entries = entries;
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
    env.scheduler().execute(() -> takeOver(0));
  }

  public State state() {
    return state;
  }

  public long epoch() {
    return epoch;
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

  private void listFrom(ObjectKey after, TreeMap<Long, ObjectKey> found, int attempt, Runnable done) {
    String prefix = walPrefix(channelId);
    env.objectStore().list(prefix, after, 1000).onComplete((page, failure) -> {
      if (failure != null) {
        later(attempt, () -> listFrom(after, found, attempt + 1, done));
        return;
      }
      for (ObjectSummary o : page.objects()) {
        found.put(Long.parseLong(o.key().value().substring(prefix.length())), o.key());
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
        // Listed but gone: only garbage collection deletes chunks, and never live ones.
        throw new Invariants.InvariantViolation("chunk " + seq + " of " + channelId + " vanished during recovery");
      }
      Chunk.Contents contents = parseChunk(f.data(), seq);
      if (contents.origin().writerEpoch() > epoch) {
        // A later incarnation already took over while this one was starting: stand down.
        state = State.FENCED;
        fencedAtChunk = seq;
        return;
      }
      replay(applyRecovered(contents), found, 0);
    });
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
  private long applyRecovered(Chunk.Contents contents) {
    Chunk.Origin origin = contents.origin();
    Invariants.check(origin.writerEpoch() < epoch, "recovered chunk %s of my own epoch %d before I wrote any", origin, epoch);
    if (origin.voidThroughChunkSeqNum() > 0) {
      Invariants.check(contents.entries().isEmpty(), "fence chunk with entries: %s", origin);
      return origin.voidThroughChunkSeqNum() + 1;
    }
    for (Chunk.Entry e : contents.entries()) {
      Streamlet s = streamlets.get(e.streamletId());
      StreamPosition tail = new StreamPosition(e.nextSeqNum(), e.lastTimestamp());
      String token = e.fencingToken() != null ? e.fencingToken() : (s == null ? "" : s.pending.fencingToken());
      long trim = e.trimPoint() != null ? e.trimPoint() : (s == null ? 0 : s.pending.trimPoint());
      if (s == null) {
        s = new Streamlet(e.streamletId(), new StreamState(tail, token, trim));
        streamlets.put(s.id, s);
      } else {
        Invariants.check(s.durableTail.seqNum() == e.firstSeqNum(),
            "streamlet %d: WAL entry starts at %d but the tail is %d", s.id, e.firstSeqNum(), s.durableTail.seqNum());
        s.pending = new StreamState(tail, token, trim);
        s.durableTail = tail;
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
        startServing(voidThrough + 1);
      } else {
        whoseChunk(key, seq, attempt, mine -> {
          if (mine) {
            startServing(voidThrough + 1);
          } else {
            // Another writer's chunk landed at the gap meanwhile: keep replaying from it.
            TreeMap<Long, ObjectKey> found = new TreeMap<>();
            found.put(seq, key);
            listFrom(key, found, 0, () -> replay(seq, found, 0));
          }
        });
      }
    });
  }

  /** Reads chunk {@code seq} and tells whether this incarnation wrote it. */
  private void whoseChunk(ObjectKey key, long seq, int attempt, java.util.function.Consumer<Boolean> then) {
    env.objectStore().get(key).onComplete((result, failure) -> {
      if (failure != null) {
        later(attempt, () -> whoseChunk(key, seq, attempt + 1, then));
      } else if (result instanceof GetResult.Found f) {
        then.accept(parseChunk(f.data(), seq).origin().writerEpoch() == epoch);
      } else {
        throw new Invariants.InvariantViolation("chunk " + seq + " refused a create but does not exist");
      }
    });
  }

  private void startServing(long firstChunk) {
    nextChunkSeq = firstChunk;
    state = State.SERVING;
  }

  // ---------------------------------------------------------------- appends

  private Streamlet streamlet(StreamletRef ref) {
    Streamlet s = streamlets.get(ref.getStreamletId());
    if (s == null) {
      StreamPosition start = ChannelRpc.fromProto(ref.getStart());
      s = new Streamlet(ref.getStreamletId(), new StreamState(start, "", 0));
      streamlets.put(s.id, s);
    }
    s.config = ConfigProtos.resolvedFromProto(ref.getConfig());
    s.cipher = ref.getCipher() == StreamCipherProto.STREAM_CIPHER_UNSPECIFIED ? null : ConfigProtos.fromProto(ref.getCipher());
    return s;
  }

  static AppendResponse error(ErrorCode code, String message, boolean indefinite) {
    return AppendResponse.newBuilder().setError(errorProto(code, message, indefinite)).build();
  }

  static ErrorProto errorProto(ErrorCode code, String message, boolean indefinite) {
    return ErrorProto.newBuilder().setCode(code.name()).setMessage(message).setIndefinite(indefinite).build();
  }

  private Promise<AppendResponse> onAppend(NodeId caller, AppendRequest request) {
    Promise<AppendResponse> response = env.promise();
    if (state != State.SERVING) {
      response.complete(error(ErrorCode.UNAVAILABLE, "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false));
      return response;
    }
    List<AppendRecord> records = new ArrayList<>(request.getRecordsCount());
    for (AppendRecordProto r : request.getRecordsList()) {
      records.add(ChannelRpc.fromProto(r));
    }
    AppendBatch batch;
    switch (AppendBatch.validate(records)) {
      case Checked.Ok<AppendBatch> ok -> batch = ok.value();
      case Checked.Invalid<AppendBatch> invalid -> {
        response.complete(error(ErrorCode.INVALID, invalid.message(), false));
        return response;
      }
    }
    if (pendingBytes + batch.meteredBytes() > knobs.pendingBytesMax()) {
      response.complete(error(ErrorCode.RATE_LIMITED, "channel " + channelId + " has too many bytes in flight", false));
      return response;
    }
    AppendInput input = new AppendInput(batch,
        request.hasMatchSeqNum() ? request.getMatchSeqNum() : null,
        request.hasFencingToken() ? request.getFencingToken() : null);
    Streamlet s = streamlet(request.getStreamlet());
    AppendStep step = s.pending.append(input, s.config, s.cipher, env.clock().wallMillis());
    switch (step) {
      case AppendStep.Sequenced sequenced -> accept(s, sequenced, response, batch.meteredBytes());
      case AppendResult.SeqNumMismatch m -> hold(s, response, AppendResponse.newBuilder().setSeqNumMismatch(m.nextSeqNum()).build());
      case AppendResult.FencingTokenMismatch f ->
          hold(s, response, AppendResponse.newBuilder().setFencingTokenMismatch(f.currentToken()).build());
      case AppendResult.SeqNumLimitExceeded x -> hold(s, response, error(ErrorCode.INVALID, x.toError().message(), false));
      case AppendResult.Failed f -> response.complete(error(f.error().code(), f.error().message(), false));
    }
    return response;
  }

  private void hold(Streamlet s, Promise<AppendResponse> response, AppendResponse answer) {
    if (s.batchesNotDurable == 0) {
      response.complete(answer);
    } else {
      s.held.addLast(new Held(s.pending.tail().seqNum(), response, answer));
    }
  }

  private void accept(Streamlet s, AppendStep.Sequenced step, Promise<AppendResponse> response, long meteredBytes) {
    if (current == null) {
      current = new ChunkBuilder(channelId, epoch, nextChunkSeq++, 0);
      Invariants.check(flushTimer == null, "flush timer without a chunk");
      flushTimer = env.scheduler().schedule(knobs.flushIntervalMs() * 1_000_000L, () -> {
        flushTimer = null;
        flushDue = true;
        tryFlush();
      });
    }
    StreamState next = step.next();
    Chunk.Entry entry = new Chunk.Entry(s.id, step.records(), next.fencingToken(), next.trimPoint());
    current.add(entry);
    currentEntries.add(entry);
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
    InFlight chunk = new InFlight(current.origin().chunkSeqNum(), current.build().bytes(), currentPending, currentEntries);
    current = null;
    currentPending = new ArrayList<>();
    currentEntries = new ArrayList<>();
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
        whoseChunk(key, chunk.seq, 0, mine -> {
          if (chunk.seq >= fencedAtChunk) {
            return;
          }
          if (mine) {
            durable(chunk);
          } else {
            fenced(chunk.seq);
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
    List<Streamlet> touched = new ArrayList<>();
    for (Chunk.Entry e : chunk.entries) {
      Streamlet s = streamlets.get(e.streamletId());
      Invariants.check(s.durableTail.seqNum() == e.firstSeqNum(), "streamlet %d: durable tail %d, entry at %d",
          s.id, s.durableTail.seqNum(), e.firstSeqNum());
      s.durableTail = new StreamPosition(e.nextSeqNum(), e.lastTimestamp());
      s.batchesNotDurable--;
      retain(s, e.records());
      touched.add(s);
    }
    for (Pending p : chunk.pending) {
      pendingBytes -= p.meteredBytes();
      io.s2j.api.AppendAck ack = p.step().ack(p.streamlet().durableTail);
      p.response().complete(AppendResponse.newBuilder().setAck(io.s2j.channel.proto.AppendAckProto.newBuilder()
          .setStart(ChannelRpc.toProto(ack.start())).setEnd(ChannelRpc.toProto(ack.end()))
          .setTail(ChannelRpc.toProto(ack.tail()))).build());
    }
    for (Streamlet s : touched) {
      while (!s.held.isEmpty() && s.held.peekFirst().untilSeqNum() <= s.durableTail.seqNum()) {
        Held h = s.held.pollFirst();
        h.response().complete(h.answer());
      }
    }
  }

  /**
   * Another writer owns chunk {@code seq}: this incarnation is fenced. Chunks from {@code seq} on
   * are void (or never written), so their batches certainly did not happen; earlier chunks are in
   * the chain and still complete normally.
   */
  private void fenced(long seq) {
    if (seq >= fencedAtChunk) {
      return;
    }
    fencedAtChunk = seq;
    state = State.FENCED;
    AppendResponse gone = error(ErrorCode.UNAVAILABLE, "channel " + channelId + " was taken over", false);
    for (Iterator<InFlight> it = inFlight.descendingIterator(); it.hasNext(); ) {
      InFlight chunk = it.next();
      if (chunk.seq < seq) {
        break;
      }
      it.remove();
      chunk.pending.forEach(p -> p.response().complete(gone));
    }
    currentPending.forEach(p -> p.response().complete(gone));
    currentPending = new ArrayList<>();
    currentEntries = new ArrayList<>();
    current = null;
    if (flushTimer != null) {
      flushTimer.cancel();
      flushTimer = null;
    }
    for (Streamlet s : streamlets.values()) {
      while (!s.held.isEmpty()) {
        s.held.pollFirst().response().complete(gone);
      }
    }
  }

  // ---------------------------------------------------------------- reads

  private void retain(Streamlet s, List<SequencedRecord> records) {
    for (SequencedRecord r : records) {
      s.retained.addLast(r);
      retainedBytes += r.meteredBytes();
    }
    while (retainedBytes > knobs.retainedBytesMax() && !s.retained.isEmpty()) {
      retainedBytes -= s.retained.pollFirst().meteredBytes();
    }
  }

  private Promise<ReadResponse> onRead(NodeId caller, ReadRequest request) {
    Promise<ReadResponse> response = env.promise();
    if (state != State.SERVING) {
      response.complete(ReadResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE,
          "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false)).build());
      return response;
    }
    Streamlet s = streamlet(request.getStreamlet());
    long start = request.getStartSeqNum();
    SequencedRecord first = s.retained.peekFirst();
    if (start < s.durableTail.seqNum() && (first == null || start < first.seqNum())) {
      response.complete(ReadResponse.newBuilder().setError(errorProto(ErrorCode.STORAGE,
          "records from " + start + " are no longer held by channel " + channelId, false)).build());
      return response;
    }
    ReadResponse.Records.Builder out = ReadResponse.Records.newBuilder().setTail(ChannelRpc.toProto(s.durableTail));
    long bytes = 0;
    if (first != null && start < s.durableTail.seqNum()) {
      int skip = (int) (start - first.seqNum());
      Iterator<SequencedRecord> it = s.retained.iterator();
      for (int i = 0; i < skip; i++) {
        it.next();
      }
      while (it.hasNext() && out.getRecordsCount() < request.getRecordsMax()) {
        SequencedRecord r = it.next();
        if (bytes + r.meteredBytes() > request.getBytesMax()) {
          break;
        }
        bytes += r.meteredBytes();
        out.addRecords(ChannelRpc.toProto(r));
      }
    }
    response.complete(ReadResponse.newBuilder().setRecords(out).build());
    return response;
  }

  private Promise<TailResponse> onTail(NodeId caller, TailRequest request) {
    Promise<TailResponse> response = env.promise();
    if (state != State.SERVING) {
      response.complete(TailResponse.newBuilder().setError(errorProto(ErrorCode.UNAVAILABLE,
          "channel " + channelId + " is " + state.name().toLowerCase(Locale.ROOT), false)).build());
    } else {
      response.complete(TailResponse.newBuilder().setTail(ChannelRpc.toProto(streamlet(request.getStreamlet()).durableTail)).build());
    }
    return response;
  }

  /** For tests and checks: a streamlet's durable tail, or null if the channel does not know it. */
  public StreamPosition durableTail(long streamletId) {
    Streamlet s = streamlets.get(streamletId);
    return s == null ? null : s.durableTail;
  }
}
