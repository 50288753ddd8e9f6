package io.s2j.runtime;

/** The value of a promise that only signals completion. */
public enum Done {
  DONE
}
