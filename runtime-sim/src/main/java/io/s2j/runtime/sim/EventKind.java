package io.s2j.runtime.sim;

/** Small integer codes of event kinds, folded into the trace hash. */
final class EventKind {
  private EventKind() {}

  static final int CONTROL = 0;
  static final int TASK = 1;
  static final int TIMER = 2;
  static final int NET_DELIVER = 3;
  static final int NET_RESPOND = 4;
  static final int STORE_APPLY = 5;
  static final int STORE_RESPOND = 6;
  static final int META_APPLY = 7;
  static final int META_RESPOND = 8;
  static final int FAULT = 9;
  static final int BOOT = 10;

  private static final String[] NAMES = {
    "control", "task", "timer", "net-deliver", "net-respond", "store-apply", "store-respond",
    "meta-apply", "meta-respond", "fault", "boot"
  };

  static String name(int kind) {
    return NAMES[kind];
  }
}
