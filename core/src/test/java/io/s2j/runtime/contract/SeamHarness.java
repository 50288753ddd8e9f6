package io.s2j.runtime.contract;

import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import java.util.function.Function;

/**
 * What a runtime gives the contract suites: environments for named nodes, and a way to run an
 * operation on a node's executor and wait for its promise (in virtual time under simulation, on a
 * latch in the real runtime).
 */
public interface SeamHarness extends AutoCloseable {
  /** The environment of node {@code name}, created on first use; all nodes share the stores. */
  Env env(String name);

  /**
   * Runs {@code op} on {@code env}'s executor and returns its promise's value, or throws its
   * failure (unchecked failures as they are).
   */
  <T> T await(Env env, Function<Env, Promise<T>> op);

  @Override
  default void close() {}
}
