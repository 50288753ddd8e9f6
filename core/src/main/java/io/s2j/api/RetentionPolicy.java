package io.s2j.api;

/**
 * How long a stream keeps records (S2-API §4.1): an age in seconds (a u64, must be greater than 0,
 * checked by {@link StreamConfigSpec#validate}) or until explicitly trimmed.
 */
public sealed interface RetentionPolicy {
  /** Records older than {@code ageSeconds} (unsigned) are deleted automatically. */
  record Age(long ageSeconds) implements RetentionPolicy {}

  /** Records are kept until trimmed. */
  record Infinite() implements RetentionPolicy {}

  RetentionPolicy INFINITE = new Infinite();

  static RetentionPolicy ageSeconds(long ageSeconds) {
    return new Age(ageSeconds);
  }

  /** S2's message for an invalid policy, or null. */
  static String problem(RetentionPolicy policy) {
    return policy instanceof Age a && a.ageSeconds() == 0 ? "age must be greater than 0 seconds" : null;
  }
}
