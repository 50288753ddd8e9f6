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
  private final long[] stopIssuingAtNanos;
  private final TreeMap<Integer, Long> knownTail = new TreeMap<>();
  private final String name;
  private long op;

  public CellClient(Env env, Catalog catalog, DataPlane data, List<StreamName> streams, AppendHistory history, long[] stopIssuingAtNanos) {
    this.env = env;
    this.catalog = catalog;
    this.data = data;
    this.streams = List.copyOf(streams);
    this.history = history;
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
    catalog.createStream(BASIN, streams.get(i), StreamConfigSpec.EMPTY, "cell-token").onComplete((s, f) -> {
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
    if (roll < 0.15) {
      read(i);
    } else if (roll < 0.25) {
      tail(i);
    } else if (roll < 0.4) {
      sessionBurst(i);
    } else {
      append(i);
    }
  }

  private static PositionProto proto(StreamPosition p) {
    return PositionProto.newBuilder().setSeqNum(p.seqNum()).setTimestamp(p.timestamp()).build();
  }

  private AppendInput nextInput(int i, Long match, List<String> bodies) {
    int count = 1 + env.random().nextInt(4);
    List<AppendRecord> records = new ArrayList<>();
    for (int j = 0; j < count; j++) {
      String body = name + "/" + op + "/" + j;
      bodies.add(body);
      records.add(new AppendRecord(null, List.of(), ByteString.copyFromUtf8(body)));
    }
    op++;
    return new AppendInput(AppendBatch.validate(records).orThrow(), match, null);
  }

  private void append(int i) {
    List<String> bodies = new ArrayList<>();
    Long match = env.random().chance(0.25) ? knownTail.getOrDefault(i, 0L) : null;
    AppendInput input = nextInput(i, match, bodies);
    AppendHistory.Attempt attempt = history.invoke(name, i + 1, bodies, match, env.clock().nowNanos());
    data.append(BASIN, streams.get(i), input).onComplete((outcome, failure) -> {
      record(i, attempt, outcome, failure);
      thenNext();
    });
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
      AppendHistory.Attempt attempt = history.invoke(name, i + 1, bodies, match, env.clock().nowNanos());
      session.submit(input).onComplete((outcome, failure) -> {
        if (outcome instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck a) {
          Invariants.check(a.start().seqNum() >= lastAckEnd[0],
              "append session acks out of input order: %s after end %d", a, lastAckEnd[0]);
          lastAckEnd[0] = a.end().seqNum();
        }
        record(i, attempt, outcome, failure);
        if (--remaining[0] == 0) {
          session.close();
          thenNext();
        }
      });
    }
  }

  private void record(int i, AppendHistory.Attempt attempt, Outcome<AppendResult> outcome, Throwable failure) {
    long now = env.clock().nowNanos();
    if (failure != null) {
      throw new IllegalStateException("append failed with a bug", failure);
    }
    switch (outcome) {
      case Outcome.Ok<AppendResult> ok -> {
        switch (ok.value()) {
          case AppendAck a -> {
            history.complete(attempt, AppendHistory.Outcome.OK, AppendAckProto.newBuilder().setStart(proto(a.start()))
                .setEnd(proto(a.end())).setTail(proto(a.tail())).build(), "", now);
            knownTail.merge(i, a.tail().seqNum(), Math::max);
          }
          case AppendResult.SeqNumMismatch m -> {
            history.complete(attempt, AppendHistory.Outcome.FAIL, null, "seq_num_mismatch " + m.nextSeqNum(), now);
            knownTail.merge(i, m.nextSeqNum(), Math::max);
          }
          default -> history.complete(attempt, AppendHistory.Outcome.FAIL, null, ok.value().toString(), now);
        }
      }
      case Outcome.Failed<AppendResult> f -> history.complete(attempt,
          f.indefinite() ? AppendHistory.Outcome.INFO : AppendHistory.Outcome.FAIL, null,
          f.error().code().wireCode() + ": " + f.error().message(), now);
    }
  }

  private void read(int i) {
    long start = env.random().nextLong(0, knownTail.getOrDefault(i, 0L) + 1);
    int max = 1 + env.random().nextInt(30);
    long invoked = env.clock().nowNanos();
    data.read(BASIN, streams.get(i), new ReadFrom.SeqNum(start), true, new ReadEnd((long) max, null, null, 0L))
        .onComplete((outcome, failure) -> {
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
    data.checkTail(BASIN, streams.get(i)).onComplete((outcome, failure) -> {
      if (failure == null && outcome instanceof Outcome.Ok<StreamPosition> ok) {
        history.read(name, i + 1, ok.value().seqNum(), 0, List.of(), -1, ok.value().seqNum(), ok.value().seqNum(),
            invoked, env.clock().nowNanos());
        knownTail.merge(i, ok.value().seqNum(), Math::max);
      }
      thenNext();
    });
  }

  /** The client name prefix used in record bodies (node and a per-incarnation random id). */
  public String name() {
    return name;
  }
}
