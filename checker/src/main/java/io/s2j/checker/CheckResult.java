package io.s2j.checker;

import java.util.List;

/**
 * The outcome of a check.
 *
 * @param verdict the answer
 * @param unplaced for {@code NOT_LINEARIZABLE}: the operations that could not be placed in the
 *     deepest linearization the search reached (a minimal explanation); empty otherwise
 * @param explanation one human-readable paragraph (which partition failed, how far it got)
 */
public record CheckResult(Verdict verdict, List<Operation> unplaced, String explanation) {
  public CheckResult {
    unplaced = List.copyOf(unplaced);
  }
}
