package io.s2j.api;

/** How a stream picks each record's initial timestamp (S2-API §7.3). */
public enum TimestampingMode {
  /** The client's timestamp if given, else the arrival time. */
  CLIENT_PREFER("client-prefer"),
  /** The client's timestamp; a record without one fails the whole batch. */
  CLIENT_REQUIRE("client-require"),
  /** Always the arrival time. */
  ARRIVAL("arrival");

  private final String wireName;

  TimestampingMode(String wireName) {
    this.wireName = wireName;
  }

  /** The JSON spelling. */
  public String wireName() {
    return wireName;
  }

  /** The value of a JSON spelling, or null if there is none. */
  public static TimestampingMode fromWireName(String s) {
    for (TimestampingMode m : values()) {
      if (m.wireName.equals(s)) {
        return m;
      }
    }
    return null;
  }
}
