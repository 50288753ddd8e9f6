package io.s2j.api;

/**
 * A stream's storage tier (S2-API §4.1): a stream is activated on a channel of its class, and an
 * express channel writes its log to a quorum of three zonal buckets (docs/design.md, "Express
 * storage"); a cell without express channels serves express streams from standard ones.
 */
public enum StorageClass {
  STANDARD("standard"),
  EXPRESS("express");

  private final String wireName;

  StorageClass(String wireName) {
    this.wireName = wireName;
  }

  /** The JSON spelling. */
  public String wireName() {
    return wireName;
  }

  /** The value of a JSON spelling, or null if there is none. */
  public static StorageClass fromWireName(String s) {
    for (StorageClass c : values()) {
      if (c.wireName.equals(s)) {
        return c;
      }
    }
    return null;
  }
}
