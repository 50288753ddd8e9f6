package io.s2j.sim.channel;

import io.s2j.channel.proto.AppendAckProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Every append attempt of a channel scenario run and how it ended (OK with its ack, FAIL, INFO). */
final class AppendHistory {
  enum Outcome {
    PENDING,
    OK,
    FAIL,
    INFO
  }

  static final class Attempt {
    final String client;
    final long streamlet;
    final List<String> bodies;
    final Long matchSeqNum;
    final long invokeNanos;
    long completeNanos = -1;
    Outcome outcome = Outcome.PENDING;
    AppendAckProto ack;
    String detail = "";

    Attempt(String client, long streamlet, List<String> bodies, Long matchSeqNum, long invokeNanos) {
      this.client = client;
      this.streamlet = streamlet;
      this.bodies = List.copyOf(bodies);
      this.matchSeqNum = matchSeqNum;
      this.invokeNanos = invokeNanos;
    }

    Outcome outcome() {
      return outcome == Outcome.PENDING ? Outcome.INFO : outcome;
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "%s streamlet=%d %s match=%s [%.6fs, %s] %s%s%s", client, streamlet, bodies,
          matchSeqNum, invokeNanos / 1e9, completeNanos < 0 ? "pending" : String.format(java.util.Locale.ROOT, "%.6fs", completeNanos / 1e9),
          outcome(), ack == null ? "" : " ack=" + ack.getStart().getSeqNum() + ".." + ack.getEnd().getSeqNum() + " tail=" + ack.getTail().getSeqNum(),
          detail.isEmpty() ? "" : " (" + detail + ")");
    }
  }

  /** A successful read (or, with no records asked, a check of the tail). */
  record Read(String client, long streamlet, long start, int recordsMax, List<String> bodies, long firstSeqNum,
      long tail, long firstHeld, long invokeNanos, long completeNanos) {
    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "%s read streamlet=%d from=%d max=%d got %d record(s) from %d, tail=%d held-from=%d [%.6fs, %.6fs]",
          client, streamlet, start, recordsMax, bodies.size(), firstSeqNum, tail, firstHeld, invokeNanos / 1e9, completeNanos / 1e9);
    }
  }

  private final List<Attempt> attempts = new ArrayList<>();
  private final List<Read> reads = new ArrayList<>();

  void read(String client, long streamlet, long start, int recordsMax, List<String> bodies, long firstSeqNum, long tail,
      long firstHeld, long invokeNanos, long completeNanos) {
    reads.add(new Read(client, streamlet, start, recordsMax, List.copyOf(bodies), firstSeqNum, tail, firstHeld, invokeNanos, completeNanos));
  }

  List<Read> reads() {
    return Collections.unmodifiableList(reads);
  }

  Attempt invoke(String client, long streamlet, List<String> bodies, Long matchSeqNum, long nowNanos) {
    Attempt a = new Attempt(client, streamlet, bodies, matchSeqNum, nowNanos);
    attempts.add(a);
    return a;
  }

  void complete(Attempt a, Outcome outcome, AppendAckProto ack, String detail, long nowNanos) {
    if (a.outcome != Outcome.PENDING) {
      throw new IllegalStateException("attempt completed twice: " + a);
    }
    a.outcome = outcome;
    a.ack = ack;
    a.detail = detail;
    a.completeNanos = nowNanos;
  }

  List<Attempt> attempts() {
    return Collections.unmodifiableList(attempts);
  }
}
