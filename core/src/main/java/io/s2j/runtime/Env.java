package io.s2j.runtime;

import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.objectstore.ObjectStore;

/**
 * Everything a component instance may use to reach outside itself, bound to its own executor.
 *
 * <p>Components receive an {@code Env} in their constructor and use nothing else: this is what
 * lets the same code run in the simulator and on the real runtime.
 */
public record Env(
    NodeId node,
    Clock clock,
    Scheduler scheduler,
    Network network,
    ObjectStore objectStore,
    MetadataStore metadataStore,
    RandomSource random) {

  /** A promise owned by this instance's executor. */
  public <T> Promise<T> promise() {
    return Promise.create(scheduler);
  }
}
