package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.Condition;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataState;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.Mutation;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import io.s2j.runtime.real.proto.MetaLogEntry;
import io.s2j.runtime.real.proto.MetaSnapshot;
import io.s2j.runtime.real.proto.MetaTakeover;
import io.s2j.runtime.real.proto.MetaTxn;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable {@link MetadataStore} of the single binary: a log of committed transactions and
 * periodic snapshots, as objects of the same {@link SharedObjectStore} that holds the data, so that
 * a server restarted on the same directory or bucket recovers every acknowledged transaction.
 *
 * <p>Like {@link InMemoryMetadataStore}, one instance is shared by every node of the process and
 * {@link #view(Scheduler)} gives a node its {@link MetadataStore}. Reads are served from the state
 * in memory (this process is the only writer); a transaction's promise completes only once the log
 * object holding it is durable and verified.
 *
 * <h2>Objects</h2>
 *
 * <ul>
 *   <li>{@code <prefix>log/<seq>} ({@code seq} in 20 zero-padded digits, from 1): a {@code
 *       MetaLogEntry}: one group commit (the mutations of consecutive committed transactions, the
 *       first at {@code first_revision}), or a writer's takeover entry (no transactions). Written
 *       with {@code If-None-Match: *}, so exactly one writer owns each sequence number; never
 *       overwritten.
 *   <li>{@code <prefix>snap/<seq>}: a {@code MetaSnapshot}, the whole state (revision, every key with
 *       its value and modRevision) after log entry {@code seq}.
 * </ul>
 *
 * Each object is the envelope of {@link MetaCodec}: magic {@code S2JM}, format version (1), kind
 * (1 log entry, 2 snapshot), the protobuf body of {@code s2j/metastore/metastore.proto}, and a
 * CRC32C. Protobuf field numbers are never reused; readers refuse other versions. The store
 * revision counts transactions only (a takeover entry does not advance it), so revisions stay
 * exactly those of {@link MetadataState}.
 *
 * <h2>Recovery and takeover</h2>
 *
 * {@link #open} lists the snapshots, reads the newest (sequence {@code S}), reads log entries
 * {@code S+1..L} (which must be contiguous) and replays them, checks that no newer snapshot appeared
 * meanwhile, then writes a takeover entry at {@code L+1}. Any other writer still running has all
 * its entries at {@code <= L} (an entry at {@code L+1} would have made the takeover's conditional
 * put fail, and recovery restarts), so its next write finds its sequence number taken.
 *
 * <h2>Fencing</h2>
 *
 * A writer whose conditional put finds its sequence number taken by another writer's entry is
 * <em>fenced</em>: it fails that batch and every later operation (reads included) with a definite
 * {@code REJECTED} {@link IoFailure} and calls {@link Options#onFenced()} once; it never reloads and
 * continues. Garbage collection deletes log entries, so a displaced writer's put can also succeed
 * at a sequence number whose entry was deleted. Entries are deleted only after a snapshot at or
 * after them is durable, and the newest snapshot is never deleted; so after every successful put at
 * {@code s} the writer lists snapshots from {@code s}: any there means its entry is garbage below
 * a snapshot (nobody will ever replay it), and it is fenced. An idle writer also probes every
 * {@link Options#fenceProbeInterval()} for log entries or snapshots after its own, so a displaced
 * server notices even without writes (until then its reads may be stale).
 *
 * <h2>Failures</h2>
 *
 * A put with an indefinite outcome (timeout, 5xx) is retried with the same bytes until it is
 * resolved: written, or {@code PreconditionFailed} and the object read back is ours (committed) or
 * not (fenced). The writer does nothing else meanwhile; a caller waiting longer than {@link
 * Options#ackTimeout()} gets an indefinite {@code TIMEOUT} (its transaction is applied if the
 * resolution finds it committed). A definite failure of the put is retried until the ack timeout,
 * then fails the batch definitely ({@code REJECTED} at once). A transaction still queued at its ack
 * timeout fails definitely ({@code UNAVAILABLE}).
 *
 * <h2>Group commit</h2>
 *
 * One log write is in flight at a time. Transactions arriving meanwhile are queued; the next batch
 * takes them in order, checks each one's conditions against the committed state plus the writes of
 * the batch's earlier transactions, and logs those that hold. Results (condition failures included,
 * since they were judged against not-yet-durable writes) are delivered only after the entry is
 * durable and verified, at which point the batch is applied to the state readers see. A batch whose
 * write fails is never applied, so nobody saw it.
 *
 * <p>The store does not own the object store: close this, then the object store.
 */
public final class ObjectStoreMetadataStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ObjectStoreMetadataStore.class);
  private static final int WRITER_ID_BYTES = 16;
  private static final int BATCH_TXNS_MAX = 1000;
  private static final int RECOVERY_FETCH_WINDOW = 16;
  private static final long BACKOFF_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /** Settings; {@link #defaults()} suits a server. */
  public record Options(
      // Key prefix of the store's objects ("meta/" by default), within the object store's own prefix.
      String prefix,
      // How long a caller waits for a transaction's outcome before a {@code TIMEOUT}.
      Duration ackTimeout,
      // A snapshot after this many log entries since the previous one...
      int snapshotEveryEntries,
      // ...or after this many log bytes, whichever comes first.
      long snapshotEveryBytes,
      // A batch stops taking transactions at this many (estimated) bytes; one transaction always fits.
      int batchBytesMax,
      // How often an idle writer checks that nobody took over; zero disables it.
      Duration fenceProbeInterval,
      // The longest pause between retries of an object store operation.
      Duration retryBackoffMax,
      // How many times {@link #open} restarts recovery after a concurrent writer changed the log.
      int recoveryAttempts,
      // Written into the takeover entry for operators (host, pid).
      String writerDescription,
      // Called once, on the store's thread, when this writer finds it has been fenced.
      Consumer<IoFailure> onFenced) {

    public Options {
      Objects.requireNonNull(prefix, "prefix");
      Objects.requireNonNull(ackTimeout, "ackTimeout");
      Objects.requireNonNull(fenceProbeInterval, "fenceProbeInterval");
      Objects.requireNonNull(retryBackoffMax, "retryBackoffMax");
      Objects.requireNonNull(writerDescription, "writerDescription");
      Objects.requireNonNull(onFenced, "onFenced");
      if (snapshotEveryEntries < 1 || snapshotEveryBytes < 1 || batchBytesMax < 1 || recoveryAttempts < 1) {
        throw new IllegalArgumentException("snapshot thresholds, batch size and recovery attempts must be positive");
      }
    }

    public static Options defaults() {
      return new Options("meta/", Duration.ofSeconds(30), 1000, 64L << 20, 4 << 20, Duration.ofSeconds(2),
          Duration.ofSeconds(1), 20, "pid " + ProcessHandle.current().pid(), f -> {});
    }

    public Options withPrefix(String p) {
      return new Options(p, ackTimeout, snapshotEveryEntries, snapshotEveryBytes, batchBytesMax,
          fenceProbeInterval, retryBackoffMax, recoveryAttempts, writerDescription, onFenced);
    }

    public Options withAckTimeout(Duration d) {
      return new Options(prefix, d, snapshotEveryEntries, snapshotEveryBytes, batchBytesMax,
          fenceProbeInterval, retryBackoffMax, recoveryAttempts, writerDescription, onFenced);
    }

    public Options withSnapshotEvery(int entries, long bytes) {
      return new Options(prefix, ackTimeout, entries, bytes, batchBytesMax,
          fenceProbeInterval, retryBackoffMax, recoveryAttempts, writerDescription, onFenced);
    }

    public Options withFenceProbeInterval(Duration d) {
      return new Options(prefix, ackTimeout, snapshotEveryEntries, snapshotEveryBytes, batchBytesMax,
          d, retryBackoffMax, recoveryAttempts, writerDescription, onFenced);
    }

    public Options withRetryBackoffMax(Duration d) {
      return new Options(prefix, ackTimeout, snapshotEveryEntries, snapshotEveryBytes, batchBytesMax,
          fenceProbeInterval, d, recoveryAttempts, writerDescription, onFenced);
    }

    public Options withWriterDescription(String s) {
      return new Options(prefix, ackTimeout, snapshotEveryEntries, snapshotEveryBytes, batchBytesMax,
          fenceProbeInterval, retryBackoffMax, recoveryAttempts, s, onFenced);
    }

    public Options withOnFenced(Consumer<IoFailure> c) {
      return new Options(prefix, ackTimeout, snapshotEveryEntries, snapshotEveryBytes, batchBytesMax,
          fenceProbeInterval, retryBackoffMax, recoveryAttempts, writerDescription, c);
    }
  }

  private static final int QUEUED = 0;
  private static final int TAKEN = 1;
  private static final int DONE = 2;

  /** A transaction waiting for its outcome. */
  private static final class Pending {
    final Txn txn;
    final Scheduler scheduler;
    final Promise<TxnResult> promise;
    final int bytes;
    final AtomicInteger state = new AtomicInteger(QUEUED);
    volatile ScheduledFuture<?> deadline;

    Pending(Txn txn, Scheduler scheduler, Promise<TxnResult> promise) {
      this.txn = txn;
      this.scheduler = scheduler;
      this.promise = promise;
      int b = 0;
      for (Mutation m : txn.mutations()) {
        b += m.key().size() + 8 + (m instanceof Mutation.Put p ? p.value().size() : 0);
      }
      this.bytes = b;
    }

    /** Delivers the final outcome (a later timeout report loses to it, and it loses to an earlier one). */
    void finish(TxnResult result, Throwable failure) {
      state.set(DONE);
      ScheduledFuture<?> d = deadline;
      if (d != null) {
        d.cancel(false);
      }
      scheduler.execute(() -> {
        if (failure != null) {
          promise.fail(failure);
        } else {
          promise.complete(result);
        }
      });
    }
  }

  /** How a log write ended. */
  private sealed interface Outcome {
    record Committed() implements Outcome {}

    /** Not written, certainly. */
    record Failed(IoFailure failure) implements Outcome {}

    /** Another writer owns the sequence number; {@code indefinite} if an attempt of ours may have landed first. */
    record Fenced(String reason, boolean indefinite) implements Outcome {}
  }

  /** The log was changed under a recovery (a concurrent writer or garbage collection): start over. */
  private static final class RestartRecovery extends Exception {
    private static final long serialVersionUID = 1L;

    RestartRecovery(String message) {
      super(message, null, false, false);
    }
  }

  private record Recovered(MetadataState state, long lastSeq) {}

  private final SharedObjectStore store;
  private final Options options;
  private final MetaKeys keys;
  private final ByteString writerId;
  private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
  /** What readers see; mutated only by the writer thread, under the write lock. */
  private final MetadataState committed;
  /** The last log entry of the state in {@link #committed}; guarded like it. */
  private long lastSeq;
  private final LinkedBlockingDeque<Pending> queue = new LinkedBlockingDeque<>();
  private final Thread writer;
  private final ScheduledThreadPoolExecutor timers;
  private final ExecutorService snapshotter;
  private final AtomicBoolean snapshotRunning = new AtomicBoolean();
  private volatile IoFailure fenced;
  private volatile boolean closed;
  // Writer thread only.
  private long entriesSinceSnapshot;
  private long bytesSinceSnapshot;

  private ObjectStoreMetadataStore(SharedObjectStore store, Options options, ByteString writerId, Recovered recovered) {
    this.store = store;
    this.options = options;
    this.keys = new MetaKeys(options.prefix());
    this.writerId = writerId;
    this.committed = recovered.state();
    this.lastSeq = recovered.lastSeq();
    this.timers = new ScheduledThreadPoolExecutor(1, daemon("s2j-meta-timer"));
    this.timers.setRemoveOnCancelPolicy(true);
    this.snapshotter = Executors.newSingleThreadExecutor(daemon("s2j-meta-snapshot"));
    this.writer = daemon("s2j-meta-writer").newThread(this::runWriter);
    this.writer.start();
  }

  /**
   * Recovers the store from {@code store} (the newest snapshot and the log after it), takes over
   * as its only writer (fencing any other), and starts serving. Blocks until done; throws an
   * {@link IoFailure} if the object store keeps failing or another writer keeps winning, and a
   * {@link MetaCodec.FormatException} if an object is damaged or of an unknown format.
   */
  public static ObjectStoreMetadataStore open(SharedObjectStore store, Options options) throws InterruptedException {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(options, "options");
    byte[] id = new byte[WRITER_ID_BYTES];
    new SecureRandom().nextBytes(id);
    ByteString writerId = ByteString.copyFrom(id);
    Opener opener = new Opener(store, options, new MetaKeys(options.prefix()), writerId);
    Recovered recovered = opener.recoverAndTakeOver();
    log.info("metadata store recovered at revision {} (log entry {}), writer {}",
        recovered.state().revision(), recovered.lastSeq(), hex(writerId));
    return new ObjectStoreMetadataStore(store, options, writerId, recovered);
  }

  /** This store as seen from the node whose executor is {@code scheduler}. */
  public MetadataStore view(Scheduler scheduler) {
    Objects.requireNonNull(scheduler, "scheduler");
    return new MetadataStore() {
      @Override
      public Promise<Optional<KeyValue>> get(ByteString key) {
        Objects.requireNonNull(key, "key");
        return read(scheduler, () -> committed.get(key));
      }

      @Override
      public Promise<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit) {
        Objects.requireNonNull(startInclusive, "startInclusive");
        Objects.requireNonNull(endExclusive, "endExclusive");
        if (limit < 1 || limit > SCAN_LIMIT_MAX) {
          throw new IllegalArgumentException("scan limit must be 1.." + SCAN_LIMIT_MAX + ": " + limit);
        }
        return read(scheduler, () -> committed.scan(startInclusive, endExclusive, limit));
      }

      @Override
      public Promise<TxnResult> commit(Txn txn) {
        Objects.requireNonNull(txn, "txn");
        return submit(scheduler, txn);
      }
    };
  }

  /** The revision of the state readers see. */
  public long revision() {
    rw.readLock().lock();
    try {
      return committed.revision();
    } finally {
      rw.readLock().unlock();
    }
  }

  /** The sequence number of the last log entry applied. */
  public long lastLogSeq() {
    rw.readLock().lock();
    try {
      return lastSeq;
    } finally {
      rw.readLock().unlock();
    }
  }

  /** Every entry, in key order (for tests and tools). */
  public List<KeyValue> entries() {
    rw.readLock().lock();
    try {
      return committed.entries();
    } finally {
      rw.readLock().unlock();
    }
  }

  /** The failure this writer was fenced with, if another writer took the store over. */
  public Optional<IoFailure> fencedBy() {
    return Optional.ofNullable(fenced);
  }

  /** This writer incarnation's id, as written in its log entries (hex). */
  public String writerId() {
    return hex(writerId);
  }

  /**
   * Writes a snapshot of the current state now and garbage-collects what it covers; blocks until
   * done. Returns false if the snapshot could not be written (or one was already being written).
   */
  public boolean snapshotNow() throws InterruptedException {
    if (!snapshotRunning.compareAndSet(false, true)) {
      return false;
    }
    SnapshotCopy copy = copy();
    try {
      return snapshotter.submit(() -> writeSnapshotAndCollect(copy)).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("snapshot task threw", e.getCause());
    }
  }

  /** True when no snapshot or garbage collection is running (for tests). */
  boolean snapshotIdle() {
    return !snapshotRunning.get();
  }

  /**
   * Stops the writer: queued transactions fail definitely ({@code UNAVAILABLE}), one whose log
   * write is unresolved gets an indefinite {@code TIMEOUT}. Does not close the object store.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    writer.interrupt();
    try {
      writer.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failQueued(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "metadata store closed"));
    snapshotter.shutdownNow();
    timers.shutdownNow();
    try {
      snapshotter.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- reads and submission (callers' threads) ----

  private <T> Promise<T> read(Scheduler scheduler, Supplier<T> op) {
    Promise<T> promise = Promise.create(scheduler);
    IoFailure refusal = refusal();
    if (refusal != null) {
      scheduler.execute(() -> promise.fail(refusal));
      return promise;
    }
    T result;
    rw.readLock().lock();
    try {
      result = op.get();
    } finally {
      rw.readLock().unlock();
    }
    scheduler.execute(() -> promise.complete(result));
    return promise;
  }

  private IoFailure refusal() {
    IoFailure f = fenced;
    if (f != null) {
      return f;
    }
    if (closed) {
      return IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "metadata store closed");
    }
    return null;
  }

  private Promise<TxnResult> submit(Scheduler scheduler, Txn txn) {
    Promise<TxnResult> promise = Promise.create(scheduler);
    IoFailure refusal = refusal();
    if (refusal != null) {
      scheduler.execute(() -> promise.fail(refusal));
      return promise;
    }
    Pending p = new Pending(txn, scheduler, promise);
    queue.addLast(p);
    try {
      p.deadline = timers.schedule(() -> onDeadline(p), options.ackTimeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Closing: close() fails what is queued.
    }
    if (closed && queue.remove(p) && p.state.compareAndSet(QUEUED, DONE)) {
      p.finish(null, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "metadata store closed"));
    }
    return promise;
  }

  private void onDeadline(Pending p) {
    if (p.state.compareAndSet(QUEUED, DONE)) {
      queue.remove(p);
      p.finish(null, IoFailure.definite(IoFailure.Kind.UNAVAILABLE,
          "transaction not written within " + options.ackTimeout() + " (the metadata log is unavailable)"));
    } else if (p.state.get() == TAKEN) {
      // Its log write is under way: the outcome is unknown until it resolves, and may be either.
      Pending q = p;
      q.scheduler.execute(() -> q.promise.fail(IoFailure.timeout(
          "metadata log write not resolved within " + options.ackTimeout())));
    }
  }

  private void failQueued(IoFailure failure) {
    Pending p;
    while ((p = queue.pollFirst()) != null) {
      if (p.state.compareAndSet(QUEUED, DONE)) {
        p.finish(null, failure);
      }
    }
  }

  // ---- the writer thread ----

  private void runWriter() {
    List<Pending> batch = List.of();
    try {
      while (!closed) {
        long probeNanos = options.fenceProbeInterval().toNanos();
        Pending head = probeNanos > 0
            ? queue.pollFirst(probeNanos, TimeUnit.NANOSECONDS)
            : queue.takeFirst();
        if (head == null) {
          probe();
          continue;
        }
        IoFailure f = fenced;
        if (f != null) {
          if (head.state.compareAndSet(QUEUED, DONE)) {
            head.finish(null, f);
          }
          failQueued(f);
          continue;
        }
        batch = takeBatch(head);
        if (!batch.isEmpty()) {
          commitBatch(batch);
        }
        batch = List.of();
        maybeSnapshot();
      }
    } catch (InterruptedException e) {
      // close()
    } catch (RuntimeException | Error e) {
      log.error("metadata writer failed; the store stops accepting writes", e);
      fence(IoFailure.definite(IoFailure.Kind.REJECTED, "metadata writer failed: " + e));
      throw e;
    } finally {
      for (Pending p : batch) {
        if (p.state.get() != DONE) {
          p.finish(null, IoFailure.timeout("metadata store closed with this transaction's log write unresolved"));
        }
      }
    }
  }

  private List<Pending> takeBatch(Pending head) {
    List<Pending> batch = new ArrayList<>();
    long bytes = 0;
    Pending p = head;
    while (p != null) {
      if (p.state.compareAndSet(QUEUED, TAKEN)) {
        batch.add(p);
        bytes += p.bytes;
      }
      Pending next = queue.peekFirst();
      if (next == null || batch.size() >= BATCH_TXNS_MAX || (!batch.isEmpty() && bytes + next.bytes > options.batchBytesMax())) {
        break;
      }
      p = queue.pollFirst();
    }
    return batch;
  }

  /** Keys written by earlier transactions of the batch being formed, over the committed state. */
  private final class Overlay {
    private final TreeMap<ByteString, Optional<KeyValue>> writes = new TreeMap<>(ByteString.unsignedLexicographicalComparator());

    Optional<KeyValue> get(ByteString key) {
      Optional<KeyValue> w = writes.get(key);
      return w != null ? w : committed.get(key);
    }

    /** The index of the first condition that does not hold, or -1. */
    int firstFailing(List<Condition> conditions) {
      for (int i = 0; i < conditions.size(); i++) {
        Condition c = conditions.get(i);
        KeyValue kv = get(c.key()).orElse(null);
        boolean holds = switch (c) {
          case Condition.Absent a -> kv == null;
          case Condition.RevisionIs r -> kv != null && kv.modRevision() == r.modRevision();
          case Condition.ValueIs v -> kv != null && kv.value().equals(v.value());
        };
        if (!holds) {
          return i;
        }
      }
      return -1;
    }

    void apply(Txn txn, long revision) {
      for (Mutation m : txn.mutations()) {
        switch (m) {
          case Mutation.Put p -> writes.put(p.key(), Optional.of(new KeyValue(p.key(), p.value(), revision)));
          case Mutation.Delete d -> writes.put(d.key(), Optional.empty());
        }
      }
    }
  }

  private void commitBatch(List<Pending> batch) throws InterruptedException {
    long deadline = System.nanoTime() + options.ackTimeout().toNanos();
    Overlay overlay = new Overlay();
    long firstRevision = committed.revision() + 1;
    long revision = committed.revision();
    List<TxnResult> results = new ArrayList<>(batch.size());
    List<Pending> toLog = new ArrayList<>();
    MetaLogEntry.Builder entry = MetaLogEntry.newBuilder();
    for (Pending p : batch) {
      int failing = overlay.firstFailing(p.txn.conditions());
      if (failing >= 0) {
        TxnResult r = new TxnResult.ConditionFailed(failing);
        if (toLog.isEmpty()) {
          // Judged against the committed state only: that is its linearization point, now.
          p.finish(r, null);
          results.add(null);
        } else {
          results.add(r);
        }
        continue;
      }
      revision++;
      overlay.apply(p.txn, revision);
      results.add(new TxnResult.Committed(revision));
      toLog.add(p);
      entry.addTxns(MetaCodec.txnOf(p.txn));
    }
    if (toLog.isEmpty()) {
      return;
    }
    long seq = lastSeq + 1;
    entry.setSeq(seq).setWriterId(writerId).setFirstRevision(firstRevision);
    ByteString bytes = MetaCodec.encodeLog(entry.build());
    Outcome outcome = writeEntry(store, keys, options, seq, bytes, deadline);
    switch (outcome) {
      case Outcome.Committed c -> {
        rw.writeLock().lock();
        try {
          for (Pending p : toLog) {
            TxnResult r = committed.commit(p.txn);
            Invariants.check(r instanceof TxnResult.Committed, "a logged transaction's conditions failed on apply: %s", r);
          }
          Invariants.check(committed.revision() == revision, "revision %s after apply, expected %s", committed.revision(), revision);
          lastSeq = seq;
        } finally {
          rw.writeLock().unlock();
        }
        entriesSinceSnapshot++;
        bytesSinceSnapshot += bytes.size();
        for (int i = 0; i < batch.size(); i++) {
          if (results.get(i) != null) {
            batch.get(i).finish(results.get(i), null);
          }
        }
      }
      case Outcome.Failed f -> failBatch(batch, results, f.failure());
      case Outcome.Fenced f -> {
        IoFailure fencedWith = fencedFailure(f.reason());
        fence(fencedWith);
        failBatch(batch, results, f.indefinite()
            ? IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR,
                "fenced, and an earlier attempt of this write may have been recovered by the new writer: " + f.reason())
            : fencedWith);
      }
    }
  }

  private static void failBatch(List<Pending> batch, List<TxnResult> results, IoFailure failure) {
    for (int i = 0; i < batch.size(); i++) {
      if (results.get(i) != null) {
        batch.get(i).finish(null, failure);
      }
    }
  }

  private static IoFailure fencedFailure(String reason) {
    return IoFailure.definite(IoFailure.Kind.REJECTED, "metadata store fenced: " + reason);
  }

  private void fence(IoFailure failure) {
    synchronized (this) {
      if (fenced != null) {
        return;
      }
      fenced = failure;
    }
    log.error("metadata writer {} is fenced and stops: {}", hex(writerId), failure.getMessage());
    failQueued(failure);
    try {
      options.onFenced().accept(failure);
    } catch (RuntimeException e) {
      log.error("onFenced callback threw", e);
    }
  }

  /** An idle writer checks that no entry or snapshot appeared after its own last entry. */
  private void probe() throws InterruptedException {
    if (fenced != null) {
      return;
    }
    long seq = lastSeq;
    try {
      ListPage logs = awaitOnce(store.list(keys.logPrefix(), keys.log(seq), 1));
      ListPage snaps = awaitOnce(store.list(keys.snapPrefix(), keys.snap(seq), 1));
      for (ObjectSummary o : logs.objects()) {
        fence(fencedFailure("log entry " + o.key() + " appeared after this writer's last entry " + seq
            + ": another writer took over"));
        return;
      }
      for (ObjectSummary o : snaps.objects()) {
        fence(fencedFailure("snapshot " + o.key() + " appeared after this writer's last entry " + seq
            + ": another writer took over"));
        return;
      }
    } catch (IoFailure e) {
      log.debug("fence probe failed (retried at the next idle interval): {}", e.getMessage());
    }
  }

  // ---- snapshots and garbage collection ----

  private record SnapshotCopy(long seq, long revision, List<KeyValue> entries) {}

  private SnapshotCopy copy() {
    rw.readLock().lock();
    try {
      return new SnapshotCopy(lastSeq, committed.revision(), committed.entries());
    } finally {
      rw.readLock().unlock();
    }
  }

  private void maybeSnapshot() {
    if (entriesSinceSnapshot < options.snapshotEveryEntries() && bytesSinceSnapshot < options.snapshotEveryBytes()) {
      return;
    }
    if (!snapshotRunning.compareAndSet(false, true)) {
      return;
    }
    entriesSinceSnapshot = 0;
    bytesSinceSnapshot = 0;
    SnapshotCopy copy = copy();
    try {
      snapshotter.execute(() -> {
        try {
          writeSnapshotAndCollect(copy);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      snapshotRunning.set(false);
    }
  }

  /** Runs on the snapshot thread; clears {@link #snapshotRunning} when done. */
  private boolean writeSnapshotAndCollect(SnapshotCopy copy) throws InterruptedException {
    try {
      if (copy.seq() == 0) {
        return true;
      }
      ObjectKey key = keys.snap(copy.seq());
      ByteString bytes = MetaCodec.encodeSnapshot(MetaCodec.snapshotOf(copy.seq(), copy.revision(), writerId, copy.entries()));
      boolean durable = false;
      for (int attempt = 0; attempt < 5 && !durable; attempt++) {
        if (fenced != null || closed) {
          return false;
        }
        try {
          PutResult r = awaitOnce(store.put(key, bytes, PutCondition.IF_ABSENT));
          // PreconditionFailed: an earlier attempt of ours landed (a snapshot at a sequence number
          // always holds the same state: only verified entries are snapshotted).
          durable = true;
          log.debug("snapshot {} ({}): {} entries, {} bytes", copy.seq(), r, copy.entries().size(), bytes.size());
        } catch (IoFailure e) {
          log.warn("snapshot {} not written (attempt {}): {}", copy.seq(), attempt + 1, e.getMessage());
          Thread.sleep(options.retryBackoffMax().toMillis());
        }
      }
      if (!durable || fenced != null || closed) {
        return false;
      }
      collect(copy.seq());
      return true;
    } finally {
      snapshotRunning.set(false);
    }
  }

  /** Deletes log entries at or before {@code snapSeq} and snapshots before it; failures are left for next time. */
  private void collect(long snapSeq) throws InterruptedException {
    try {
      for (ObjectKey k : listKeys(keys.logPrefix(), null, keys.log(snapSeq))) {
        long s = MetaKeys.seqOf(keys.logPrefix(), k);
        if (s >= 0 && s <= snapSeq) {
          awaitOnce(store.delete(k));
        }
      }
      for (ObjectKey k : listKeys(keys.snapPrefix(), null, keys.snap(snapSeq))) {
        long s = MetaKeys.seqOf(keys.snapPrefix(), k);
        if (s >= 0 && s < snapSeq) {
          awaitOnce(store.delete(k));
        }
      }
    } catch (IoFailure e) {
      log.warn("garbage collection after snapshot {} incomplete (retried after the next one): {}", snapSeq, e.getMessage());
    }
  }

  /** Keys under {@code prefix} after {@code startAfter}, up to and including {@code last}. */
  private List<ObjectKey> listKeys(String prefix, ObjectKey startAfter, ObjectKey last) throws InterruptedException {
    List<ObjectKey> out = new ArrayList<>();
    ObjectKey after = startAfter;
    while (true) {
      ListPage page = awaitOnce(store.list(prefix, after, 1000));
      for (ObjectSummary o : page.objects()) {
        if (last != null && o.key().compareTo(last) > 0) {
          return out;
        }
        out.add(o.key());
      }
      if (!page.truncated() || page.objects().isEmpty()) {
        return out;
      }
      after = page.objects().get(page.objects().size() - 1).key();
    }
  }

  // ---- log writes, shared by the writer and the takeover ----

  /**
   * Writes {@code bytes} as log entry {@code seq} and resolves the outcome. Retries an indefinite
   * outcome with the same bytes for as long as it takes (the sequence number cannot be given up
   * while an attempt may still land); retries a definite failure until {@code deadlineNanos}.
   */
  private static Outcome writeEntry(
      SharedObjectStore store, MetaKeys keys, Options options, long seq, ByteString bytes, long deadlineNanos)
      throws InterruptedException {
    ObjectKey key = keys.log(seq);
    boolean mayHaveLanded = false;
    long backoff = BACKOFF_MIN_NANOS;
    while (true) {
      PutResult result;
      try {
        result = awaitOnce(store.put(key, bytes, PutCondition.IF_ABSENT));
      } catch (IoFailure f) {
        if (f.indefinite()) {
          mayHaveLanded = true;
        } else if (!mayHaveLanded && (f.kind() == IoFailure.Kind.REJECTED || System.nanoTime() - deadlineNanos > 0)) {
          return new Outcome.Failed(f);
        }
        log.warn("metadata log write {} failed, retrying: {}", key, f.getMessage());
        TimeUnit.NANOSECONDS.sleep(backoff);
        backoff = Math.min(backoff * 2, options.retryBackoffMax().toNanos());
        continue;
      }
      if (result instanceof PutResult.Written) {
        return verify(store, keys, options, seq, mayHaveLanded);
      }
      GetResult found = retrying(options, () -> store.get(key, null));
      if (found instanceof GetResult.Found f && f.data().equals(bytes)) {
        // An earlier attempt of ours landed.
        return verify(store, keys, options, seq, mayHaveLanded);
      }
      String owner = found instanceof GetResult.Found f ? describeWriter(key.value(), f.data()) : "a writer whose entry was since garbage-collected";
      return new Outcome.Fenced("log entry " + seq + " was written by " + owner, mayHaveLanded);
    }
  }

  /**
   * After our put at {@code seq} succeeded: a snapshot at or after {@code seq} means that another
   * writer's entry at {@code seq} was garbage-collected before our put, so ours is garbage.
   */
  private static Outcome verify(SharedObjectStore store, MetaKeys keys, Options options, long seq, boolean mayHaveLanded)
      throws InterruptedException {
    ListPage page = retrying(options, () -> store.list(keys.snapPrefix(), keys.snap(seq - 1), 1));
    for (ObjectSummary o : page.objects()) {
      if (MetaKeys.seqOf(keys.snapPrefix(), o.key()) >= seq) {
        return new Outcome.Fenced("snapshot " + o.key() + " covers log entry " + seq
            + ": another writer took over and garbage-collected it", mayHaveLanded);
      }
    }
    return new Outcome.Committed();
  }

  private static String describeWriter(String what, ByteString data) {
    try {
      MetaLogEntry e = MetaCodec.decodeLog(what, data);
      return "writer " + hex(e.getWriterId()) + (e.hasTakeover() ? " (takeover by " + e.getTakeover().getWriterDescription() + ")" : "");
    } catch (MetaCodec.FormatException e) {
      return "an unreadable object (" + e.getMessage() + ")";
    }
  }

  /**
   * Runs a read until it succeeds (reads have no effect, so retrying is always safe), except that a
   * {@code REJECTED} failure (a configuration error) is thrown at once, and so is any failure after
   * the ack timeout when {@code bounded} (recovery: a server that cannot read its store should not
   * hang at start).
   */
  private static <T> T retrying(Options options, Supplier<CompletableFuture<T>> op) throws InterruptedException {
    return retrying(options, op, false);
  }

  private static <T> T retrying(Options options, Supplier<CompletableFuture<T>> op, boolean bounded)
      throws InterruptedException {
    long backoff = BACKOFF_MIN_NANOS;
    long deadline = System.nanoTime() + options.ackTimeout().toNanos();
    while (true) {
      try {
        return awaitOnce(op.get());
      } catch (IoFailure f) {
        if (f.kind() == IoFailure.Kind.REJECTED || (bounded && System.nanoTime() - deadline > 0)) {
          throw f;
        }
        log.warn("metadata store read failed, retrying: {}", f.getMessage());
        TimeUnit.NANOSECONDS.sleep(backoff);
        backoff = Math.min(backoff * 2, options.retryBackoffMax().toNanos());
      }
    }
  }

  /** The future's value; its failure as an {@link IoFailure} (anything else counts as an indefinite server error). */
  private static <T> T awaitOnce(Future<T> future) throws InterruptedException {
    try {
      return future.get();
    } catch (ExecutionException e) {
      Throwable cause = Hops.unwrap(e);
      if (cause instanceof IoFailure f) {
        throw f;
      }
      throw IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, "object store failed: " + cause);
    }
  }

  private static String hex(ByteString b) {
    return HexFormat.of().formatHex(b.toByteArray());
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  // ---- recovery ----

  /** Recovery and takeover, run by {@link #open} on the caller's thread. */
  private static final class Opener {
    private final SharedObjectStore store;
    private final Options options;
    private final MetaKeys keys;
    private final ByteString writerId;

    Opener(SharedObjectStore store, Options options, MetaKeys keys, ByteString writerId) {
      this.store = store;
      this.options = options;
      this.keys = keys;
      this.writerId = writerId;
    }

    Recovered recoverAndTakeOver() throws InterruptedException {
      String last = "";
      for (int attempt = 1; attempt <= options.recoveryAttempts(); attempt++) {
        Recovered rec;
        try {
          rec = recover();
        } catch (RestartRecovery e) {
          last = e.getMessage();
          log.info("metadata recovery restarts (attempt {}): {}", attempt, last);
          continue;
        }
        long seq = rec.lastSeq() + 1;
        MetaLogEntry takeover = MetaLogEntry.newBuilder()
            .setSeq(seq)
            .setWriterId(writerId)
            .setFirstRevision(rec.state().revision() + 1)
            .setTakeover(MetaTakeover.newBuilder()
                .setWallClockMs(System.currentTimeMillis())
                .setWriterDescription(options.writerDescription()))
            .build();
        Outcome o = writeEntry(store, keys, options, seq, MetaCodec.encodeLog(takeover),
            System.nanoTime() + options.ackTimeout().toNanos());
        switch (o) {
          case Outcome.Committed c -> {
            return new Recovered(rec.state(), seq);
          }
          case Outcome.Fenced f -> {
            last = f.reason();
            log.info("metadata takeover at {} lost (attempt {}): {}", seq, attempt, last);
          }
          case Outcome.Failed f -> throw f.failure();
        }
      }
      throw IoFailure.definite(IoFailure.Kind.CONFLICT, "could not take the metadata store over in "
          + options.recoveryAttempts() + " attempts; another writer keeps changing it: " + last);
    }

    private Recovered recover() throws InterruptedException, RestartRecovery {
      long snapSeq = newestSnapshot();
      MetadataState state = new MetadataState();
      if (snapSeq > 0) {
        ObjectKey key = keys.snap(snapSeq);
        GetResult g = retrying(options, () -> store.get(key, null), true);
        if (!(g instanceof GetResult.Found found)) {
          throw new RestartRecovery("snapshot " + key + " vanished (a newer one was written)");
        }
        MetaSnapshot snapshot = MetaCodec.decodeSnapshot(key.value(), found.data());
        if (snapshot.getSeq() != snapSeq) {
          throw new MetaCodec.FormatException(key + " holds the snapshot of entry " + snapshot.getSeq());
        }
        state = MetaCodec.stateOf(key.value(), snapshot);
      }
      List<Long> seqs = new ArrayList<>();
      ObjectKey after = keys.log(snapSeq);
      while (true) {
        ObjectKey a = after;
        ListPage page = retrying(options, () -> store.list(keys.logPrefix(), a, 1000), true);
        for (ObjectSummary o : page.objects()) {
          long s = MetaKeys.seqOf(keys.logPrefix(), o.key());
          if (s < 0) {
            log.warn("ignoring foreign object {} in the metadata log", o.key());
            continue;
          }
          long expected = snapSeq + seqs.size() + 1;
          if (s != expected) {
            throw new RestartRecovery("log entry " + expected + " is missing (next is " + s + ")");
          }
          seqs.add(s);
        }
        if (!page.truncated() || page.objects().isEmpty()) {
          break;
        }
        after = page.objects().get(page.objects().size() - 1).key();
      }
      ArrayDeque<CompletableFuture<GetResult>> window = new ArrayDeque<>();
      int next = 0;
      for (int i = 0; i < seqs.size(); i++) {
        while (next < seqs.size() && next < i + RECOVERY_FETCH_WINDOW) {
          window.addLast(store.get(keys.log(seqs.get(next)), null));
          next++;
        }
        long s = seqs.get(i);
        ObjectKey key = keys.log(s);
        CompletableFuture<GetResult> f = window.pollFirst();
        GetResult g;
        try {
          g = awaitOnce(f);
        } catch (IoFailure e) {
          g = retrying(options, () -> store.get(key, null), true);
        }
        if (!(g instanceof GetResult.Found found)) {
          throw new RestartRecovery("log entry " + key + " vanished (garbage-collected after a newer snapshot)");
        }
        replay(state, key.value(), s, MetaCodec.decodeLog(key.value(), found.data()));
      }
      // An entry read above could be a displaced writer's garbage only if the entry it replaced was
      // deleted, which happens only after a snapshot at or after it is durable: seeing no newer
      // snapshot now proves every entry read was the real one.
      long newest = newestSnapshot();
      if (newest != snapSeq) {
        throw new RestartRecovery("snapshot " + newest + " appeared during recovery from " + snapSeq);
      }
      return new Recovered(state, snapSeq + seqs.size());
    }

    private long newestSnapshot() throws InterruptedException {
      long newest = 0;
      ObjectKey after = null;
      while (true) {
        ObjectKey a = after;
        ListPage page = retrying(options, () -> store.list(keys.snapPrefix(), a, 1000), true);
        for (ObjectSummary o : page.objects()) {
          newest = Math.max(newest, MetaKeys.seqOf(keys.snapPrefix(), o.key()));
        }
        if (!page.truncated() || page.objects().isEmpty()) {
          return newest;
        }
        after = page.objects().get(page.objects().size() - 1).key();
      }
    }

    private static void replay(MetadataState state, String what, long seq, MetaLogEntry entry) {
      if (entry.getSeq() != seq) {
        throw new MetaCodec.FormatException(what + " holds entry " + entry.getSeq());
      }
      if (entry.getFirstRevision() != state.revision() + 1) {
        throw new MetaCodec.FormatException(what + " starts at revision " + entry.getFirstRevision()
            + " but the state is at " + state.revision());
      }
      for (MetaTxn t : entry.getTxnsList()) {
        long expected = state.revision() + 1;
        TxnResult r = state.commit(MetaCodec.replayTxn(what, t));
        if (!(r instanceof TxnResult.Committed c) || c.revision() != expected) {
          throw new MetaCodec.FormatException(what + ": replay gave " + r + ", expected revision " + expected);
        }
      }
    }
  }
}
