package io.s2j.checker.s2;

/** A check-tail call (JSON {@code "CheckTail"}). */
public record CheckTailInput() implements S2Call {
  public static final CheckTailInput INSTANCE = new CheckTailInput();
}
