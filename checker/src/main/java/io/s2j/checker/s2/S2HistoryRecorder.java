package io.s2j.checker.s2;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Records an S2 verification history as a run goes, in the shape s2-verification's collector
 * gives it, for {@link S2Jsonl#write}.
 *
 * <p>Call {@link #start} when a client issues a call and {@link #finish} when it observes the
 * outcome; the order of calls is the history's real-time order. Each client runs one call at a
 * time. As in the collector: operation ids count from 0 in start order; an indefinite append
 * failure is not written when it happens but at the end of the history (so S2's Porcupine model
 * lets the batch take effect at any later point), and the client that saw it is <em>retired</em>
 * — its later calls must use a new client id. {@link #events()} closes whatever is still running:
 * an append as an indefinite failure, a read or check-tail as a (side-effect free) failure.
 */
public final class S2HistoryRecorder {
  private record Running(long opId, S2Call call) {}

  private final List<S2Event> events = new ArrayList<>();
  private final List<S2Event> deferred = new ArrayList<>();
  private final Map<Long, Running> running = new LinkedHashMap<>();
  private final Set<Long> retired = new TreeSet<>();
  private long nextOpId;

  /** Records that {@code clientId} started {@code call}; returns the call's {@code op_id}. */
  public long start(long clientId, S2Call call) {
    if (retired.contains(clientId)) {
      throw new IllegalStateException("client " + clientId
          + " saw an indefinite failure and is retired (as in s2-verification): use a new client id");
    }
    if (running.containsKey(clientId)) {
      throw new IllegalStateException("client " + clientId + " already has a call running");
    }
    long opId = nextOpId++;
    running.put(clientId, new Running(opId, call));
    events.add(new S2Event.Start(clientId, opId, call));
    return opId;
  }

  /** Records how {@code clientId}'s running call ended. */
  public void finish(long clientId, S2Finish finish) {
    Running call = running.get(clientId);
    if (call == null) {
      throw new IllegalStateException("client " + clientId + " has no call running");
    }
    if (!S2Failure.fits(call.call(), finish)) {
      throw new IllegalArgumentException(call.call() + " cannot finish with " + finish);
    }
    running.remove(clientId);
    S2Event event = new S2Event.Finish(clientId, call.opId(), finish);
    if (finish == S2Failure.APPEND_INDEFINITE) {
      deferred.add(event);
      retired.add(clientId);
    } else {
      events.add(event);
    }
  }

  /**
   * Records that {@code clientId}'s running call failed; {@code definite} when it certainly had no
   * effect (only appends can fail indefinitely; a read's failure is always definite).
   */
  public void fail(long clientId, boolean definite) {
    Running call = running.get(clientId);
    if (call == null) {
      throw new IllegalStateException("client " + clientId + " has no call running");
    }
    finish(clientId, S2Failure.of(call.call(), definite));
  }

  /** Whether {@code clientId} has a call running. */
  public boolean isRunning(long clientId) {
    return running.containsKey(clientId);
  }

  /** Whether {@code clientId} was retired by an indefinite failure. */
  public boolean isRetired(long clientId) {
    return retired.contains(clientId);
  }

  /**
   * The history so far, closed: the recorded events, then every deferred indefinite failure, then
   * a failure for each call still running (see the class comment). Recording may go on after.
   */
  public List<S2Event> events() {
    List<S2Event> closed = new ArrayList<>(events);
    closed.addAll(deferred);
    for (Map.Entry<Long, Running> entry : running.entrySet()) {
      Running call = entry.getValue();
      closed.add(new S2Event.Finish(entry.getKey(), call.opId(), S2Failure.of(call.call(), false)));
    }
    return List.copyOf(closed);
  }
}
