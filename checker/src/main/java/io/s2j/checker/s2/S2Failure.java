package io.s2j.checker.s2;

/**
 * A failed call. Appends fail definitely (no side effects: JSON {@code "AppendDefiniteFailure"})
 * or indefinitely ({@code "AppendIndefiniteFailure"}: the batch may have been appended, then or
 * later). Reads and check-tails have no side effects, so their failures ({@code "ReadFailure"},
 * {@code "CheckTailFailure"}) are always definite.
 */
public enum S2Failure implements S2Finish {
  APPEND_DEFINITE("AppendDefiniteFailure", true),
  APPEND_INDEFINITE("AppendIndefiniteFailure", false),
  READ("ReadFailure", true),
  CHECK_TAIL("CheckTailFailure", true);

  private final String json;
  private final boolean definite;

  S2Failure(String json, boolean definite) {
    this.json = json;
    this.definite = definite;
  }

  /** The variant's spelling in the JSON-lines format. */
  public String json() {
    return json;
  }

  /** Whether the call certainly had no effect. */
  public boolean definite() {
    return definite;
  }

  /** The failure {@code call} can end with, definite or not as asked (reads: always definite). */
  public static S2Failure of(S2Call call, boolean definite) {
    return switch (call) {
      case AppendInput a -> definite ? APPEND_DEFINITE : APPEND_INDEFINITE;
      case ReadInput r -> READ;
      case CheckTailInput c -> CHECK_TAIL;
    };
  }

  /** Whether this finish is a legal end of {@code call}. */
  static boolean fits(S2Call call, S2Finish finish) {
    return switch (finish) {
      case AppendOutput o -> call instanceof AppendInput;
      case ReadOutput o -> call instanceof ReadInput;
      case CheckTailOutput o -> call instanceof CheckTailInput;
      case S2Failure f -> f == of(call, f.definite);
    };
  }
}
