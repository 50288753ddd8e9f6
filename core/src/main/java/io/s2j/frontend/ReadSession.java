package io.s2j.frontend;

import io.s2j.api.S2Error;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.util.List;

/**
 * A read session (S2-API §8, §9): catch-up batches, then — if it may follow — heartbeats and live
 * batches until a bound, {@code until}, the {@code wait} deadline, cancellation or an error ends
 * it. Events go to the sink in order, on the frontend's executor.
 */
public interface ReadSession {
  /** What a session emits. */
  sealed interface Event {}

  /**
   * Records; {@code tail} is set for a live batch (the position right after it), null in catch-up.
   *
   * <p>{@code shared}: a live batch that this session received whole from its stream's shared
   * follow (no record cut by its position, its limits or decryption). Every session that receives
   * the same live batch whole gets the same {@code records} list instance and an equal {@code tail},
   * so a consumer may encode such a batch once and send the same bytes to all of them (the server
   * does: fan-out to many tailing readers). Never set for catch-up batches.
   */
  record Batch(List<SequencedRecord> records, StreamPosition tail, boolean shared) implements Event {
    public Batch {
      records = List.copyOf(records); // the same instance when it is already an unmodifiable list
    }

    public Batch(List<SequencedRecord> records, StreamPosition tail) {
      this(records, tail, false);
    }
  }

  /** No records, the current durable tail: sent on entering follow mode and then every 5–15 s of idleness. */
  record Heartbeat(StreamPosition tail) implements Event {}

  /** The start is beyond the tail (HTTP 416), sent before anything else; the session is over. */
  record Unsatisfiable(StreamPosition tail) implements Event {}

  /** The session ended normally. */
  record End() implements Event {}

  /** The session failed; nothing follows. */
  record Failed(S2Error error, boolean indefinite) implements Event {}

  /** Stops the session; no event follows. */
  void cancel();

  /**
   * Back-pressure: the consumer cannot take more now. The session stops reading ahead once the
   * step in progress is emitted (at most about {@code DataPlane.CATCH_UP_STEP_BYTES}, or one live
   * batch), leaves its stream's shared follow, and holds its {@code wait} deadline; heartbeats
   * and the end may still come. Idempotent.
   */
  void pause();

  /** The consumer drained: the session carries on from where it stopped (catching up on its own if it left the follow). */
  void resume();
}
