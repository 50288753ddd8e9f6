package io.s2j.frontend;

import io.s2j.api.AppendAck;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinName;
import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.api.StreamName;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * An append session on one stream (S2-API §10.3): inputs are sent to the channel as they come
 * (pipelined, each tagged with its index so the channel applies them in order) and their outcomes
 * are delivered strictly in submission order.
 *
 * <p>The first input that does not get an ack (a failed condition, an error) ends the session:
 * every later input completes as failed too — <em>definitely</em> if it was never sent or the
 * channel refused it, <em>indefinitely</em> if it may have been applied (its own answer was an
 * ack, or was lost). One instance is owned by one frontend executor, like {@link DataPlane}.
 *
 * <p>A migration does not end the session: when an input is refused because its streamlet is
 * sealed, the session stops sending and waits for the answers of every input it sent. If the first
 * input not acknowledged was refused as "sealed" and every later one was refused definitely as well
 * (sealed, or refused by the channel because its session id already had a refusal — nothing of them
 * was applied), those inputs are sent again, in order, to the stream's next link under a new session
 * id (the channel orders a session per id), looking the chain up anew with the unary path's
 * backoff. Otherwise re-sending could reorder or duplicate, so the session ends as for any failure.
 */
public final class AppendSession {
  /** Inputs submitted and not yet delivered; a submit beyond it is refused and ends the session. */
  public static final int INPUTS_IN_FLIGHT_MAX = 1_000;

  private final Env env;
  private final DataPlane data;
  private final BasinName basin;
  private final StreamName stream;
  /** The client's encryption key (null if none was sent). */
  private final io.s2j.crypto.EncryptionKey key;
  private final String baseId;
  /** Bumped for every re-send after a migration: the session's id on the channel is new each time. */
  private int generation;
  /** The session is waiting for its sent inputs' answers before deciding whether to re-send. */
  private boolean rerouting;
  private int reroutes;
  /** Waiting out the backoff before re-sending after a migration. */
  private boolean backingOff;
  /**
   * The streamlet this generation's inputs went to (null before its first send). A channel orders a
   * session id's inputs by index, so all of one generation must reach one streamlet: an input
   * resolving to another link (the stream migrated between inputs) starts a new generation.
   */
  private Streamlet generationStreamlet;
  /** An input resolved to a new link: it waits until every answer from the old one is in. */
  private boolean switching;

  private final ArrayDeque<Entry> entries = new ArrayDeque<>();
  /** The entries not yet sent (a suffix of {@link #entries}), oldest first. */
  private final ArrayDeque<Entry> unsent = new ArrayDeque<>();
  private long nextIndex;
  private long inFlightBytes;
  private boolean resolving;
  private boolean closed;
  /** The first failure; once set, nothing more is sent. */
  private S2Error failure;

  private static final class Entry {
    final AppendInput input;
    final Promise<Outcome<AppendResult>> result;
    boolean sent;
    Outcome<AppendResult> outcome;

    Entry(AppendInput input, Promise<Outcome<AppendResult>> result) {
      this.input = input;
      this.result = result;
    }
  }

  AppendSession(Env env, DataPlane data, BasinName basin, StreamName stream, io.s2j.crypto.EncryptionKey key, String id) {
    this.env = env;
    this.data = data;
    this.basin = basin;
    this.stream = stream;
    this.key = key;
    this.baseId = id;
  }

  private String id() {
    return generation == 0 ? baseId : baseId + "~" + generation;
  }

  /**
   * Submits the next input. The result is its ack or condition failure, or — after the session
   * has failed — a failure saying so; results complete in submission order.
   */
  public Promise<Outcome<AppendResult>> submit(AppendInput input) {
    Promise<Outcome<AppendResult>> result = env.promise();
    if (closed) {
      result.complete(Outcome.failed(new S2Error(ErrorCode.INVALID, "append session is closed")));
      return result;
    }
    if (failure != null) {
      result.complete(Outcome.failed(ended()));
      return result;
    }
    if (entries.size() >= INPUTS_IN_FLIGHT_MAX) {
      failure = new S2Error(ErrorCode.RATE_LIMITED,
          "append session has " + INPUTS_IN_FLIGHT_MAX + " inputs in flight; wait for acks before sending more");
      result.complete(Outcome.failed(failure));
      return result;
    }
    Entry entry = new Entry(input, result);
    entries.addLast(entry);
    unsent.addLast(entry);
    inFlightBytes += input.batch().meteredBytes();
    pump();
    return result;
  }

  /** Accepts no more inputs; those submitted still complete. */
  public void close() {
    closed = true;
  }

  /** Inputs submitted and not yet delivered. */
  public int inFlightInputs() {
    return entries.size();
  }

  /** Metered bytes of the inputs submitted and not yet delivered (for transports' back-pressure). */
  public long inFlightBytes() {
    return inFlightBytes;
  }

  /** Sends the oldest unsent input, resolving the stream first (from the frontend's cache). */
  private void pump() {
    if (resolving || rerouting || backingOff || switching || unsent.isEmpty()) {
      return;
    }
    if (failure != null) {
      unsent.clear(); // never to be sent: deliver() settles them as failed definitely
      deliver();
      return;
    }
    Entry entry = unsent.pollFirst();
    resolving = true;
    data.appendTarget(basin, stream, key).onComplete((target, thrown) -> {
      resolving = false;
      if (thrown != null) {
        throw new IllegalStateException("stream lookup failed unexpectedly", thrown);
      }
      if (failure != null) {
        // The session failed while this lookup ran: the input was (or will be) settled as never
        // sent, so it must not be sent now.
        deliver();
        return;
      }
      if (rerouting) {
        // A migration refused an earlier input meanwhile: this one waits for the re-send decision,
        // behind the inputs that may be re-sent.
        unsent.addFirst(entry);
        reroute();
        deliver();
        return;
      }
      switch (target) {
        case Outcome.Failed<DataPlane.AppendTarget> f -> entry.outcome = new Outcome.Failed<>(f.error(), f.indefinite());
        case Outcome.Ok<DataPlane.AppendTarget> ok -> {
          Streamlet link = ok.value().streamlet();
          if (generationStreamlet != null && !sameStreamlet(generationStreamlet, link)) {
            if (answersOut()) {
              // Ordered after the inputs still out on the old link (any of them may yet be refused
              // by its seal and need re-sending first).
              unsent.addFirst(entry);
              switching = true;
              deliver();
              return;
            }
            generation++;
            nextIndex = 0;
          }
          generationStreamlet = link;
          entry.sent = true;
          long index = nextIndex++;
          int sentIn = generation;
          data.appendTo(ok.value().stream(), link, entry.input, id(), index).onComplete((outcome, t) -> {
            if (t != null) {
              throw new IllegalStateException("append failed unexpectedly", t);
            }
            if (sentIn != generation) {
              throw new IllegalStateException("an answer of an earlier generation arrived after the session re-sent");
            }
            entry.outcome = outcome;
            if (outcome instanceof Outcome.Ok<AppendResult> acked && acked.value() instanceof AppendAck) {
              reroutes = 0; // the stream is served again: the next migration starts a fresh count
            }
            if (failure == null && DataPlane.isSealed(outcome) && reroutes < DataPlane.SEALED_RETRIES_MAX) {
              rerouting = true;
            }
            if (rerouting) {
              reroute();
            }
            deliver();
            if (switching && !rerouting && !answersOut()) {
              switching = false; // the old link answered everything: the waiting input goes on
            }
            pump();
          });
        }
      }
      deliver();
      pump();
    });
  }

  /**
   * Once every sent input has its answer: re-sends the inputs from the first "sealed" refusal on if
   * all of their answers are "sealed", else lets the session fail at that refusal.
   */
  private void reroute() {
    if (resolving) {
      return; // a lookup is out: its answer puts its input back and calls again
    }
    if (answersOut()) {
      return;
    }
    rerouting = false;
    switching = false; // the re-send decision below orders what goes next
    List<Entry> again = new ArrayList<>();
    boolean allSealed = true;
    for (Entry e : entries) {
      if (!e.sent) {
        break;
      }
      if (again.isEmpty() && e.outcome instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck) {
        continue; // applied before the seal
      }
      // The first refusal must be the seal; the channel refuses every later input of the session
      // id after a refusal, definitely (nothing of them applied), so those go again too.
      allSealed &= again.isEmpty() ? DataPlane.isSealed(e.outcome) : DataPlane.isSealed(e.outcome) || refusedAfterRefusal(e.outcome);
      again.add(e);
    }
    if (again.isEmpty() || !allSealed) {
      return; // deliver() settles them: the session fails at its first non-ack, as without a migration
    }
    for (int i = again.size() - 1; i >= 0; i--) {
      Entry e = again.get(i);
      e.sent = false;
      e.outcome = null;
      unsent.addFirst(e);
    }
    data.countSessionResends(again.size());
    generation++;
    generationStreamlet = null;
    nextIndex = 0;
    int attempt = reroutes++;
    backingOff = true;
    env.scheduler().schedule(DataPlane.sealedBackoffNanos(attempt), () -> {
      backingOff = false;
      pump();
    });
  }

  private boolean answersOut() {
    for (Entry e : entries) {
      if (e.sent && e.outcome == null) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameStreamlet(Streamlet a, Streamlet b) {
    return a.streamletId() == b.streamletId() && a.channelId().equals(b.channelId());
  }

  /** The channel's definite refusal of an input whose session id already had one refused. */
  private static boolean refusedAfterRefusal(Outcome<AppendResult> o) {
    return o instanceof Outcome.Failed<AppendResult> f && !f.indefinite() && f.error().code() == ErrorCode.INVALID
        && f.error().message().contains(io.s2j.channel.ChannelRpc.SESSION_REFUSED);
  }

  /** Completes the oldest entries whose outcomes are known, in order. */
  private void deliver() {
    if (rerouting) {
      return; // answers are held until the re-send is decided
    }
    while (!entries.isEmpty()) {
      Entry head = entries.peekFirst();
      if (head.outcome == null && (head.sent || failure == null)) {
        return; // still waiting for its answer, or for its turn to be sent
      }
      entries.pollFirst();
      inFlightBytes -= head.input.batch().meteredBytes();
      head.result.complete(settle(head));
    }
  }

  private Outcome<AppendResult> settle(Entry e) {
    if (failure == null) {
      if (e.outcome instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck) {
        return e.outcome;
      }
      failure = switch (e.outcome) {
        case Outcome.Failed<AppendResult> f -> f.error();
        case Outcome.Ok<AppendResult> ok -> new S2Error(ErrorCode.INVALID, "append session input failed: " + ok.value());
      };
      return e.outcome;
    }
    // After the session failed: say whether this input may have been applied all the same.
    boolean mayHaveApplied = e.sent && switch (e.outcome) {
      case Outcome.Ok<AppendResult> ok -> ok.value() instanceof AppendAck;
      case Outcome.Failed<AppendResult> f -> f.indefinite();
      case null -> true;
    };
    return new Outcome.Failed<>(ended(), mayHaveApplied);
  }

  private S2Error ended() {
    return new S2Error(failure.code(), "append session ended by an earlier failure: " + failure.message());
  }
}
