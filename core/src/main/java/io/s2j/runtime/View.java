package io.s2j.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What a component currently knows of something outside it that can change while it runs (the
 * cell's channels, its cachey nodes, its cops): an immutable snapshot and a version that grows by
 * one with every change. Components read {@link #current()} where they need it instead of keeping a
 * copy, so a newer snapshot takes effect at their next decision.
 *
 * <p>Owned by one executor, like the component it feeds: it is read and {@linkplain #update
 * updated} on that executor only (the real runtime hands a new snapshot over by submitting the
 * update to the component's executor; the simulator calls it from its one thread). A view shared
 * by components on different executors must therefore never change: give each executor its own.
 */
public final class View<T> {
  private T current;
  private long version;
  private final List<Consumer<? super T>> listeners = new ArrayList<>();

  private View(T initial) {
    this.current = Objects.requireNonNull(initial, "initial");
  }

  /** A view starting at {@code initial}, version 0. */
  public static <T> View<T> of(T initial) {
    return new View<>(initial);
  }

  /** The snapshot now. */
  public T current() {
    return current;
  }

  /** How many times the snapshot changed. */
  public long version() {
    return version;
  }

  /**
   * Replaces the snapshot with {@code next} and tells the listeners (in the order they were added,
   * before returning), unless {@code next} equals the current one.
   *
   * @return whether the snapshot changed
   */
  public boolean update(T next) {
    Objects.requireNonNull(next, "next");
    if (next.equals(current)) {
      return false;
    }
    current = next;
    version++;
    for (Consumer<? super T> l : List.copyOf(listeners)) {
      l.accept(next);
    }
    return true;
  }

  /** Calls {@code listener} with every later snapshot (not with the current one). */
  public void onChange(Consumer<? super T> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public String toString() {
    return "View(v" + version + ": " + current + ")";
  }
}
