package io.s2j.runtime;

/** A scheduled task that can still be called off. */
public interface Cancellable {
  /**
   * Calls the task off if it has not started.
   *
   * @return true if this call prevented the task from running; false if it already ran or was
   *     already cancelled
   */
  boolean cancel();
}
