package io.s2j.checker;

import java.util.List;

/**
 * A sequential specification: what a single copy of the object does, one operation at a time.
 *
 * <p>States must be immutable values with {@code equals}/{@code hashCode}: the checker memoises
 * (linearized set, state) pairs. A model is deterministic in the state it moves to, given the
 * operation's input and its observed output; an indefinite operation (output unknown) must be
 * accepted with whatever effect its input would have (the checker separately considers that it
 * never happened).
 *
 * @param <S> the state type
 */
public interface Model<S> {
  /** The state before any operation. */
  S init();

  /**
   * Applies {@code op} in {@code state}: the next state, or {@code null} when the observed output
   * is impossible from {@code state} (the operation cannot be linearized here).
   */
  S step(S state, Operation op);

  /**
   * Splits a history into independent sub-histories checked one by one (P-compositionality, e.g.
   * one per key); the default keeps the history whole.
   */
  default List<List<Operation>> partition(List<Operation> history) {
    return List.of(history);
  }

  /** A short human description of {@code op} for explanations, e.g. {@code "append 3 @ 0..3"}. */
  default String describe(Operation op) {
    return "op " + op.id() + " by " + op.process() + ": " + op.input() + " -> "
        + (op.indefinite() ? "?" : op.output());
  }
}
