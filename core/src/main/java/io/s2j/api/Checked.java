package io.s2j.api;

/**
 * The outcome of validating client input: the validated value, or S2's exact message for why it
 * is invalid. The caller picks the error code, because it depends on where the input came from
 * (a path segment is {@code bad_path}, a JSON body {@code bad_json}, a batch rule {@code invalid}).
 */
public sealed interface Checked<T> {
  /** The input was valid. */
  record Ok<T>(T value) implements Checked<T> {}

  /** The input was invalid, with S2's message. */
  record Invalid<T>(String message) implements Checked<T> {
    public Invalid {
      if (message == null || message.isEmpty()) {
        throw new IllegalArgumentException("an invalid input needs a message");
      }
    }
  }

  static <T> Checked<T> ok(T value) {
    return new Ok<>(value);
  }

  static <T> Checked<T> invalid(String message) {
    return new Invalid<>(message);
  }

  /** The value; throws {@link IllegalArgumentException} with the message if invalid (for input already known good). */
  default T orThrow() {
    return switch (this) {
      case Ok<T> ok -> ok.value();
      case Invalid<T> invalid -> throw new IllegalArgumentException(invalid.message());
    };
  }
}
