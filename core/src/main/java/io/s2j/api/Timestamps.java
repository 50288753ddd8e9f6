package io.s2j.api;

import io.s2j.record.AppendRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * Timestamp assignment for a batch (S2-API §7.3): the mode picks each record's initial timestamp,
 * then it is capped at {@code now} unless uncapped, then raised to the previous record's so that
 * timestamps never decrease along the stream.
 */
public final class Timestamps {
  private Timestamps() {}

  public static final String REQUIRED_BUT_MISSING = "record timestamp was required but was missing";

  /**
   * The timestamps of {@code records}, in order, or {@code invalid} if the mode is client-require
   * and a record has none. {@code prevMaxMs} is the timestamp of the stream's last record,
   * pending batches included (0 for an empty stream); {@code nowMs} is sampled once per batch.
   */
  public static Checked<List<Long>> assign(
      List<AppendRecord> records, TimestampingMode mode, boolean uncapped, long nowMs, long prevMaxMs) {
    if (mode == TimestampingMode.CLIENT_REQUIRE) {
      for (AppendRecord r : records) {
        if (r.timestamp() == null) {
          return Checked.invalid(REQUIRED_BUT_MISSING);
        }
      }
    }
    List<Long> out = new ArrayList<>(records.size());
    long max = prevMaxMs;
    for (AppendRecord r : records) {
      long t = switch (mode) {
        case CLIENT_PREFER, CLIENT_REQUIRE -> r.timestamp() != null ? r.timestamp() : nowMs;
        case ARRIVAL -> nowMs;
      };
      if (!uncapped && t > nowMs) {
        t = nowMs;
      }
      if (t < max) {
        t = max;
      } else {
        max = t;
      }
      out.add(t);
    }
    return Checked.ok(List.copyOf(out));
  }
}
