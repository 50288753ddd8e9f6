package io.s2j.api;

import io.s2j.record.Limits;
import java.nio.charset.StandardCharsets;

/**
 * A basin name: 8 to 48 bytes of {@code [a-z0-9-]}, starting and ending with {@code [a-z0-9]}
 * (S2-API §2.6). Validation follows lite's order and messages: length, first char, last char,
 * the rest. Names order by their bytes, as listings do.
 */
public record BasinName(String value) implements Comparable<BasinName> {
  public BasinName {
    String problem = problem(value, "name", false);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /** The name, or lite's message for why {@code value} is not a valid basin name. */
  public static Checked<BasinName> parse(String value) {
    String problem = problem(value, "name", false);
    return problem == null ? Checked.ok(new BasinName(value)) : Checked.invalid(problem);
  }

  /** Validates a list {@code prefix}: up to 48 bytes, may be empty or end with '-'. */
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
      return "basin " + field + " is required";
    }
    int bytes = s.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.BASIN_NAME_BYTES_MAX) {
      return "basin " + field + " must not exceed " + Limits.BASIN_NAME_BYTES_MAX + " bytes in length";
    }
    if (!isPrefix && bytes < Limits.BASIN_NAME_BYTES_MIN) {
      return "basin " + field + " should be at least " + Limits.BASIN_NAME_BYTES_MIN + " bytes in length";
    }
    int[] cps = s.codePoints().toArray();
    if (cps.length == 0) {
      return null;
    }
    if (!lowerOrDigit(cps[0])) {
      return "basin " + field + " must begin with a lowercase letter or number";
    }
    int middleEnd = cps.length;
    if (!isPrefix && cps.length > 1) {
      // lite takes the last char off before checking the middle ones
      middleEnd = cps.length - 1;
      if (!lowerOrDigit(cps[middleEnd])) {
        return "basin " + field + " must end with a lowercase letter or number";
      }
    }
    for (int i = 1; i < middleEnd; i++) {
      if (!lowerOrDigit(cps[i]) && cps[i] != '-') {
        return "basin " + field + " must comprise lowercase letters, numbers, and hyphens";
      }
    }
    return null;
  }

  private static boolean lowerOrDigit(int c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  @Override
  public int compareTo(BasinName o) {
    return value.compareTo(o.value); // ASCII only, so char order is byte order
  }

  @Override
  public String toString() {
    return value;
  }
}
