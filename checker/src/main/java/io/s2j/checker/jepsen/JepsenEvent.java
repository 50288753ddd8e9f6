package io.s2j.checker.jepsen;

import java.util.Objects;

/**
 * One client op map of a Jepsen history, e.g. {@code {:process 0, :type :invoke, :f :read,
 * :value nil}}.
 *
 * @param position index among the history's client op maps (0-based); the virtual time when the
 *     history has no {@code :time}
 * @param process the client process (an integer: Knossos checks only integer processes)
 * @param type one of {@code invoke}, {@code ok}, {@code fail}, {@code info}
 * @param f the function's name without the colon
 * @param key the {@code :key} field, or null when absent
 * @param value the {@code :value} field (may be null)
 * @param time the {@code :time} field, or null when absent
 */
public record JepsenEvent(int position, long process, Type type, String f, Object key, Object value, Long time) {
  /** Jepsen's op types. */
  public enum Type {
    INVOKE, OK, FAIL, INFO;

    /** The keyword's name, e.g. {@code "invoke"}. */
    public String edn() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public JepsenEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(f, "f");
  }
}
