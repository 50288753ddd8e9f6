package io.s2j.frontend;

import io.s2j.api.S2Error;
import java.util.function.Function;

/**
 * The result of a {@link Catalog} operation: a value, or an S2 error that says explicitly whether
 * the operation may have taken effect (STYLE.md rule 8), since clients and the checker depend on it.
 */
public sealed interface Outcome<T> {
  /** The operation succeeded. */
  record Ok<T>(T value) implements Outcome<T> {}

  /**
   * The operation failed with {@code error}. When {@code indefinite}, it may have taken effect (a
   * metadata write whose outcome could not be resolved); otherwise it certainly changed nothing.
   */
  record Failed<T>(S2Error error, boolean indefinite) implements Outcome<T> {
    public Failed {
      if (error == null) {
        throw new IllegalArgumentException("a failure needs an error");
      }
    }
  }

  static <T> Outcome<T> ok(T value) {
    return new Ok<>(value);
  }

  /** A failure that certainly changed nothing. */
  static <T> Outcome<T> failed(S2Error error) {
    return new Failed<>(error, false);
  }

  /** This outcome with {@code fn} applied to its value; a failure passes through unchanged. */
  default <U> Outcome<U> map(Function<? super T, ? extends U> fn) {
    return switch (this) {
      case Ok<T> ok -> new Ok<>(fn.apply(ok.value()));
      case Failed<T> f -> new Failed<>(f.error(), f.indefinite());
    };
  }

  /** The value; throws if this is a failure (for tests and callers that already know). */
  default T orThrow() {
    return switch (this) {
      case Ok<T> ok -> ok.value();
      case Failed<T> f -> throw new IllegalStateException(f.error().code().wireCode() + ": " + f.error().message()
          + (f.indefinite() ? " (indefinite)" : ""));
    };
  }
}
