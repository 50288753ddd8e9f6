package io.s2j.checker;

/** The three answers a linearizability check can give. */
public enum Verdict {
  LINEARIZABLE,
  NOT_LINEARIZABLE,
  /** The search ran out of its time or memory budget before deciding. */
  UNKNOWN
}
