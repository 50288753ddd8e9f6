package io.s2j.runtime;

/**
 * Always-on invariant checks (never the {@code assert} keyword, which is off by default).
 *
 * <p>A failed invariant is a bug: it throws {@link InvariantViolation}, which crashes the node in
 * production and fails the seed in simulation.
 */
public final class Invariants {
  private Invariants() {}

  /** Throws {@link InvariantViolation} with the formatted message unless {@code condition} holds. */
  public static void check(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new InvariantViolation(String.format(java.util.Locale.ROOT, format, args));
    }
  }

  /** Throws {@link InvariantViolation} unless {@code condition} holds. */
  public static void check(boolean condition, String message) {
    if (!condition) {
      throw new InvariantViolation(message);
    }
  }

  /** An invariant of s2j did not hold: a bug, never an expected failure. */
  public static final class InvariantViolation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvariantViolation(String message) {
      super(message);
    }
  }
}
