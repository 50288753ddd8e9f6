package io.s2j.checker.s2;

/** An input that is not a well-formed S2 verification history. */
public final class S2FormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public S2FormatException(String message) {
    super(message);
  }
}
