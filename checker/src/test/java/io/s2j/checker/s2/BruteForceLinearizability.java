package io.s2j.checker.s2;

import io.s2j.checker.Model;
import io.s2j.checker.Operation;
import java.util.List;

/**
 * A deliberately naive linearizability check for tiny histories, used only to validate
 * {@link S2StreamModel} until the real checker is merged (the integrator should switch these tests
 * to it and keep this as a cross-check, or delete it).
 *
 * <p>It tries every order of the operations that respects real time ({@code a} before {@code b}
 * whenever {@code a} completed before {@code b} was invoked), stepping the model along it;
 * indefinite operations may also be left out. That is a depth-first search over "which operation
 * comes next": an operation may come next when no other unplaced operation completed before it was
 * invoked. The history is linearizable when some order places every definite operation.
 */
final class BruteForceLinearizability {
  static final int OPERATIONS_MAX = 8;

  private BruteForceLinearizability() {}

  static <S> boolean check(Model<S> model, List<Operation> history) {
    if (history.size() > OPERATIONS_MAX) {
      throw new IllegalArgumentException("brute force is for at most " + OPERATIONS_MAX + " operations, got " + history.size());
    }
    int definite = 0;
    for (int i = 0; i < history.size(); i++) {
      if (!history.get(i).indefinite()) {
        definite |= 1 << i;
      }
    }
    return search(model, history, model.init(), 0, definite);
  }

  private static <S> boolean search(Model<S> model, List<Operation> history, S state, int placed, int definite) {
    if ((placed & definite) == definite) {
      return true;
    }
    for (int i = 0; i < history.size(); i++) {
      if ((placed & (1 << i)) != 0 || !mayComeNext(history, placed, i)) {
        continue;
      }
      S next = model.step(state, history.get(i));
      if (next != null && search(model, history, next, placed | (1 << i), definite)) {
        return true;
      }
    }
    return false;
  }

  private static boolean mayComeNext(List<Operation> history, int placed, int candidate) {
    long invoked = history.get(candidate).invokeTime();
    for (int j = 0; j < history.size(); j++) {
      if (j != candidate && (placed & (1 << j)) == 0 && history.get(j).completeTime() < invoked) {
        return false;
      }
    }
    return true;
  }
}
