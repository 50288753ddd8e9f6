package io.s2j.bench.tool;

/**
 * Checks what one reader receives from one stream: sequence numbers contiguous from the run's
 * first, every body the configured size, and the hash chain of {@link RecordCodec} unbroken. The
 * first violation is kept as a sentence; after it nothing more is checked.
 */
final class ChainVerifier {
  private final String who;
  private final int recordBytes;
  private final long startSeqNum;
  private long nextSeqNum;
  private long prevHash;
  private String failure;

  ChainVerifier(String who, long startSeqNum, int recordBytes) {
    this.who = who;
    this.startSeqNum = startSeqNum;
    this.nextSeqNum = startSeqNum;
    this.recordBytes = recordBytes;
  }

  /**
   * Checks the next received record; returns its write timestamp (epoch ns), or -1 once the
   * stream is known to be broken (see {@link #failure()}).
   */
  long accept(long seqNum, byte[] body, int off, int len) {
    if (failure != null) {
      return -1;
    }
    if (seqNum != nextSeqNum) {
      if (Long.compareUnsigned(seqNum, nextSeqNum) < 0) {
        return fail("seq_num " + seqNum + " received again after " + (nextSeqNum - 1) + " (duplicate or reordered record)");
      }
      return fail("seq_num jumped from " + nextSeqNum + " to " + seqNum + " (" + (seqNum - nextSeqNum) + " records missing)");
    }
    if (len != recordBytes) {
      return fail("seq_num " + seqNum + " has a body of " + len + " bytes, expected " + recordBytes);
    }
    long stored = RecordCodec.getLong(body, off + RecordCodec.HASH_OFFSET);
    long computed = RecordCodec.chainHash(prevHash, body, off, len);
    if (stored != computed) {
      String why = seqNum > startSeqNum && stored == prevHash
          ? "it repeats the previous record (duplicate)"
          : "record lost, duplicated, reordered or altered";
      return fail("hash chain broken at seq_num " + seqNum + ": " + why);
    }
    prevHash = computed;
    nextSeqNum++;
    return RecordCodec.getLong(body, off + RecordCodec.TIMESTAMP_OFFSET);
  }

  /** Records verified so far. */
  long verified() {
    return nextSeqNum - startSeqNum;
  }

  long nextSeqNum() {
    return nextSeqNum;
  }

  long lastHash() {
    return prevHash;
  }

  /** The first violation, or null. */
  String failure() {
    return failure;
  }

  /** Records a violation found outside the record stream (e.g. a session that ended early). */
  void failExternally(String why) {
    if (failure == null) {
      failure = who + ": " + why;
    }
  }

  private long fail(String why) {
    failure = who + ": " + why;
    return -1;
  }
}
