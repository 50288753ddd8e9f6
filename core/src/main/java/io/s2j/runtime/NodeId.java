package io.s2j.runtime;

import java.util.regex.Pattern;

/** The name of one node (process) of a deployment, such as {@code channel-2}. */
public record NodeId(String value) implements Comparable<NodeId> {
  private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  public NodeId {
    if (value == null || !VALID.matcher(value).matches()) {
      throw new IllegalArgumentException("invalid node id: " + value);
    }
  }

  public static NodeId of(String value) {
    return new NodeId(value);
  }

  @Override
  public int compareTo(NodeId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
