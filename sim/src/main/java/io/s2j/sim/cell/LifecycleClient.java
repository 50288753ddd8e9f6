package io.s2j.sim.cell;

import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.ErrorCode;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.DataPlane;
import io.s2j.frontend.Outcome;
import io.s2j.frontend.ReadResult;
import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.runtime.Env;
import java.util.ArrayList;
import java.util.List;

/**
 * The lifecycle workload of a cell, on one frontend: it owns one stream ({@code life-<frontend>})
 * that it writes one call at a time — appends, trims, reads, tails, and now and then a deletion
 * followed at once by re-creation under the same name, with age retention and delete-on-empty
 * drawn per incarnation — and it reads the other frontends' lifecycle streams while their owners
 * trim, delete and re-create them (and bgtask retains, finalises and collects). Everything goes to
 * the {@link LifecycleLedger}, which checks the reads.
 */
public final class LifecycleClient {
  private final Env env;
  private final Catalog catalog;
  private final DataPlane data;
  private final LifecycleLedger ledger;
  private final StreamName own;
  private final List<String> others;
  private final long[] stopIssuingAtNanos;
  private final List<String> storageErrors;
  private final LifecycleLedger.Life life;
  private long op;

  public LifecycleClient(Env env, Catalog catalog, DataPlane data, LifecycleLedger ledger, String ownStream,
      List<String> allStreams, long[] stopIssuingAtNanos, List<String> storageErrors) {
    this.env = env;
    this.catalog = catalog;
    this.data = data;
    this.ledger = ledger;
    this.own = new StreamName(ownStream);
    this.others = allStreams.stream().filter(s -> !s.equals(ownStream)).toList();
    this.stopIssuingAtNanos = stopIssuingAtNanos;
    this.storageErrors = storageErrors;
    this.life = ledger.life(ownStream);
    allStreams.forEach(ledger::life);
    this.op = env.random().nextLong(0, 1_000_000) * 1000;
    // A previous owner (this frontend before a crash) may have left a call in flight.
    life.certainTail = null;
    env.scheduler().schedule(env.random().nextLong(0, 500_000_000L), this::setUp);
  }

  private boolean stopped() {
    return env.clock().nowNanos() >= stopIssuingAtNanos[0];
  }

  private void later(long maxNanos, Runnable r) {
    env.scheduler().schedule(env.random().nextLong(1, maxNanos), r);
  }

  private void setUp() {
    if (stopped()) {
      return;
    }
    catalog.createBasin(CellClient.BASIN, BasinConfig.DEFAULT, "cell-token").onComplete((b, f) -> {
      boolean exists = f == null && (b instanceof Outcome.Ok || (b instanceof Outcome.Failed<?> failed
          && failed.error().code() == ErrorCode.RESOURCE_ALREADY_EXISTS));
      if (exists) {
        next();
      } else {
        later(300_000_000L, this::setUp);
      }
    });
  }

  private void next() {
    if (stopped()) {
      return;
    }
    if (life.live && life.deleting) {
      delete();
      return;
    }
    if (!life.live) {
      create(life.current + 1, "life-token-" + env.random().nextLong(), drawConfig());
      return;
    }
    double roll = env.random().nextDouble();
    if (roll < 0.38) {
      append();
    } else if (roll < 0.5) {
      trim();
    } else if (roll < 0.66) {
      ownRead();
    } else if (roll < 0.76) {
      foreignRead();
    } else if (roll < 0.83) {
      tail();
    } else if (roll < 0.87) {
      delete();
    } else if (life.doeMinAgeSecs > 0 && roll < 0.9) {
      emptyAndWait();
    } else {
      later(300_000_000L, this::next);
    }
  }

  private StreamConfigSpec drawConfig() {
    RetentionPolicy retention = env.random().chance(0.5) ? RetentionPolicy.INFINITE : RetentionPolicy.ageSeconds(2 + env.random().nextInt(6));
    Long doe = env.random().chance(0.3) ? (long) (1 + env.random().nextInt(3)) : 0L;
    return new StreamConfigSpec(null, retention, null, null, doe);
  }

  /** Creates incarnation {@code k}, retrying (same token: idempotent) while the old one is being deleted. */
  private void create(int k, String token, StreamConfigSpec config) {
    if (stopped()) {
      return;
    }
    catalog.createStream(CellClient.BASIN, own, config, token).onComplete((o, f) -> {
      if (f == null && o instanceof Outcome.Ok) {
        ledger.created(life, k, env.clock().nowNanos(), config.retentionPolicy() instanceof RetentionPolicy.Age,
            config.deleteOnEmptyMinAgeSecs() == null ? 0 : config.deleteOnEmptyMinAgeSecs());
        later(100_000_000L, this::next);
      } else if (f == null && o instanceof Outcome.Failed<?> failed && failed.error().code() == ErrorCode.RESOURCE_ALREADY_EXISTS) {
        // Only this owner creates the name: a create of a previous owner (lost in a crash) applied,
        // with a config drawn then. Its retention and delete-on-empty are unknown.
        ledger.created(life, k, env.clock().nowNanos(), true, -1);
        life.certainTail = null;
        later(100_000_000L, this::next);
      } else {
        later(400_000_000L, () -> create(k, token, config));
      }
    });
  }

  private void append() {
    int n = 1 + env.random().nextInt(3);
    List<String> bodies = new ArrayList<>();
    List<AppendRecord> records = new ArrayList<>();
    for (int j = 0; j < n; j++) {
      String body = LifecycleLedger.body(own.value(), life.current, op, j);
      bodies.add(body);
      records.add(AppendRecord.of(body));
    }
    op++;
    send(records, bodies, null);
  }

  /** A trim to a point at or below what the owner believes is the tail (sometimes past it: P is capped by the trim's own seq). */
  private void trim() {
    long tail = life.certainTail == null ? 0 : life.certainTail;
    long point = env.random().chance(0.2) ? tail + 5 : env.random().nextLong(0, tail + 1);
    ledger.trimInvoked(life, point);
    send(List.of(Command.toRecord(new Command.Trim(point))), java.util.Collections.singletonList(null), point);
  }

  /** Trims everything, then leaves the stream alone long enough for delete-on-empty. */
  private void emptyAndWait() {
    long tail = life.certainTail == null ? 1_000_000 : life.certainTail;
    ledger.trimInvoked(life, tail + 1);
    List<AppendRecord> trim = List.of(Command.toRecord(new Command.Trim(tail + 1)));
    AppendInput input = new AppendInput(AppendBatch.validate(trim).orThrow(), null, null);
    data.append(CellClient.BASIN, own, input).onComplete((o, f) -> {
      settle(o, f, java.util.Collections.singletonList(null), tail + 1);
      if (life.live) {
        env.scheduler().schedule((life.doeMinAgeSecs + 2 + env.random().nextInt(4)) * 1_000_000_000L, this::next);
      } else {
        later(100_000_000L, this::next);
      }
    });
  }

  private void send(List<AppendRecord> records, List<String> bodies, Long trimPoint) {
    AppendInput input = new AppendInput(AppendBatch.validate(records).orThrow(), null, null);
    data.append(CellClient.BASIN, own, input).onComplete((o, f) -> {
      settle(o, f, bodies, trimPoint);
      later(50_000_000L, this::next);
    });
  }

  private void settle(Outcome<AppendResult> o, Throwable f, List<String> bodies, Long trimPoint) {
    if (f != null) {
      throw new IllegalStateException("append failed with a bug", f);
    }
    switch (o) {
      case Outcome.Ok<AppendResult> ok when ok.value() instanceof AppendAck a -> {
        ledger.acked(life, bodies, a.start().seqNum(), a.end().seqNum());
        if (trimPoint != null) {
          long seq = a.start().seqNum();
          ledger.trimAcked(life, env.clock().nowNanos(), Math.min(trimPoint, seq + 1));
        }
      }
      case Outcome.Ok<AppendResult> other -> life.certainTail = null;
      case Outcome.Failed<AppendResult> failed -> {
        ErrorCode code = failed.error().code();
        if (code == ErrorCode.STREAM_NOT_FOUND || code == ErrorCode.STREAM_DELETION_PENDING) {
          ledger.vanished(life, code.wireCode());
        } else if (code == ErrorCode.STORAGE) {
          storageErrors.add("lifecycle append to " + own + ": " + failed.error().message());
        } else if (failed.indefinite()) {
          life.certainTail = null;
        }
      }
    }
  }

  private void ownRead() {
    long tail = life.certainTail == null ? 10 : life.certainTail;
    long from = env.random().nextLong(0, tail + 1);
    long count = 1 + env.random().nextInt(25);
    long invoked = env.clock().nowNanos();
    data.read(CellClient.BASIN, own, new ReadFrom.SeqNum(from), true, new ReadEnd(count, null, null, 0L)).onComplete((o, f) -> {
      if (f != null) {
        throw new IllegalStateException("read failed with a bug", f);
      }
      if (o instanceof Outcome.Ok<ReadResult> ok && ok.value() instanceof ReadResult.Batch b) {
        ledger.checkRead(own.value(), from, count, b.records(), invoked, true);
      } else if (o instanceof Outcome.Failed<ReadResult> failed) {
        noteFailure(own.value(), failed, true);
      }
      later(50_000_000L, this::next);
    });
  }

  private void foreignRead() {
    if (others.isEmpty()) {
      later(50_000_000L, this::next);
      return;
    }
    String stream = others.get(env.random().nextInt(others.size()));
    long from = env.random().nextLong(0, 40);
    long count = 1 + env.random().nextInt(25);
    long invoked = env.clock().nowNanos();
    if (env.random().chance(0.35)) {
      session(stream, from, count, invoked);
      return;
    }
    data.read(CellClient.BASIN, new StreamName(stream), new ReadFrom.SeqNum(from), true, new ReadEnd(count, null, null, 0L))
        .onComplete((o, f) -> {
          if (f != null) {
            throw new IllegalStateException("read failed with a bug", f);
          }
          if (o instanceof Outcome.Ok<ReadResult> ok && ok.value() instanceof ReadResult.Batch b) {
            ledger.checkRead(stream, from, count, b.records(), invoked, false);
          } else if (o instanceof Outcome.Failed<ReadResult> failed) {
            noteFailure(stream, failed, false);
          }
          later(50_000_000L, this::next);
        });
  }

  /**
   * A read session on another owner's stream, following for 1–3 s: whatever it delivers (catch-up
   * from segments or the channel, then live batches) is checked like a read begun when it opened.
   */
  private void session(String stream, long from, long count, long invoked) {
    List<io.s2j.record.SequencedRecord> got = new ArrayList<>();
    boolean[] done = {false};
    long waitSecs = 1 + env.random().nextInt(3);
    data.openSession(CellClient.BASIN, new StreamName(stream), new ReadFrom.SeqNum(from), true,
        new ReadEnd(count, null, null, waitSecs), event -> {
          if (done[0]) {
            return;
          }
          switch (event) {
            case io.s2j.frontend.ReadSession.Batch b -> got.addAll(b.records());
            case io.s2j.frontend.ReadSession.Heartbeat h -> { }
            case io.s2j.frontend.ReadSession.Failed failed -> {
              done[0] = true;
              if (failed.error().code() == ErrorCode.STORAGE) {
                storageErrors.add("lifecycle read session of " + stream + ": " + failed.error().message());
              }
            }
            default -> done[0] = true;
          }
          if (done[0]) {
            ledger.checkRead(stream, from, count, got, invoked, false);
            later(50_000_000L, this::next);
          }
        });
  }

  private void noteFailure(String stream, Outcome.Failed<?> failed, boolean byOwner) {
    ErrorCode code = failed.error().code();
    if (code == ErrorCode.STORAGE) {
      storageErrors.add("lifecycle read of " + stream + ": " + failed.error().message());
    } else if (byOwner && life.live && (code == ErrorCode.STREAM_NOT_FOUND || code == ErrorCode.STREAM_DELETION_PENDING)) {
      ledger.vanished(life, code.wireCode());
    }
  }

  private void tail() {
    data.checkTail(CellClient.BASIN, own).onComplete((o, f) -> {
      if (f != null) {
        throw new IllegalStateException("check-tail failed with a bug", f);
      }
      if (o instanceof Outcome.Ok<io.s2j.record.StreamPosition> ok) {
        ledger.tailSeen(life, ok.value().seqNum(), true);
      } else if (o instanceof Outcome.Failed<?> failed) {
        noteFailure(own.value(), failed, true);
      }
      later(50_000_000L, this::next);
    });
  }

  /** Deletes the stream (retrying until acknowledged), then goes on to re-create it at once. */
  private void delete() {
    life.deleting = true;
    catalog.deleteStream(CellClient.BASIN, own).onComplete((o, f) -> {
      boolean gone = f == null && (o instanceof Outcome.Ok
          || (o instanceof Outcome.Failed<?> failed && failed.error().code() == ErrorCode.STREAM_NOT_FOUND));
      if (gone) {
        ledger.deleted(life);
        later(50_000_000L, this::next);
      } else if (stopped()) {
        return;
      } else {
        later(300_000_000L, this::delete);
      }
    });
  }
}
