package io.s2j.checker.s2;

import java.util.Objects;

/**
 * One line of an S2 verification history: a call starting or finishing, by a client, for an
 * operation id. Lines are in real-time order.
 */
public sealed interface S2Event {
  /** {@code client_id} (unsigned). */
  long clientId();

  /** {@code op_id} (unsigned); a start and its finish share it. */
  long opId();

  /** {@code {"event":{"Start":…},"client_id":…,"op_id":…}}. */
  record Start(long clientId, long opId, S2Call call) implements S2Event {
    public Start {
      Objects.requireNonNull(call, "call");
    }
  }

  /** {@code {"event":{"Finish":…},"client_id":…,"op_id":…}}. */
  record Finish(long clientId, long opId, S2Finish finish) implements S2Event {
    public Finish {
      Objects.requireNonNull(finish, "finish");
    }
  }
}
