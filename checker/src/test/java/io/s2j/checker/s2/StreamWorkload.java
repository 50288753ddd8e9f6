package io.s2j.checker.s2;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Concurrent clients against one correct, sequential S2 stream, recorded with
 * {@link S2HistoryRecorder}: every call takes effect atomically at one step between its start and
 * its finish, so every history it produces is linearizable by construction.
 *
 * <p>The stream here is written from S2-API §7 directly (a list of record bodies and a token) and
 * shares no code with {@link S2StreamModel}; reads hash the bodies they "read" from scratch.
 * Appends may carry {@code match_seq_num} (from the client's last seen tail, often stale), a
 * fencing token, or be a fence; some fail definitely (no effect), some indefinitely — those take
 * effect at once, later (after the client has moved on under a new id), or never.
 */
final class StreamWorkload {
  private enum Phase { IDLE, STARTED, DONE }

  private static final class Worker {
    long clientId;
    Phase phase = Phase.IDLE;
    S2Call call;
    List<byte[]> bodies;
    S2Finish result;
    long knownTail;
    String myToken;
    boolean mustSucceed;
  }

  private record Pending(AppendInput call, List<byte[]> bodies) {}

  private final Random random;
  private final S2HistoryRecorder recorder = new S2HistoryRecorder();
  private final List<byte[]> stream = new ArrayList<>();
  private String token = "";
  private long nextClientId = 1;
  private int fences;

  private StreamWorkload(long seed) {
    this.random = new Random(seed);
  }

  /** A history of {@code calls} calls (the last one a successful read) by 1–3 concurrent clients. */
  static List<S2Event> generate(long seed, int calls) {
    return new StreamWorkload(seed).run(calls);
  }

  private List<S2Event> run(int calls) {
    List<Worker> workers = new ArrayList<>();
    int workerCount = 1 + random.nextInt(3);
    for (int i = 0; i < workerCount; i++) {
      Worker w = new Worker();
      w.clientId = nextClientId++;
      workers.add(w);
    }
    List<Pending> late = new ArrayList<>();
    int issued = 0;
    while (issued < calls || workers.stream().anyMatch(w -> w.phase != Phase.IDLE)) {
      if (!late.isEmpty() && random.nextInt(4) == 0) {
        Pending p = late.remove(random.nextInt(late.size()));
        if (random.nextBoolean()) {
          apply(p.call(), p.bodies()); // took effect late; else never
        }
        continue;
      }
      Worker w = workers.get(random.nextInt(workers.size()));
      switch (w.phase) {
        case IDLE -> {
          if (issued < calls) {
            issued++;
            startCall(w, issued == calls);
          }
        }
        case STARTED -> decide(w, late);
        case DONE -> {
          recorder.finish(w.clientId, w.result);
          switch (w.result) {
            case AppendOutput o -> w.knownTail = o.tail();
            case ReadOutput o -> w.knownTail = o.tail();
            case CheckTailOutput o -> w.knownTail = o.tail();
            case S2Failure f -> { }
          }
          w.phase = Phase.IDLE;
        }
      }
    }
    // deferred effects still pending take effect or not after everything: irrelevant to the history
    return recorder.events();
  }

  private void startCall(Worker w, boolean last) {
    int kind = last ? 1 : random.nextInt(4);
    w.bodies = List.of();
    w.mustSucceed = last;
    if (kind == 1) {
      w.call = ReadInput.INSTANCE;
    } else if (kind == 2) {
      w.call = CheckTailInput.INSTANCE;
    } else if (random.nextInt(5) == 0) {
      String fence = "t" + w.clientId + "-" + fences++;
      w.bodies = List.of(fence.getBytes(StandardCharsets.UTF_8));
      w.call = new AppendInput(hashes(w.bodies), random.nextBoolean() ? w.knownTail : null, null, fence);
      w.myToken = fence;
    } else {
      int n = 1 + random.nextInt(3);
      List<byte[]> bodies = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        byte[] b = new byte[1 + random.nextInt(8)];
        random.nextBytes(b);
        bodies.add(b);
      }
      w.bodies = bodies;
      Long match = random.nextInt(10) < 3 ? w.knownTail : null;
      String fencingToken = w.myToken != null && random.nextBoolean() ? w.myToken : random.nextInt(8) == 0 ? "" : null;
      w.call = new AppendInput(hashes(bodies), match, fencingToken, null);
    }
    recorder.start(w.clientId, w.call);
    w.phase = Phase.STARTED;
  }

  /** The call's moment of truth: it takes effect (or not) against the stream now. */
  private void decide(Worker w, List<Pending> late) {
    switch (w.call) {
      case AppendInput a -> {
        int r = random.nextInt(10);
        if (r < 2) {
          int when = random.nextInt(3);
          if (when == 0) {
            apply(a, w.bodies);
          } else if (when == 1) {
            late.add(new Pending(a, w.bodies));
          }
          recorder.fail(w.clientId, false);
          w.clientId = nextClientId++; // retired, as s2-verification's clients do
          w.phase = Phase.IDLE;
          return;
        }
        if (r < 3) {
          w.result = S2Failure.APPEND_DEFINITE; // e.g. throttled: no effect
        } else {
          Long end = apply(a, w.bodies);
          w.result = end == null ? S2Failure.APPEND_DEFINITE : new AppendOutput(end);
        }
      }
      case ReadInput r -> {
        if (random.nextInt(10) == 0 && !w.mustSucceed) {
          w.result = S2Failure.READ;
        } else {
          long hash = StreamHash.EMPTY;
          for (byte[] body : stream) {
            hash = StreamHash.chain(hash, StreamHash.ofBody(body));
          }
          w.result = new ReadOutput(stream.size(), hash);
        }
      }
      case CheckTailInput c -> w.result = random.nextInt(10) == 0 ? S2Failure.CHECK_TAIL : new CheckTailOutput(stream.size());
    }
    w.phase = Phase.DONE;
  }

  /** S2's append: conditions against the state before the batch; the new end, or null if rejected. */
  private Long apply(AppendInput a, List<byte[]> bodies) {
    if (a.fencingToken() != null && !a.fencingToken().equals(token)) {
      return null;
    }
    if (a.matchSeqNum() != null && a.matchSeqNum() != stream.size()) {
      return null;
    }
    stream.addAll(bodies);
    if (a.setFencingToken() != null) {
      token = a.setFencingToken();
    }
    return (long) stream.size();
  }

  private static List<Long> hashes(List<byte[]> bodies) {
    return bodies.stream().map(StreamHash::ofBody).toList();
  }
}
