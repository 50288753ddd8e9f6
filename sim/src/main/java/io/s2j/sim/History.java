package io.s2j.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The operations clients of a simulated run invoked and how each completed, in virtual time.
 *
 * <p>An operation is {@code OK} (took effect, with a value), {@code FAIL} (definitely did not take
 * effect) or {@code INFO} (may or may not have taken effect); one still pending when the run ends
 * counts as {@code INFO}. Issue 4 turns these into Jepsen/s2-verification histories.
 */
public final class History {
  /** How an operation ended. */
  public enum Outcome {
    PENDING,
    OK,
    FAIL,
    INFO
  }

  /** One client operation. */
  public static final class Op {
    private final int index;
    private final String client;
    private final long invokeNanos;
    private long completeNanos = -1;
    private Outcome outcome = Outcome.PENDING;
    private long value;
    private String detail = "";

    Op(int index, String client, long invokeNanos) {
      this.index = index;
      this.client = client;
      this.invokeNanos = invokeNanos;
    }

    public int index() {
      return index;
    }

    public String client() {
      return client;
    }

    public long invokeNanos() {
      return invokeNanos;
    }

    /** Completion time, or -1 while pending. */
    public long completeNanos() {
      return completeNanos;
    }

    /** The outcome; a pending operation reads as {@code INFO}. */
    public Outcome outcome() {
      return outcome == Outcome.PENDING ? Outcome.INFO : outcome;
    }

    public long value() {
      return value;
    }

    public String detail() {
      return detail;
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "op#%d %s [%.6fs, %s] %s%s%s", index, client, invokeNanos / 1e9,
          completeNanos < 0 ? "pending" : String.format(java.util.Locale.ROOT, "%.6fs", completeNanos / 1e9),
          outcome(), outcome == Outcome.OK ? " value=" + value : "", detail.isEmpty() ? "" : " (" + detail + ")");
    }
  }

  private final List<Op> ops = new ArrayList<>();

  public Op invoke(String client, long nowNanos) {
    Op op = new Op(ops.size(), client, nowNanos);
    ops.add(op);
    return op;
  }

  public void complete(Op op, Outcome outcome, long value, String detail, long nowNanos) {
    if (op.outcome != Outcome.PENDING) {
      throw new IllegalStateException("operation completed twice: " + op);
    }
    op.outcome = outcome;
    op.value = value;
    op.detail = detail;
    op.completeNanos = nowNanos;
  }

  public List<Op> ops() {
    return Collections.unmodifiableList(ops);
  }
}
