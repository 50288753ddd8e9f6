package io.s2j.runtime;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Exempts a type or method from the build's determinism bans (build/deterministic.signatures).
 *
 * <p>Only for code that observes the host without feeding behaviour back into a run, such as
 * measuring the wall-clock duration of a simulation for its report line. {@link #value()} says why.
 */
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.FIELD})
public @interface NonDeterministic {
  /** Why the exemption cannot change what a seed does. */
  String value();
}
