package io.s2j.sim.channel;

import io.s2j.channel.proto.AppendAckProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Every append attempt of a channel scenario run and how it ended (OK with its ack, FAIL, INFO). */
public final class AppendHistory {
  public enum Outcome {
    PENDING,
    OK,
    FAIL,
    INFO
  }

  public static final class Attempt {
    public final String client;
    public final long streamlet;
    public final List<String> bodies;
    public final Long matchSeqNum;
    /** The fencing token the append presented (null: none). */
    public final String fencingToken;
    public final long invokeNanos;
    public long completeNanos = -1;
    public Outcome outcome = Outcome.PENDING;
    public AppendAckProto ack;
    public String detail = "";

    Attempt(String client, long streamlet, List<String> bodies, Long matchSeqNum, String fencingToken, long invokeNanos) {
      this.client = client;
      this.streamlet = streamlet;
      this.bodies = List.copyOf(bodies);
      this.matchSeqNum = matchSeqNum;
      this.fencingToken = fencingToken;
      this.invokeNanos = invokeNanos;
    }

    public Outcome outcome() {
      return outcome == Outcome.PENDING ? Outcome.INFO : outcome;
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "%s streamlet=%d %s match=%s token=%s [%.6fs, %s] %s%s%s", client, streamlet, bodies,
          matchSeqNum, fencingToken, invokeNanos / 1e9, completeNanos < 0 ? "pending" : String.format(java.util.Locale.ROOT, "%.6fs", completeNanos / 1e9),
          outcome(), ack == null ? "" : " ack=" + ack.getStart().getSeqNum() + ".." + ack.getEnd().getSeqNum() + " tail=" + ack.getTail().getSeqNum(),
          detail.isEmpty() ? "" : " (" + detail + ")");
    }
  }

  /** A successful read (or, with no records asked, a check of the tail). */
  public record Read(String client, long streamlet, long start, int recordsMax, List<String> bodies, long firstSeqNum,
      long tail, long firstHeld, long invokeNanos, long completeNanos) {
    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "%s read streamlet=%d from=%d max=%d got %d record(s) from %d, tail=%d held-from=%d [%.6fs, %.6fs]",
          client, streamlet, start, recordsMax, bodies.size(), firstSeqNum, tail, firstHeld, invokeNanos / 1e9, completeNanos / 1e9);
    }
  }

  private final List<Attempt> attempts = new ArrayList<>();
  private final List<Read> reads = new ArrayList<>();

  public void read(String client, long streamlet, long start, int recordsMax, List<String> bodies, long firstSeqNum, long tail,
      long firstHeld, long invokeNanos, long completeNanos) {
    reads.add(new Read(client, streamlet, start, recordsMax, List.copyOf(bodies), firstSeqNum, tail, firstHeld, invokeNanos, completeNanos));
  }

  public List<Read> reads() {
    return Collections.unmodifiableList(reads);
  }

  public Attempt invoke(String client, long streamlet, List<String> bodies, Long matchSeqNum, long nowNanos) {
    return invoke(client, streamlet, bodies, matchSeqNum, null, nowNanos);
  }

  public Attempt invoke(String client, long streamlet, List<String> bodies, Long matchSeqNum, String fencingToken, long nowNanos) {
    Attempt a = new Attempt(client, streamlet, bodies, matchSeqNum, fencingToken, nowNanos);
    attempts.add(a);
    return a;
  }

  public void complete(Attempt a, Outcome outcome, AppendAckProto ack, String detail, long nowNanos) {
    if (a.outcome != Outcome.PENDING) {
      throw new IllegalStateException("attempt completed twice: " + a);
    }
    a.outcome = outcome;
    a.ack = ack;
    a.detail = detail;
    a.completeNanos = nowNanos;
  }

  public List<Attempt> attempts() {
    return Collections.unmodifiableList(attempts);
  }
}
