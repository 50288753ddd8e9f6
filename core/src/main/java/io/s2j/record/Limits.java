package io.s2j.record;

/** S2's limits (S2-API §2.6), in one place. */
public final class Limits {
  private Limits() {}

  public static final int BATCH_RECORDS_MAX = 1000;
  public static final long BATCH_METERED_BYTES_MAX = 1024 * 1024;
  /** A record may meter exactly this much; the check is {@code > max}. */
  public static final long RECORD_METERED_BYTES_MAX = 1024 * 1024;
  public static final int READ_BATCH_RECORDS_MAX = 1000;
  public static final long READ_BATCH_METERED_BYTES_MAX = 1024 * 1024;
  public static final int FENCING_TOKEN_BYTES_MAX = 36;
  public static final int REQUEST_TOKEN_BYTES_MAX = 36;
  public static final int BASIN_NAME_BYTES_MIN = 8;
  public static final int BASIN_NAME_BYTES_MAX = 48;
  public static final int STREAM_NAME_BYTES_MAX = 512;
  public static final int LIST_LIMIT_MAX = 1000;
  public static final long UNARY_READ_WAIT_SECONDS_MAX = 60;

  /**
   * What a stored record may meter: an encrypted record is stored sealed (no headers; the body is
   * format, nonce, ciphertext of the envelope and tag), which meters at most 1/128 plus 52 bytes
   * more than the plaintext the client's limits applied to (docs/design.md, "Encryption").
   */
  public static final long STORED_RECORD_METERED_BYTES_MAX = RECORD_METERED_BYTES_MAX + RECORD_METERED_BYTES_MAX / 128 + 64;
  /** What a stored batch may meter: {@link #BATCH_METERED_BYTES_MAX}, sealed record by record. */
  public static final long STORED_BATCH_METERED_BYTES_MAX = BATCH_METERED_BYTES_MAX + BATCH_METERED_BYTES_MAX / 128 + 64L * BATCH_RECORDS_MAX;
}
