package io.s2j.checker.s2;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.util.List;

/**
 * The cumulative stream hash of s2-verification: one 64-bit value committing to every record body
 * from the head of a stream to its tail.
 *
 * <p>{@code hash(empty) = 0}; {@code hash(s ++ r) = XXH3-64(le64(XXH3-64(r.body, seed 0)), seed =
 * hash(s))}: each step hashes the 8 little-endian bytes of the body's hash, seeded with the hash so
 * far (hash4j's {@code hashLongToLong} hashes a long as its 8 little-endian bytes).
 */
public final class StreamHash {
  /** The hash of the empty stream. */
  public static final long EMPTY = 0L;

  private static final Hasher64 UNSEEDED = Hashing.xxh3_64();

  private StreamHash() {}

  /** XXH3-64 (seed 0) of a record body: the {@code record_hashes} entry for it. */
  public static long ofBody(byte[] body) {
    return UNSEEDED.hashBytesToLong(body);
  }

  /** Appends one record, given its body hash, to a stream whose hash is {@code streamHash}. */
  public static long chain(long streamHash, long recordHash) {
    return Hashing.xxh3_64(streamHash).hashLongToLong(recordHash);
  }

  /** Appends a batch of records, given their body hashes in order. */
  public static long fold(long streamHash, List<Long> recordHashes) {
    long acc = streamHash;
    for (long recordHash : recordHashes) {
      acc = chain(acc, recordHash);
    }
    return acc;
  }
}
