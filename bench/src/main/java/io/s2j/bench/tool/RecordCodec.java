package io.s2j.bench.tool;

import com.dynatrace.hash4j.hashing.Hashing;
import java.util.SplittableRandom;

/**
 * The bench's record body and its hash chain.
 *
 * <pre>
 * offset 0   8 bytes  write timestamp: {@link WallClock#nowNanos()} when the record was built (big-endian)
 * offset 8   8 bytes  chain hash h(i) (big-endian)
 * offset 16  padding  pseudo-random bytes up to the record size
 * </pre>
 *
 * {@code h(i) = xxh3_64(seed = h(i-1), bytes = timestamp ‖ padding)}, with {@code h(-1) = 0} for the
 * first record a writer appends in a run. A reader that recomputes the chain from the run's first
 * record finds any lost, duplicated, reordered or altered record at the first place it happens.
 */
final class RecordCodec {
  static final int TIMESTAMP_OFFSET = 0;
  static final int HASH_OFFSET = 8;
  static final int PADDING_OFFSET = 16;
  static final int HEADER_BYTES = 16;
  /** Distinct padding windows come from one random pool per writer (no random generation per record). */
  private static final int PAD_POOL_BYTES = 1 << 16;

  private RecordCodec() {}

  /** The chain hash of a record body whose predecessor's hash is {@code prevHash}. */
  static long chainHash(long prevHash, byte[] body, int off, int len) {
    return Hashing.xxh3_64(prevHash).hashStream()
        .putBytes(body, off + TIMESTAMP_OFFSET, 8)
        .putBytes(body, off + PADDING_OFFSET, len - PADDING_OFFSET)
        .getAsLong();
  }

  static long getLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xFF);
    }
    return v;
  }

  static void putLong(byte[] b, int off, long v) {
    for (int i = 7; i >= 0; i--) {
      b[off + i] = (byte) v;
      v >>>= 8;
    }
  }

  /** Builds a writer's records in chain order. Not thread-safe: one per writer. */
  static final class Encoder {
    private final int recordBytes;
    private final byte[] pool;
    private final SplittableRandom random;
    private long prevHash;
    private long records;

    Encoder(int recordBytes, long seed) {
      if (recordBytes < HEADER_BYTES) {
        throw new IllegalArgumentException("record of " + recordBytes + " bytes has no room for timestamp and hash");
      }
      this.recordBytes = recordBytes;
      this.random = new SplittableRandom(seed);
      this.pool = new byte[PAD_POOL_BYTES + recordBytes];
      random.nextBytes(pool);
    }

    /** The next record's body, stamped with {@code writeNanos}. */
    byte[] next(long writeNanos) {
      byte[] body = new byte[recordBytes];
      putLong(body, TIMESTAMP_OFFSET, writeNanos);
      System.arraycopy(pool, random.nextInt(PAD_POOL_BYTES), body, PADDING_OFFSET, recordBytes - PADDING_OFFSET);
      long h = chainHash(prevHash, body, 0, recordBytes);
      putLong(body, HASH_OFFSET, h);
      prevHash = h;
      records++;
      return body;
    }

    long records() {
      return records;
    }

    long lastHash() {
      return prevHash;
    }
  }
}
