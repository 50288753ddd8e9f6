package io.s2j.sim.cell;

import com.google.protobuf.ByteString;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.channel.proto.AppendAckProto;
import io.s2j.channel.proto.PositionProto;
import io.s2j.frontend.AppendSession;
import io.s2j.frontend.DataPlane;
import io.s2j.runtime.Invariants;
import io.s2j.frontend.Outcome;
import io.s2j.frontend.ReadResult;
import io.s2j.frontend.Catalog;
import io.s2j.record.AppendRecord;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.Env;
import io.s2j.sim.channel.AppendHistory;
import io.s2j.sim.history.StreamHistories;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The workload of a cell scenario, running on a frontend node as an embedded client would: it
 * makes sure the basin and its streams exist (idempotent creates), then appends (sometimes with
 * {@code match_seq_num}), reads and checks tails through the frontend's data path, recording
 * everything in the run's history. Stream {@code i} is history key {@code i + 1}.
 */
public final class CellClient {
  public static final BasinName BASIN = new BasinName("cell-basin-1");

  private final Env env;
  private final Catalog catalog;
  private final DataPlane data;
  private final List<StreamName> streams;
  private final AppendHistory history;
  private final StreamHistories histories;
  private final long[] stopIssuingAtNanos;
  private final TreeMap<Integer, Long> knownTail = new TreeMap<>();
  private final TreeMap<Integer, String> knownToken = new TreeMap<>();
  private final String name;
  private final List<String> storageErrors;
  private final List<io.s2j.api.StorageClass> storageClasses;
  private long op;

  public CellClient(Env env, Catalog catalog, DataPlane data, List<StreamName> streams, AppendHistory history,
      StreamHistories histories, long[] stopIssuingAtNanos) {
    this(env, catalog, data, streams, history, histories, stopIssuingAtNanos, new ArrayList<>());
  }

  /**
   * @param storageErrors receives every read that failed with S2's {@code storage} error (stored
   *     bytes that failed their checks, or a segment that metadata names and the bucket lacks):
   *     nothing in the cell corrupts or loses objects, so the scenario counts each as a violation
   */
  public CellClient(Env env, Catalog catalog, DataPlane data, List<StreamName> streams, AppendHistory history,
      StreamHistories histories, long[] stopIssuingAtNanos, List<String> storageErrors) {
    this(env, catalog, data, streams, List.of(), history, histories, stopIssuingAtNanos, storageErrors);
  }

  /**
   * @param storageClasses the storage class each stream is created with (by index), or empty for
   *     the basin's default
   */
  public CellClient(Env env, Catalog catalog, DataPlane data, List<StreamName> streams,
      List<io.s2j.api.StorageClass> storageClasses, AppendHistory history, StreamHistories histories,
      long[] stopIssuingAtNanos, List<String> storageErrors) {
    this.storageClasses = List.copyOf(storageClasses);
    this.storageErrors = storageErrors;
    this.env = env;
    this.catalog = catalog;
    this.data = data;
    this.streams = List.copyOf(streams);
    this.history = history;
    this.histories = histories;
    this.stopIssuingAtNanos = stopIssuingAtNanos;
    this.name = env.node().value() + "#" + env.random().nextLong(0, 1_000_000);
    env.scheduler().execute(this::setUp);
  }

  /** Creates the basin, retrying (the same token and config make a retry a no-op) until it exists. */
  private void setUp() {
    if (env.clock().nowNanos() >= stopIssuingAtNanos[0]) {
      return;
    }
    catalog.createBasin(BASIN, BasinConfig.DEFAULT, "cell-token").onComplete((b, f) -> {
      if (f == null && exists(b)) {
        createStream(0);
      } else {
        env.scheduler().schedule(200_000_000L, this::setUp);
      }
    });
  }

  private static boolean exists(Outcome<?> o) {
    return o instanceof Outcome.Ok || (o instanceof Outcome.Failed<?> failed
        && failed.error().code() == io.s2j.api.ErrorCode.RESOURCE_ALREADY_EXISTS);
  }

  private void createStream(int i) {
    if (i == streams.size()) {
      next();
      return;
    }
    if (env.clock().nowNanos() >= stopIssuingAtNanos[0]) {
      return;
    }
    StreamConfigSpec spec = storageClasses.isEmpty() ? StreamConfigSpec.EMPTY
        : new StreamConfigSpec(storageClasses.get(i), null, null, null, null);
    catalog.createStream(BASIN, streams.get(i), spec, "cell-token").onComplete((s, f) -> {
      if (f == null && exists(s)) {
        createStream(i + 1);
      } else {
        env.scheduler().schedule(200_000_000L, () -> createStream(i));
      }
    });
  }

  private void thenNext() {
    env.scheduler().schedule(env.random().nextLong(0, 30_000_000L), this::next);
  }

  private void next() {
    if (env.clock().nowNanos() >= stopIssuingAtNanos[0]) {
      return;
    }
    int i = env.random().nextInt(streams.size());
    double roll = env.random().nextDouble();
    if (roll < 0.12) {
      read(i);
    } else if (roll < 0.16) {
      readAll(i);
    } else if (roll < 0.25) {
      tail(i);
    } else if (roll < 0.3) {
      follow(i);
    } else if (roll < 0.43) {
      sessionBurst(i);
    } else {
      append(i);
    }
  }

  private static PositionProto proto(StreamPosition p) {
    return PositionProto.newBuilder().setSeqNum(p.seqNum()).setTimestamp(p.timestamp()).build();
  }

  /**
   * A batch of 1–4 records with unique bodies: sometimes with client timestamps (some older than
   * the stream's tail, which the stream must raise), sometimes starting with a fence command that
   * sets a fresh token, sometimes presenting the token this client last saw.
   */
  private AppendInput nextInput(int i, Long match, List<String> bodies) {
    int count = 1 + env.random().nextInt(4);
    List<AppendRecord> records = new ArrayList<>();
    boolean stamped = env.random().chance(0.3);
    if (env.random().chance(0.05)) {
      String token = name + "/f" + op;
      bodies.add(token);
      records.add(io.s2j.record.Command.toRecord(new io.s2j.record.Command.Fence(token)));
    }
    for (int j = records.size(); j < count; j++) {
      String body = name + "/" + op + "/" + j;
      bodies.add(body);
      Long timestamp = stamped ? Math.max(0, env.clock().wallMillis() - env.random().nextLong(0, 2_000)) : null;
      records.add(new AppendRecord(timestamp, List.of(), ByteString.copyFromUtf8(body)));
    }
    op++;
    String token = env.random().chance(0.15) ? knownToken.getOrDefault(i, "") : null;
    return new AppendInput(AppendBatch.validate(records).orThrow(), match, token);
  }

  private void append(int i) {
    List<String> bodies = new ArrayList<>();
    Long match = env.random().chance(0.25) ? knownTail.getOrDefault(i, 0L) : null;
    AppendInput input = nextInput(i, match, bodies);
    AppendHistory.Attempt attempt = history.invoke(name, i + 1, bodies, match, input.fencingToken(), env.clock().nowNanos());
    StreamHistories.Call call = started(i, input);
    data.append(BASIN, streams.get(i), input).onComplete((outcome, failure) -> {
      record(i, attempt, call, outcome, failure);
      thenNext();
    });
  }

  private StreamHistories.Call started(int i, AppendInput input) {
    List<ByteString> bodies = new ArrayList<>();
    String setToken = null;
    for (AppendRecord r : input.batch().records()) {
      bodies.add(r.body());
      if (io.s2j.record.Command.isCommand(r.headers()) && r.headers().get(0).value().equals(io.s2j.record.Command.FENCE)) {
        setToken = r.body().toStringUtf8();
      }
    }
    return histories.appendStarted(streams.get(i).value(), bodies, input.matchSeqNum(), input.fencingToken(), setToken,
        env.clock().nowNanos());
  }

  /**
   * Several inputs through one append session at once: each is an append of the history, and the
   * acked ones must have been applied in input order.
   */
  private void sessionBurst(int i) {
    AppendSession session = data.openAppendSession(BASIN, streams.get(i));
    int inputs = 2 + env.random().nextInt(6);
    long[] lastAckEnd = {-1};
    int[] remaining = {inputs};
    for (int k = 0; k < inputs; k++) {
      List<String> bodies = new ArrayList<>();
      Long match = k == 0 && env.random().chance(0.25) ? knownTail.getOrDefault(i, 0L) : null;
      AppendInput input = nextInput(i, match, bodies);
      AppendHistory.Attempt attempt = history.invoke(name, i + 1, bodies, match, input.fencingToken(), env.clock().nowNanos());
      StreamHistories.Call call = started(i, input);
      session.submit(input).onComplete((outcome, failure) -> {
        if (outcome instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck a) {
          Invariants.check(a.start().seqNum() >= lastAckEnd[0],
              "append session acks out of input order: %s after end %d", a, lastAckEnd[0]);
          lastAckEnd[0] = a.end().seqNum();
        }
        record(i, attempt, call, outcome, failure);
        if (--remaining[0] == 0) {
          session.close();
          thenNext();
        }
      });
    }
  }

  private void record(int i, AppendHistory.Attempt attempt, StreamHistories.Call call, Outcome<AppendResult> outcome, Throwable failure) {
    long now = env.clock().nowNanos();
    if (failure != null) {
      throw new IllegalStateException("append failed with a bug", failure);
    }
    switch (outcome) {
      case Outcome.Ok<AppendResult> ok -> {
        switch (ok.value()) {
          case AppendAck a -> {
            histories.appendAcked(call, a.start().seqNum(), a.end().seqNum(), now);
            history.complete(attempt, AppendHistory.Outcome.OK, AppendAckProto.newBuilder().setStart(proto(a.start()))
                .setEnd(proto(a.end())).setTail(proto(a.tail())).build(), "", now);
            knownTail.merge(i, a.tail().seqNum(), Math::max);
            String fence = attempt.bodies.get(0);
            if (fence.contains("/f")) {
              knownToken.put(i, fence);
            }
          }
          case AppendResult.FencingTokenMismatch m -> {
            histories.failed(call, true, ok.value().toString(), now);
            history.complete(attempt, AppendHistory.Outcome.FAIL, null, "fencing_token_mismatch " + m.currentToken(), now);
            knownToken.put(i, m.currentToken());
          }
          case AppendResult.SeqNumMismatch m -> {
            histories.failed(call, true, ok.value().toString(), now);
            history.complete(attempt, AppendHistory.Outcome.FAIL, null, "seq_num_mismatch " + m.nextSeqNum(), now);
            knownTail.merge(i, m.nextSeqNum(), Math::max);
          }
          default -> {
            histories.failed(call, true, ok.value().toString(), now);
            history.complete(attempt, AppendHistory.Outcome.FAIL, null, ok.value().toString(), now);
          }
        }
      }
      case Outcome.Failed<AppendResult> f -> {
        histories.failed(call, !f.indefinite(), f.error().code().wireCode(), now);
        history.complete(attempt, f.indefinite() ? AppendHistory.Outcome.INFO : AppendHistory.Outcome.FAIL, null,
            f.error().code().wireCode() + ": " + f.error().message(), now);
      }
    }
  }

  private void read(int i) {
    long start = env.random().nextLong(0, knownTail.getOrDefault(i, 0L) + 1);
    int max = 1 + env.random().nextInt(30);
    long invoked = env.clock().nowNanos();
    data.read(BASIN, streams.get(i), new ReadFrom.SeqNum(start), true, new ReadEnd((long) max, null, null, 0L))
        .onComplete((outcome, failure) -> {
          storageError(i, start, outcome);
          if (failure == null && outcome instanceof Outcome.Ok<ReadResult> ok && ok.value() instanceof ReadResult.Batch b) {
            List<String> bodies = new ArrayList<>();
            b.records().forEach(r -> bodies.add(r.body().toStringUtf8()));
            // A unary catch-up batch carries no tail, but one that stopped short of its count reached
            // the tail: start + records is the tail then. Otherwise the tail is unknown (-1).
            int n = b.records().size();
            long tail = n > 0 && n < max ? start + n : -1;
            history.read(name, i + 1, start, max, bodies, n == 0 ? -1 : b.records().get(0).seqNum(), tail, 0, invoked,
                env.clock().nowNanos());
          }
          thenNext();
        });
  }

  private void tail(int i) {
    long invoked = env.clock().nowNanos();
    StreamHistories.Call call = histories.checkTailStarted(streams.get(i).value(), invoked);
    data.checkTail(BASIN, streams.get(i)).onComplete((outcome, failure) -> {
      if (failure == null && outcome instanceof Outcome.Ok<StreamPosition> ok) {
        histories.checkTailReturned(call, ok.value().seqNum(), env.clock().nowNanos());
      } else {
        histories.failed(call, true, failure != null ? failure.toString() : ((Outcome.Failed<?>) outcome).error().code().wireCode(),
            env.clock().nowNanos());
      }
      if (failure == null && outcome instanceof Outcome.Ok<StreamPosition> ok) {
        history.read(name, i + 1, ok.value().seqNum(), 0, List.of(), -1, ok.value().seqNum(), ok.value().seqNum(),
            invoked, env.clock().nowNanos());
        knownTail.merge(i, ok.value().seqNum(), Math::max);
      }
      thenNext();
    });
  }

  /**
   * A read of the whole stream as s2-verification does it: the tail {@code T} first (the point
   * where the read takes effect), then every record below {@code T} page by page — those are
   * immutable (the workload never trims), so the pages add up to the stream at that point.
   */
  private void readAll(int i) {
    long invoked = env.clock().nowNanos();
    StreamHistories.Call call = histories.readStarted(streams.get(i).value(), invoked);
    data.checkTail(BASIN, streams.get(i)).onComplete((outcome, failure) -> {
      if (failure == null && outcome instanceof Outcome.Ok<StreamPosition> ok) {
        readPage(i, call, 0, ok.value().seqNum(), io.s2j.checker.s2.StreamHash.EMPTY);
      } else {
        histories.failed(call, true, "check-tail failed", env.clock().nowNanos());
        thenNext();
      }
    });
  }

  private void readPage(int i, StreamHistories.Call call, long next, long tail, long hash) {
    if (next >= tail) {
      histories.readReturned(call, tail, hash, env.clock().nowNanos());
      thenNext();
      return;
    }
    data.read(BASIN, streams.get(i), new ReadFrom.SeqNum(next), false, new ReadEnd(tail - next, null, null, 0L))
        .onComplete((outcome, failure) -> {
          storageError(i, next, outcome);
          if (failure == null && outcome instanceof Outcome.Ok<ReadResult> ok && ok.value() instanceof ReadResult.Batch b
              && !b.records().isEmpty() && b.records().get(0).seqNum() == next) {
            long h = hash;
            long n = next;
            for (io.s2j.record.SequencedRecord r : b.records()) {
              if (r.seqNum() >= tail) {
                break;
              }
              Invariants.check(r.seqNum() == n, "whole-stream read: seq %d where %d was due", r.seqNum(), n);
              h = io.s2j.checker.s2.StreamHash.chain(h, io.s2j.checker.s2.StreamHash.ofBody(r.body().toByteArray()));
              n++;
            }
            readPage(i, call, n, tail, h);
          } else {
            histories.failed(call, true, "read failed", env.clock().nowNanos());
            thenNext();
          }
        });
  }

  /**
   * A read session from a known position, following live appends for up to a few seconds: its
   * records must come in seq order with no gap or duplicate, heartbeats must never report a tail
   * behind what was delivered, and the bodies are checked against the log at the end of the run.
   */
  private void follow(int i) {
    long start = env.random().nextLong(0, knownTail.getOrDefault(i, 0L) + 1);
    long count = 1 + env.random().nextInt(60);
    long waitSecs = 1 + env.random().nextInt(4);
    long invoked = env.clock().nowNanos();
    List<String> bodies = new ArrayList<>();
    long[] next = {start};
    boolean[] done = {false};
    data.openSession(BASIN, streams.get(i), new ReadFrom.SeqNum(start), true, new ReadEnd(count, null, null, waitSecs),
        event -> {
          Invariants.check(!done[0], "read session event after its end: %s", event);
          switch (event) {
            case io.s2j.frontend.ReadSession.Batch b -> {
              for (io.s2j.record.SequencedRecord r : b.records()) {
                Invariants.check(r.seqNum() == next[0], "read session of %s from %d delivered seq %d where %d was due",
                    streams.get(i), start, r.seqNum(), next[0]);
                next[0]++;
                bodies.add(r.body().toStringUtf8());
              }
              if (b.tail() != null) {
                Invariants.check(b.tail().seqNum() >= next[0], "live batch tail %s behind delivered %d", b.tail(), next[0]);
              }
            }
            case io.s2j.frontend.ReadSession.Heartbeat h ->
                Invariants.check(h.tail().seqNum() >= next[0], "heartbeat tail %s behind delivered %d", h.tail(), next[0]);
            case io.s2j.frontend.ReadSession.Unsatisfiable u -> done[0] = true;
            case io.s2j.frontend.ReadSession.End e -> done[0] = true;
            case io.s2j.frontend.ReadSession.Failed f -> {
              if (f.error().code() == io.s2j.api.ErrorCode.STORAGE) {
                storageErrors.add(name + " read session of " + streams.get(i) + " from " + start + ": " + f.error().message());
              }
              done[0] = true;
            }
          }
          if (done[0]) {
            if (!bodies.isEmpty()) {
              history.read(name, i + 1, start, bodies.size(), bodies, start, -1, 0, invoked, env.clock().nowNanos());
            }
            thenNext();
          }
        });
  }

  private void storageError(int i, long start, Outcome<ReadResult> outcome) {
    if (outcome instanceof Outcome.Failed<ReadResult> f && f.error().code() == io.s2j.api.ErrorCode.STORAGE) {
      storageErrors.add(name + " read of " + streams.get(i) + " from " + start + ": " + f.error().message());
    }
  }

  /** The client name prefix used in record bodies (node and a per-incarnation random id). */
  public String name() {
    return name;
  }
}
