package io.s2j.checker.jepsen;

/**
 * The input of an {@link io.s2j.checker.Operation} read from a Jepsen history: the invocation's
 * {@code :f}, {@code :key} (null when absent) and {@code :value}. The operation's output is the
 * completion's {@code :value} (null when indefinite).
 *
 * @param f the function's name without the colon, e.g. {@code "cas"}
 * @param key the {@code :key} field, or null
 * @param value the invocation's {@code :value}, as {@link JepsenEdn#normalize} leaves it
 */
public record JepsenCall(String f, Object key, Object value) {
  public JepsenCall {
    if (f == null || f.isEmpty()) {
      throw new IllegalArgumentException("a Jepsen call needs an :f");
    }
  }

  @Override
  public String toString() {
    return f + (key == null ? "" : " " + JepsenEdn.print(key)) + " " + JepsenEdn.print(value);
  }
}
