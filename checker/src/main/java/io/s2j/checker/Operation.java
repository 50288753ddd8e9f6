package io.s2j.checker;

/**
 * One completed (or possibly-completed) client operation of a history, ready for checking.
 *
 * <p>{@code invokeTime} and {@code completeTime} order operations in real time: {@code a} precedes
 * {@code b} when {@code a.completeTime < b.invokeTime}. An <em>indefinite</em> operation (Jepsen's
 * {@code :info}, S2's indefinite failure) may take effect at any point after its invocation, or
 * never: its {@code completeTime} is {@link Long#MAX_VALUE} and its {@code output} is whatever
 * the model treats as "unknown" (usually {@code null}). Operations that failed definitely did not
 * happen and are not part of a checked history.
 *
 * @param id position in the history, unique, used in explanations
 * @param process the client (Jepsen process, s2-verification client id) that ran it
 * @param input what the client asked for, model-specific
 * @param output what the client observed, model-specific; {@code null} when indefinite
 */
public record Operation(
    int id, long process, long invokeTime, long completeTime, Object input, Object output, boolean indefinite) {

  public Operation {
    if (completeTime < invokeTime) {
      throw new IllegalArgumentException("operation " + id + " completes before it is invoked");
    }
    if (indefinite && completeTime != Long.MAX_VALUE) {
      throw new IllegalArgumentException("indefinite operation " + id + " must complete at Long.MAX_VALUE");
    }
  }
}
