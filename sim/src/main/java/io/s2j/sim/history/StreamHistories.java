package io.s2j.sim.history;

import clojure.lang.Keyword;
import com.google.protobuf.ByteString;
import io.s2j.checker.CheckResult;
import io.s2j.checker.Linearizability;
import io.s2j.checker.Operation;
import io.s2j.checker.Verdict;
import io.s2j.checker.jepsen.JepsenEdn;
import io.s2j.checker.jepsen.JepsenEvent;
import io.s2j.checker.s2.AppendInput;
import io.s2j.checker.s2.AppendOutput;
import io.s2j.checker.s2.CheckTailInput;
import io.s2j.checker.s2.CheckTailOutput;
import io.s2j.checker.s2.ReadInput;
import io.s2j.checker.s2.ReadOutput;
import io.s2j.checker.s2.S2HistoryRecorder;
import io.s2j.checker.s2.S2Jsonl;
import io.s2j.checker.s2.S2StreamModel;
import io.s2j.checker.s2.StreamHash;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The client-observed history of a simulated run, per stream, in the two interchange formats of
 * issue 4: s2-verification's JSONL (one file per stream, each from an empty stream) and Jepsen's
 * EDN (the whole run, virtual time in {@code :time}). At the end of a run every stream's history
 * goes through the linearizability checker with {@link S2StreamModel}.
 *
 * <p>Every operation gets a client id of its own: s2-verification's clients run one call at a
 * time and are retired after an indefinite failure, and a simulated client may have several
 * calls in flight (append-session inputs).
 */
public final class StreamHistories {
  /** States the checker may explore per stream before answering "unknown". */
  public static final long STATES_MAX_PER_STREAM = 2_000_000;

  private final Map<String, S2HistoryRecorder> recorders = new TreeMap<>();
  private final List<JepsenEvent> edn = new ArrayList<>();
  private final Map<String, Integer> checkedCounts = new TreeMap<>();
  private long nextClient;

  /** A call in flight. */
  public final class Call {
    final String stream;
    final long client;
    final String f;
    final Object invokeValue;

    private Call(String stream, long client, String f, Object invokeValue) {
      this.stream = stream;
      this.client = client;
      this.f = f;
      this.invokeValue = invokeValue;
    }
  }

  private Call start(String stream, String f, io.s2j.checker.s2.S2Call call, Object value, long nowNanos) {
    long client = nextClient++;
    recorders.computeIfAbsent(stream, s -> new S2HistoryRecorder()).start(client, call);
    edn.add(new JepsenEvent(edn.size(), client, JepsenEvent.Type.INVOKE, f, stream, value, nowNanos));
    return new Call(stream, client, f, value);
  }

  private void end(Call call, JepsenEvent.Type type, Object value, long nowNanos) {
    edn.add(new JepsenEvent(edn.size(), call.client, type, call.f, call.stream, value, nowNanos));
  }

  private static Map<Object, Object> map(Object... kvs) {
    Map<Object, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kvs.length; i += 2) {
      if (kvs[i + 1] != null) {
        m.put(Keyword.intern((String) kvs[i]), kvs[i + 1]);
      }
    }
    return m;
  }

  /** An append of records with {@code bodies} (command records included, body = payload). */
  public Call appendStarted(String stream, List<ByteString> bodies, Long matchSeqNum, String fencingToken,
      String setFencingToken, long nowNanos) {
    List<Long> hashes = new ArrayList<>(bodies.size());
    for (ByteString b : bodies) {
      hashes.add(StreamHash.ofBody(b.toByteArray()));
    }
    AppendInput input = new AppendInput(hashes, matchSeqNum, fencingToken, setFencingToken);
    return start(stream, "append", input, map("records", (long) bodies.size(), "match-seq-num", matchSeqNum,
        "fencing-token", fencingToken, "set-fencing-token", setFencingToken), nowNanos);
  }

  /** The append was acknowledged with {@code [start, end)}. */
  public void appendAcked(Call call, long start, long end, long nowNanos) {
    recorders.get(call.stream).finish(call.client, new AppendOutput(end));
    end(call, JepsenEvent.Type.OK, map("start", start, "end", end), nowNanos);
  }

  /** The append failed; {@code definite} when it certainly did not happen. */
  public void failed(Call call, boolean definite, String why, long nowNanos) {
    recorders.get(call.stream).fail(call.client, definite);
    end(call, definite ? JepsenEvent.Type.FAIL : JepsenEvent.Type.INFO, map("error", why), nowNanos);
  }

  /** A read of the whole stream from its head. */
  public Call readStarted(String stream, long nowNanos) {
    return start(stream, "read", ReadInput.INSTANCE, null, nowNanos);
  }

  /** The read returned every record up to {@code tail}, whose bodies chain to {@code streamHash}. */
  public void readReturned(Call call, long tail, long streamHash, long nowNanos) {
    recorders.get(call.stream).finish(call.client, new ReadOutput(tail, streamHash));
    end(call, JepsenEvent.Type.OK, map("tail", tail, "stream-hash", Long.toUnsignedString(streamHash)), nowNanos);
  }

  public Call checkTailStarted(String stream, long nowNanos) {
    return start(stream, "check-tail", CheckTailInput.INSTANCE, null, nowNanos);
  }

  public void checkTailReturned(Call call, long tail, long nowNanos) {
    recorders.get(call.stream).finish(call.client, new CheckTailOutput(tail));
    end(call, JepsenEvent.Type.OK, map("tail", tail), nowNanos);
  }

  /** Operations per stream, as the last {@link #check} counted them (for reports). */
  public Map<String, Integer> operationCounts() {
    return java.util.Collections.unmodifiableMap(checkedCounts);
  }

  /**
   * Checks every stream's history; a stream that is not linearizable adds a violation with the
   * checker's explanation, one the checker could not decide within its budget adds a note to
   * {@code unknown}.
   */
  public void check(List<String> violations, List<String> unknown) {
    for (Map.Entry<String, S2HistoryRecorder> e : recorders.entrySet()) {
      List<Operation> ops = S2Jsonl.operations(e.getValue().events());
      checkedCounts.put(e.getKey(), ops.size());
      CheckResult result = Linearizability.check(new S2StreamModel(), ops, STATES_MAX_PER_STREAM);
      if (result.verdict() == Verdict.NOT_LINEARIZABLE) {
        String explanation = result.explanation();
        if (explanation.length() > 4000) {
          explanation = explanation.substring(0, 4000) + " …";
        }
        violations.add("stream " + e.getKey() + ": history of " + ops.size() + " operations is not linearizable: " + explanation);
      } else if (result.verdict() == Verdict.UNKNOWN) {
        unknown.add(e.getKey());
      }
    }
  }

  /**
   * Writes {@code DIR/<basin>.<stream>.jsonl} per stream (s2-verification) and {@code
   * DIR/history.edn} (Jepsen, the whole run).
   */
  public void write(Path dir, String basin) {
    try {
      Files.createDirectories(dir);
      for (Map.Entry<String, S2HistoryRecorder> e : recorders.entrySet()) {
        Path file = dir.resolve(String.format(Locale.ROOT, "%s.%s.jsonl", basin, e.getKey()));
        try (OutputStream out = Files.newOutputStream(file)) {
          S2Jsonl.write(e.getValue().events(), out);
        }
      }
      JepsenEdn.write(edn, dir.resolve("history.edn"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
