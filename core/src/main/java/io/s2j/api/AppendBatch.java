package io.s2j.api;

import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.Limits;
import java.util.List;

/**
 * A batch of records that passed S2's request validation (S2-API §2.6, §7.2 step 1): 1 to 1000
 * records, each at most 1 MiB metered with well-formed commands and header names, at most 1 MiB
 * metered in total. Appended atomically.
 */
public record AppendBatch(List<AppendRecord> records, long meteredBytes) {
  public AppendBatch {
    records = List.copyOf(records);
    if (records.isEmpty() || records.size() > Limits.BATCH_RECORDS_MAX || meteredBytes > Limits.STORED_BATCH_METERED_BYTES_MAX) {
      throw new IllegalArgumentException("use AppendBatch.validate");
    }
  }

  /**
   * Validates in lite's order: each record as it is decoded (command payload / empty header name,
   * then its metered size), then the batch (empty, more than 1000 records, more than 1 MiB).
   * An invalid batch is {@code 422 invalid} with the returned message.
   */
  public static Checked<AppendBatch> validate(List<AppendRecord> records) {
    return validate(records, Limits.RECORD_METERED_BYTES_MAX, Limits.BATCH_METERED_BYTES_MAX);
  }

  /**
   * Validates a batch as a channel receives it for a stream with a cipher: its envelopes are sealed
   * (the frontend validated their plaintext), so sizes are checked against the stored bounds.
   */
  public static Checked<AppendBatch> validateSealed(List<AppendRecord> records) {
    return validate(records, Limits.STORED_RECORD_METERED_BYTES_MAX, Limits.STORED_BATCH_METERED_BYTES_MAX);
  }

  private static Checked<AppendBatch> validate(List<AppendRecord> records, long recordMax, long batchMax) {
    long meteredBytes = 0;
    for (AppendRecord r : records) {
      try {
        Command.parse(r.headers(), r.body());
      } catch (Command.InvalidRecord e) {
        return Checked.invalid(e.getMessage());
      }
      long bytes = r.meteredBytes();
      if (bytes > recordMax) {
        return Checked.invalid("record must have metered size less than 1 MiB");
      }
      meteredBytes += bytes;
    }
    if (records.isEmpty()) {
      return Checked.invalid("record batch must not be empty");
    }
    if (records.size() > Limits.BATCH_RECORDS_MAX) {
      return Checked.invalid("record batch must not exceed 1000 records");
    }
    if (meteredBytes > batchMax) {
      return Checked.invalid("record batch must not exceed a metered size of 1 MiB");
    }
    return Checked.ok(new AppendBatch(records, meteredBytes));
  }
}
