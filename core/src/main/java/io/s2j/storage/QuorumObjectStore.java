package io.s2j.storage;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * One logical bucket over three zonal buckets (the express storage class): a write is durable
 * once two of the three replicas hold it, and a read answers from any two that agree, so either
 * survives one zone down. Written for create-once keys (the channel's write-ahead log); see
 * docs/design.md, "Express storage: a quorum of three zonal buckets", for the failure cases.
 *
 * <p>Each replica accepts the first create of a key ({@code If-None-Match: *}) and refuses the
 * rest, so it is a one-shot acceptor: at most one value can ever sit on two of three replicas,
 * and a value on two is <em>decided</em>. The rules:
 *
 * <ul>
 *   <li><b>put</b> goes to all three and is {@code Written} as soon as two replicas wrote it, and
 *       {@code PreconditionFailed} as soon as two refused it while none wrote it. When writers
 *       split the replicas (this one wrote some, others were refused), a read decides the key and
 *       the put is {@code Written} exactly when the decided value is its bytes. Otherwise, once
 *       every replica answered, a failure — indefinite if any replica may hold the bytes.
 *   <li><b>get</b> answers as soon as two replicas agree (same object, by etag, or both absent).
 *       If no two agree it <em>decides</em> the key: the found value with the least etag is
 *       copied into the replicas that lack the key ({@code If-None-Match}; like a write that
 *       applied late, as S3 allows), or, when all three hold different values, over the other two
 *       ({@code If-Match}); every reader picks the same value, so racing readers converge. With a
 *       replica unreachable, two different values may hide a decided one, so only absent replicas
 *       are filled then, and a read that cannot decide fails (definite). When all three answered
 *       and one disagrees with the decided value, it is repaired in the background, so that a
 *       later outage of another zone still finds two agreeing replicas.
 *   <li><b>list</b> lists all three and keeps a key when two replicas list it with one etag, drops
 *       it when two do not list it, and otherwise resolves it with a get.
 *   <li><b>delete</b> deletes on all three and succeeds once two did.
 *   <li>A create decided on two replicas writes the third again in the background when its write
 *       failed (a few times, backing off), and overwrites it when it holds another writer's bytes,
 *       so that the key soon sits on all three and any one zone may go down.
 * </ul>
 *
 * <p>{@code IfMatch} and unconditional puts work the same way (two of three), relying on equal
 * bytes getting equal etags in every replica (S3's MD5 etag, the simulator's hash); nothing in the
 * log uses them. A refused create whose late-applying copy is then chosen by a decision becomes
 * the value after all, like a timed-out create that applied: callers that must know whose a key
 * is read it, as the channel does after any refused create. A deleted object whose delete missed one replica can be rolled forward again if
 * it is read while another zone is down; the channel deletes only chunks below {@code
 * first_live_chunk}, which nothing reads as live, so that leftover is garbage, never data.
 */
public final class QuorumObjectStore implements ObjectStore {
  public static final int REPLICAS = 3;
  static final int QUORUM = 2;
  /** How often one get rolls a key forward before giving up (a racing writer can win each time). */
  static final int ROLL_FORWARD_ATTEMPTS_MAX = 3;
  /** Background writes of a decided key into a replica whose write failed: attempts and first delay. */
  static final int COMPLETE_ATTEMPTS_MAX = 5;
  static final long COMPLETE_BACKOFF_NANOS = 50_000_000L;

  private final Scheduler scheduler;
  private final List<ObjectStore> replicas;
  private final boolean ackOnOneZone;
  private final Counters counters;

  /** What the quorum did, for reports. */
  public static final class Counters {
    long puts;
    long replicaPuts;
    long rollForwards;
    long contendedPuts;
    long repairs;
    long completions;
    long undecidedReads;

    public long puts() {
      return puts;
    }

    /** Replica PUTs started (about three per put). */
    public long replicaPuts() {
      return replicaPuts;
    }

    public long rollForwards() {
      return rollForwards;
    }

    /** Puts that split the replicas with another writer and were settled by a read. */
    public long contendedPuts() {
      return contendedPuts;
    }

    public long repairs() {
      return repairs;
    }

    /** Background writes into a replica whose write of a decided key had failed. */
    public long completions() {
      return completions;
    }

    public long undecidedReads() {
      return undecidedReads;
    }
  }

  /**
   * @param scheduler the owner's executor (the replicas' promises complete on it)
   * @param replicas the three zonal buckets, as seen from the owner
   */
  public QuorumObjectStore(Scheduler scheduler, List<ObjectStore> replicas) {
    this(scheduler, replicas, false);
  }

  /**
   * A quorum store that, when {@code ackOnOneZone}, reports a put written once one replica wrote
   * it: the planted bug {@code express-ack-on-one-zone}, for the simulator's planted-bug runs only.
   */
  public QuorumObjectStore(Scheduler scheduler, List<ObjectStore> replicas, boolean ackOnOneZone) {
    Invariants.check(replicas.size() == REPLICAS, "a quorum store has %d replicas, not %d", REPLICAS, replicas.size());
    this.scheduler = scheduler;
    this.replicas = List.copyOf(replicas);
    this.ackOnOneZone = ackOnOneZone;
    this.counters = new Counters();
  }

  public Counters counters() {
    return counters;
  }

  // ---------------------------------------------------------------- put

  @Override
  public Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    Promise<PutResult> result = Promise.create(scheduler);
    counters.puts++;
    int[] written = {0};
    int[] refused = {0};
    int[] reported = {0};
    boolean[] refusedBy = new boolean[REPLICAS];
    boolean[] writtenBy = new boolean[REPLICAS];
    List<IoFailure> failures = new ArrayList<>();
    ETag[] etag = {null};
    for (int i = 0; i < REPLICAS; i++) {
      int replica = i;
      counters.replicaPuts++;
      replicas.get(i).put(key, data, condition).onComplete((r, f) -> {
        reported[0]++;
        if (f != null) {
          failures.add(asIoFailure(f));
        } else if (r instanceof PutResult.Written w) {
          written[0]++;
          writtenBy[replica] = true;
          if (etag[0] == null) {
            etag[0] = w.etag();
          }
        } else {
          refused[0]++;
          refusedBy[replica] = true;
        }
        if (reported[0] == REPLICAS && written[0] >= QUORUM && written[0] < REPLICAS
            && condition instanceof PutCondition.IfAbsent) {
          // Decided as these bytes on two replicas only. A replica holding another writer's bytes
          // is brought in line now, and one whose write failed is written again in the
          // background: otherwise another writer could land there later, and an outage of either
          // zone that agrees would then leave no two agreeing.
          for (int j = 0; j < REPLICAS; j++) {
            if (refusedBy[j]) {
              repairReplica(j, key, data);
            } else if (!writtenBy[j]) {
              completeReplica(j, key, data, 0);
            }
          }
        }
        if (result.isDone()) {
          return;
        }
        if (written[0] >= QUORUM || (ackOnOneZone && written[0] >= 1)) {
          result.complete(new PutResult.Written(etag[0]));
        } else if (written[0] == 0 && refused[0] >= QUORUM) {
          result.complete(new PutResult.PreconditionFailed());
        } else if (reported[0] == REPLICAS) {
          boolean mayHold = written[0] > 0 || failures.stream().anyMatch(IoFailure::indefinite);
          String what = "PUT " + key + ": " + written[0] + " of 3 zones wrote it, " + refused[0] + " refused";
          if (written[0] == 0 && refused[0] == 0) {
            result.fail(combined(failures, mayHold, what));
          } else {
            resolvePut(key, data, refused[0], mayHold, combined(failures, mayHold, what), result);
          }
        }
      });
    }
    return result;
  }

  /** Writes a decided key's bytes into replica {@code i}, whose write failed, again (background, bounded). */
  private void completeReplica(int i, ObjectKey key, ByteString data, int attempt) {
    if (attempt >= COMPLETE_ATTEMPTS_MAX) {
      return; // a read that sees the replica lacking the key copies it then
    }
    scheduler.schedule(COMPLETE_BACKOFF_NANOS << attempt, () -> {
      counters.completions++;
      replicas.get(i).put(key, data, PutCondition.IF_ABSENT).onComplete((r, f) -> {
        if (f != null) {
          completeReplica(i, key, data, attempt + 1);
        } else if (r instanceof PutResult.PreconditionFailed) {
          repairReplica(i, key, data);
        }
      });
    });
  }

  /** Overwrites replica {@code i}'s other value of a key decided as {@code data} (background). */
  private void repairReplica(int i, ObjectKey key, ByteString data) {
    replicas.get(i).get(key).onComplete((g, f) -> {
      if (f == null && g instanceof GetResult.Found other && !other.data().equals(data)) {
        counters.repairs++;
        replicas.get(i).put(key, data, PutCondition.ifMatch(other.etag())).onComplete((r, e) -> { });
      }
    });
  }

  /**
   * Writers split the replicas (some wrote, some were refused): a read decides the key (rolling
   * it forward or breaking the tie), and tells whether the decided value is these bytes.
   */
  private void resolvePut(ObjectKey key, ByteString data, int refused, boolean mayHold, IoFailure undecided,
      Promise<PutResult> result) {
    counters.contendedPuts++;
    Promise<GetResult> decided = Promise.create(scheduler);
    read(key, null, 0, decided);
    decided.onComplete((r, f) -> {
      if (r instanceof GetResult.Found found && found.data().equals(data)) {
        result.complete(new PutResult.Written(found.etag()));
      } else if (r instanceof GetResult.Found) {
        result.complete(new PutResult.PreconditionFailed());
      } else if (!mayHold && refused > 0) {
        result.complete(new PutResult.PreconditionFailed());
      } else {
        result.fail(undecided);
      }
    });
  }

  // ---------------------------------------------------------------- delete

  @Override
  public Promise<Done> delete(ObjectKey key) {
    Promise<Done> result = Promise.create(scheduler);
    int[] deleted = {0};
    int[] reported = {0};
    List<IoFailure> failures = new ArrayList<>();
    for (ObjectStore replica : replicas) {
      replica.delete(key).onComplete((d, f) -> {
        reported[0]++;
        if (f != null) {
          failures.add(asIoFailure(f));
        } else {
          deleted[0]++;
        }
        if (result.isDone()) {
          return;
        }
        if (deleted[0] >= QUORUM) {
          result.complete(Done.DONE);
        } else if (reported[0] == REPLICAS) {
          boolean mayHave = deleted[0] > 0 || failures.stream().anyMatch(IoFailure::indefinite);
          result.fail(combined(failures, mayHave, "DELETE " + key + ": " + deleted[0] + " of 3 zones deleted it"));
        }
      });
    }
    return result;
  }

  // ---------------------------------------------------------------- get

  @Override
  public Promise<GetResult> get(ObjectKey key) {
    Promise<GetResult> result = Promise.create(scheduler);
    read(key, null, 0, result);
    return result;
  }

  @Override
  public Promise<GetResult> get(ObjectKey key, ByteRange range) {
    Promise<GetResult> result = Promise.create(scheduler);
    read(key, range, 0, result);
    return result;
  }

  /** What one replica said about a key: its answer (null if it failed) and a comparable identity. */
  private record Answer(int replica, GetResult result, IoFailure failure) {
    /** Equal for the same object version, or for "absent"; null for a failure. */
    String identity() {
      if (result == null) {
        return null;
      }
      return switch (result) {
        case GetResult.Found f -> "found:" + f.etag().value() + ":" + f.objectBytes();
        case GetResult.NotFound n -> "absent";
        case GetResult.RangeNotSatisfiable r -> "short:" + r.objectBytes();
      };
    }
  }

  private void read(ObjectKey key, ByteRange range, int rollForwards, Promise<GetResult> result) {
    List<Answer> answers = new ArrayList<>();
    for (int i = 0; i < REPLICAS; i++) {
      int replica = i;
      Promise<GetResult> p = range == null ? replicas.get(i).get(key) : replicas.get(i).get(key, range);
      p.onComplete((r, f) -> {
        answers.add(f != null ? new Answer(replica, null, asIoFailure(f)) : new Answer(replica, r, null));
        decideRead(key, range, rollForwards, answers, result);
      });
    }
  }

  private void decideRead(ObjectKey key, ByteRange range, int rollForwards, List<Answer> answers,
      Promise<GetResult> result) {
    TreeMap<String, List<Answer>> byIdentity = new TreeMap<>();
    for (Answer a : answers) {
      if (a.identity() != null) {
        byIdentity.computeIfAbsent(a.identity(), k -> new ArrayList<>()).add(a);
      }
    }
    Answer decided = null;
    for (List<Answer> same : byIdentity.values()) {
      if (same.size() >= QUORUM) {
        decided = same.get(0);
      }
    }
    if (decided != null) {
      if (!result.isDone()) {
        result.complete(decided.result());
      }
      if (answers.size() == REPLICAS && range == null) {
        repair(key, decided, answers);
      }
      return;
    }
    if (answers.size() < REPLICAS || result.isDone()) {
      return;
    }
    // Every replica answered and no two agree.
    counters.undecidedReads++;
    List<IoFailure> failures = answers.stream().map(Answer::failure).filter(f -> f != null).toList();
    boolean anyPresent = answers.stream().anyMatch(a -> a.result() != null && !(a.result() instanceof GetResult.NotFound));
    boolean anyAbsent = answers.stream().anyMatch(a -> a.result() instanceof GetResult.NotFound);
    // With a replica unreachable, two different values may hide a decided one (the third may hold
    // either), so only an absent replica may be filled then; with all three answering, any rule
    // every reader applies alike decides safely.
    boolean decidable = anyPresent && (anyAbsent || failures.isEmpty());
    if (!decidable || rollForwards >= ROLL_FORWARD_ATTEMPTS_MAX) {
      result.fail(IoFailure.definite(failures.isEmpty() ? IoFailure.Kind.UNAVAILABLE : definiteKind(failures),
          "GET " + key + ": no two of 3 zones agree (" + String.join(", ", byIdentity.keySet()) + ", "
              + failures.size() + " failed)"));
      return;
    }
    if (range != null) {
      // Decide on whole objects, then read the range again.
      Promise<GetResult> whole = Promise.create(scheduler);
      read(key, null, rollForwards, whole);
      whole.onComplete((w, wf) -> read(key, range, rollForwards + 1, result));
      return;
    }
    decide(key, answers, rollForwards, result);
  }

  /**
   * Decides a key no two replicas agree on, then reads it again: the value with the least etag
   * among those found is copied into the replicas where the key is absent ({@code If-None-Match}),
   * or, when every replica holds a different value, over the others ({@code If-Match}). Safe: no
   * value was decided (no two replicas agreed, and with a replica unreachable only absent replicas
   * are filled, which no decided value can be missing from twice), nobody was told {@code
   * Written}, and every reader picks the same value, so racing readers converge.
   */
  private void decide(ObjectKey key, List<Answer> answers, int rollForwards, Promise<GetResult> result) {
    counters.rollForwards++;
    Answer chosen = null;
    for (Answer a : answers) {
      if (a.result() instanceof GetResult.Found f
          && (chosen == null || f.etag().value().compareTo(((GetResult.Found) chosen.result()).etag().value()) < 0)) {
        chosen = a;
      }
    }
    GetResult.Found value = (GetResult.Found) chosen.result();
    boolean anyAbsent = answers.stream().anyMatch(a -> a.result() instanceof GetResult.NotFound);
    List<Promise<PutResult>> copies = new ArrayList<>();
    for (Answer a : answers) {
      if (a.result() instanceof GetResult.NotFound) {
        copies.add(replicas.get(a.replica()).put(key, value.data(), PutCondition.IF_ABSENT).handle((r, e) -> r));
      } else if (!anyAbsent && a.result() instanceof GetResult.Found other && !other.etag().equals(value.etag())) {
        copies.add(replicas.get(a.replica()).put(key, value.data(), PutCondition.ifMatch(other.etag())).handle((r, e) -> r));
      }
    }
    Promise.all(scheduler, copies).onComplete((r, e) -> read(key, null, rollForwards + 1, result));
  }

  /** Brings a replica that disagrees with the decided value in line (background; failures ignored). */
  private void repair(ObjectKey key, Answer decided, List<Answer> answers) {
    if (!(decided.result() instanceof GetResult.Found f)) {
      // An absent majority is never "repaired" by deleting the odd copy: a delete cannot be made
      // conditional, and it could remove a value being created right now.
      return;
    }
    for (Answer a : answers) {
      String id = a.identity();
      if (id == null || id.equals(decided.identity())) {
        continue;
      }
      PutCondition condition = a.result() instanceof GetResult.Found other
          ? PutCondition.ifMatch(other.etag())
          : PutCondition.IF_ABSENT;
      counters.repairs++;
      replicas.get(a.replica()).put(key, f.data(), condition).onComplete((r, e) -> { });
    }
  }

  // ---------------------------------------------------------------- list

  @Override
  public Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    Invariants.check(limit >= 1 && limit <= LIST_LIMIT_MAX, "list limit %d out of range", limit);
    Promise<ListPage> result = Promise.create(scheduler);
    listFrom(prefix, startAfter, limit, result);
    return result;
  }

  private void listFrom(String prefix, ObjectKey startAfter, int limit, Promise<ListPage> result) {
    List<ListPage> pages = new ArrayList<>();
    List<IoFailure> failures = new ArrayList<>();
    int[] reported = {0};
    for (ObjectStore replica : replicas) {
      replica.list(prefix, startAfter, limit).onComplete((page, f) -> {
        reported[0]++;
        if (f != null) {
          failures.add(asIoFailure(f));
        } else {
          pages.add(page);
        }
        if (reported[0] == REPLICAS) {
          if (pages.size() < QUORUM) {
            result.fail(IoFailure.definite(definiteKind(failures), "LIST " + prefix + ": " + pages.size() + " of 3 zones answered"));
          } else {
            merge(prefix, limit, pages, result);
          }
        }
      });
    }
  }

  private void merge(String prefix, int limit, List<ListPage> pages, Promise<ListPage> result) {
    ObjectKey cutoff = null;
    for (ListPage p : pages) {
      if (p.truncated()) {
        ObjectKey last = p.objects().get(p.objects().size() - 1).key();
        cutoff = cutoff == null || last.compareTo(cutoff) < 0 ? last : cutoff;
      }
    }
    TreeMap<ObjectKey, List<ObjectSummary>> seen = new TreeMap<>();
    for (ListPage p : pages) {
      for (ObjectSummary o : p.objects()) {
        if (cutoff == null || o.key().compareTo(cutoff) <= 0) {
          seen.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
        }
      }
    }
    int answered = pages.size();
    TreeMap<ObjectKey, Promise<ObjectSummary>> kept = new TreeMap<>();
    for (var e : seen.entrySet()) {
      List<ObjectSummary> copies = e.getValue();
      ObjectSummary agreed = agreed(copies);
      if (agreed != null) {
        kept.put(e.getKey(), Promise.completed(scheduler, agreed));
      } else if (answered - copies.size() < QUORUM) {
        ObjectKey k = e.getKey();
        Promise<GetResult> got = Promise.create(scheduler);
        read(k, null, 0, got);
        kept.put(k, got.map(r -> r instanceof GetResult.Found f ? new ObjectSummary(k, f.objectBytes(), f.etag()) : null));
      }
    }
    boolean moreBeyond = cutoff != null;
    List<Promise<ObjectSummary>> pending = new ArrayList<>(kept.values());
    ObjectKey resumeAfter = cutoff;
    Promise.all(scheduler, pending).onComplete((summaries, f) -> {
      if (f != null) {
        result.fail(f);
        return;
      }
      List<ObjectSummary> out = new ArrayList<>();
      boolean truncated = moreBeyond;
      for (ObjectSummary s : summaries) {
        if (s == null) {
          continue;
        }
        if (out.size() == limit) {
          truncated = true;
          break;
        }
        out.add(s);
      }
      if (out.isEmpty() && truncated) {
        // Everything up to the cutoff was dropped: a page must not be empty and truncated.
        listFrom(prefix, resumeAfter, limit, result);
      } else {
        result.complete(new ListPage(out, truncated));
      }
    });
  }

  /** The summary two or more replicas agree on (same etag), or null. */
  private static ObjectSummary agreed(List<ObjectSummary> copies) {
    for (int i = 0; i < copies.size(); i++) {
      for (int j = i + 1; j < copies.size(); j++) {
        if (copies.get(i).etag().equals(copies.get(j).etag())) {
          return copies.get(i);
        }
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- failures

  private static IoFailure asIoFailure(Throwable f) {
    if (f instanceof IoFailure io) {
      return io;
    }
    throw new IllegalStateException("a replica failed with " + f, f);
  }

  private static IoFailure.Kind definiteKind(List<IoFailure> failures) {
    for (IoFailure f : failures) {
      if (f.kind() == IoFailure.Kind.REJECTED || f.kind() == IoFailure.Kind.THROTTLED || f.kind() == IoFailure.Kind.CONFLICT) {
        return f.kind();
      }
    }
    return IoFailure.Kind.UNAVAILABLE;
  }

  private static IoFailure combined(List<IoFailure> failures, boolean indefinite, String message) {
    if (!indefinite) {
      return IoFailure.definite(definiteKind(failures), message);
    }
    boolean timedOut = failures.stream().anyMatch(f -> f.kind() == IoFailure.Kind.TIMEOUT);
    return timedOut ? IoFailure.timeout(message) : IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, message);
  }
}
