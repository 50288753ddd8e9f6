package io.s2j.api;

import io.s2j.record.Limits;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A stream name: 1 to 512 bytes of any UTF-8, not "." or ".." (S2-API §2.6), validated with lite's
 * messages. Names order by their UTF-8 bytes, as listings do.
 */
public record StreamName(String value) implements Comparable<StreamName> {
  public StreamName {
    String problem = problem(value, "name", false);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /** The name, or lite's message for why {@code value} is not a valid stream name. */
  public static Checked<StreamName> parse(String value) {
    String problem = problem(value, "name", false);
    return problem == null ? Checked.ok(new StreamName(value)) : Checked.invalid(problem);
  }

  /** Validates a list {@code prefix}: at most 512 bytes; empty, "." and ".." are fine. */
  public static Checked<String> parsePrefix(String prefix) {
    String problem = problem(prefix, "prefix", true);
    return problem == null ? Checked.ok(prefix) : Checked.invalid(problem);
  }

  /** Validates a list {@code start_after}: the same rules as a prefix. */
  public static Checked<String> parseStartAfter(String startAfter) {
    String problem = problem(startAfter, "start_after", true);
    return problem == null ? Checked.ok(startAfter) : Checked.invalid(problem);
  }

  private static String problem(String s, String field, boolean isPrefix) {
    if (s == null) {
      return "stream " + field + " is required";
    }
    if (!isPrefix && s.isEmpty()) {
      return "stream " + field + " must not be empty";
    }
    if (!isPrefix && (s.equals(".") || s.equals(".."))) {
      return "stream " + field + " must not be \".\" or \"..\"";
    }
    if (s.getBytes(StandardCharsets.UTF_8).length > Limits.STREAM_NAME_BYTES_MAX) {
      return "stream " + field + " must not exceed " + Limits.STREAM_NAME_BYTES_MAX + " bytes in length";
    }
    return null;
  }

  @Override
  public int compareTo(StreamName o) {
    return Arrays.compareUnsigned(value.getBytes(StandardCharsets.UTF_8), o.value.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return value;
  }
}
