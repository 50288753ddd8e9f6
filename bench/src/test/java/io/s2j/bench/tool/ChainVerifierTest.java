package io.s2j.bench.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The integrity check finds loss, duplicates, reorders and corruption where they happen. */
class ChainVerifierTest {
  private static final int RECORD_BYTES = 64;
  private static final long START = 1000;

  private record Rec(long seqNum, byte[] body) {}

  private static List<Rec> chain(int n) {
    RecordCodec.Encoder enc = new RecordCodec.Encoder(RECORD_BYTES, 42);
    List<Rec> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Rec(START + i, enc.next(1_000_000L * i)));
    }
    return out;
  }

  /** Feeds the records; returns the verifier. */
  private static ChainVerifier feed(List<Rec> recs) {
    ChainVerifier v = new ChainVerifier("reader", START, RECORD_BYTES);
    for (Rec r : recs) {
      if (v.accept(r.seqNum(), r.body(), 0, r.body().length) < 0) {
        break;
      }
    }
    return v;
  }

  @Test
  void anUnbrokenChainVerifiesAndYieldsTimestamps() {
    List<Rec> recs = chain(50);
    ChainVerifier v = new ChainVerifier("reader", START, RECORD_BYTES);
    for (int i = 0; i < recs.size(); i++) {
      assertEquals(1_000_000L * i, v.accept(recs.get(i).seqNum(), recs.get(i).body(), 0, RECORD_BYTES));
    }
    assertNull(v.failure());
    assertEquals(50, v.verified());
    assertEquals(START + 50, v.nextSeqNum());
  }

  @Test
  void aMissingRecordIsASeqNumGap() {
    List<Rec> recs = chain(10);
    recs.remove(4);
    ChainVerifier v = feed(recs);
    assertNotNull(v.failure());
    assertTrue(v.failure().contains("jumped from 1004 to 1005"), v.failure());
    assertEquals(4, v.verified());
  }

  @Test
  void aRecordDeliveredTwiceIsCaught() {
    List<Rec> recs = chain(10);
    recs.add(5, recs.get(4));
    ChainVerifier v = feed(recs);
    assertTrue(v.failure().contains("seq_num 1004 received again"), v.failure());
  }

  @Test
  void aRecordAppendedTwiceBreaksTheChainEvenWithContiguousSeqNums() {
    // The server assigned fresh seq_nums to a duplicated append: only the hash chain can tell.
    List<Rec> recs = chain(10);
    List<Rec> dup = new ArrayList<>(recs.subList(0, 5));
    dup.add(new Rec(START + 5, recs.get(4).body()));
    ChainVerifier v = feed(dup);
    assertTrue(v.failure().contains("hash chain broken at seq_num 1005"), v.failure());
    assertTrue(v.failure().contains("duplicate"), v.failure());
  }

  @Test
  void reorderedRecordsBreakTheChain() {
    List<Rec> recs = chain(10);
    List<Rec> swapped = new ArrayList<>(recs);
    swapped.set(3, new Rec(START + 3, recs.get(4).body()));
    swapped.set(4, new Rec(START + 4, recs.get(3).body()));
    ChainVerifier v = feed(swapped);
    assertTrue(v.failure().contains("hash chain broken at seq_num 1003"), v.failure());
    assertEquals(3, v.verified());
  }

  @Test
  void aLostRecordRenumberedByTheServerBreaksTheChain() {
    List<Rec> recs = chain(10);
    List<Rec> lost = new ArrayList<>();
    for (int i = 0; i < recs.size(); i++) {
      if (i != 6) {
        lost.add(new Rec(START + lost.size(), recs.get(i).body()));
      }
    }
    ChainVerifier v = feed(lost);
    assertTrue(v.failure().contains("hash chain broken at seq_num 1006"), v.failure());
  }

  @Test
  void aFlippedBitOrAWrongSizeIsCaught() {
    List<Rec> recs = chain(10);
    byte[] corrupt = recs.get(2).body().clone();
    corrupt[RECORD_BYTES - 1] ^= 1;
    List<Rec> c = new ArrayList<>(recs);
    c.set(2, new Rec(START + 2, corrupt));
    assertTrue(feed(c).failure().contains("hash chain broken at seq_num 1002"));

    List<Rec> s = new ArrayList<>(recs);
    s.set(7, new Rec(START + 7, new byte[RECORD_BYTES + 1]));
    assertTrue(feed(s).failure().contains("seq_num 1007 has a body of 65 bytes"));
  }

  @Test
  void nothingIsCheckedAfterTheFirstFailure() {
    List<Rec> recs = chain(10);
    recs.remove(2);
    ChainVerifier v = feed(recs);
    String first = v.failure();
    assertEquals(-1, v.accept(START + 2, recs.get(1).body(), 0, RECORD_BYTES));
    assertEquals(first, v.failure());
  }
}
