package io.s2j.api;

/**
 * One field of a reconfiguration (PATCH) body, tri-state (S2-API §4.3): absent = keep the current
 * value, JSON {@code null} = clear it (unset at the optional layer), a value = set it.
 */
public sealed interface Patch<T> {
  /** The field was absent: keep the current value. */
  record Keep<T>() implements Patch<T> {}

  /** The field was {@code null}: unset it. */
  record Clear<T>() implements Patch<T> {}

  /** The field had a value. */
  record Set<T>(T value) implements Patch<T> {
    public Set {
      if (value == null) {
        throw new IllegalArgumentException("use Patch.clear() for null");
      }
    }
  }

  static <T> Patch<T> keep() {
    return new Keep<>();
  }

  static <T> Patch<T> clear() {
    return new Clear<>();
  }

  static <T> Patch<T> set(T value) {
    return new Set<>(value);
  }

  /** The new value of a plain field: the current one, null, or the set value. */
  default T apply(T current) {
    return switch (this) {
      case Keep<T> k -> current;
      case Clear<T> c -> null;
      case Set<T> s -> s.value();
    };
  }
}
