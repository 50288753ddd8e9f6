package io.s2j.format;

import static io.s2j.format.ChunkProperties.overlaps;
import static io.s2j.format.ChunkProperties.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.format.FormatArbitraries.SegmentCase;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.ToLongFunction;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class SegmentProperties {
  @Provide
  Arbitrary<SegmentCase> segments() {
    return FormatArbitraries.segments();
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE) // edge cases would crowd out sizeable objects
  void segmentsRoundTripWhole(@ForAll("segments") SegmentCase s) {
    Segment.Built built = s.build();
    Segment.Contents parsed = Segment.parse(built.bytes());
    assertEquals(s.records(), parsed.records());
    assertEquals(built.index(), parsed.index());
    SequencedRecord first = s.records().get(0);
    SequencedRecord last = s.records().get(s.records().size() - 1);
    Segment.Summary expected = new Segment.Summary(s.streamletId(), first.seqNum(), s.records().size(), first.timestamp(), last.timestamp());
    assertEquals(expected, built.summary());
    assertEquals(expected, parsed.summary());
    assertEquals(expected, Segment.readSummary(built.bytes()));
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void blocksCloseAtTheirTarget(@ForAll("segments") SegmentCase s) {
    Segment.Built built = s.build();
    List<Segment.BlockRow> index = built.index();
    for (int i = 0; i < index.size() - 1; i++) {
      Segment.BlockRow row = index.get(i);
      List<SequencedRecord> block = Segment.readBlock(slice(built.bytes(), row.offsetBytes(), row.lengthBytes()), row);
      long bytes = RecordBatchCodec.encode(block).size();
      List<SequencedRecord> allButLast = block.subList(0, block.size() - 1);
      long bytesBeforeLast = allButLast.isEmpty() ? 0 : RecordBatchCodec.encode(allButLast).size();
      assertTrue(bytes >= s.blockBytesTarget() || block.size() == Segment.BLOCK_RECORDS_MAX, "block " + i + " closed early");
      assertTrue(bytesBeforeLast < s.blockBytesTarget() + 20, "block " + i + " closed late");
    }
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void segmentsRoundTripByRange(@ForAll("segments") SegmentCase s, @ForAll @IntRange(max = 200) int extraTailBytes) {
    Segment.Built built = s.build();
    ByteString bytes = built.bytes();
    Footer footer = Segment.readFooter(bytes.substring(Math.max(0, bytes.size() - Segment.FOOTER_BYTES - extraTailBytes)));
    assertEquals(built.footer(), footer);
    List<Segment.BlockRow> index = Segment.readIndex(slice(bytes, footer.indexOffsetBytes(), footer.indexBytes()), footer);
    assertEquals(built.index(), index);
    List<SequencedRecord> all = new ArrayList<>();
    for (Segment.BlockRow row : index) {
      all.addAll(Segment.readBlock(slice(bytes, row.offsetBytes(), row.lengthBytes()), row));
    }
    assertEquals(s.records(), all);
  }

  /** Lookups agree with a linear scan, for positions below, inside, at every block boundary and above. */
  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void lookupsAgreeWithALinearScan(@ForAll("segments") SegmentCase s) {
    Segment.Built built = s.build();
    List<Segment.BlockRow> index = built.index();
    List<SequencedRecord> records = s.records();

    TreeSet<Long> seqNums = new TreeSet<>(List.of(0L, Long.MAX_VALUE));
    TreeSet<Long> timestamps = new TreeSet<>(List.of(0L, Long.MAX_VALUE));
    for (Segment.BlockRow row : index) {
      for (long d = -1; d <= 1; d++) {
        seqNums.add(Math.max(0, row.firstSeqNum() + d));
        seqNums.add(Math.max(0, row.nextSeqNum() - 1 + d));
        timestamps.add(Math.max(0, row.firstTimestamp() + d));
        timestamps.add(Math.max(0, row.lastTimestamp() + d));
      }
    }
    for (long seqNum : seqNums) {
      int block = Segment.blockForSeqNum(index, seqNum);
      assertEquals(linearBlock(index, r -> r.nextSeqNum() - 1, seqNum), block, "block for seq num " + seqNum);
      assertEquals(firstAtLeast(records, SequencedRecord::seqNum, seqNum), firstFromBlock(built, block, b -> Segment.fromSeqNum(b, seqNum)));
    }
    for (long ts : timestamps) {
      int block = Segment.blockForTimestamp(index, ts);
      assertEquals(linearBlock(index, Segment.BlockRow::lastTimestamp, ts), block, "block for timestamp " + ts);
      assertEquals(firstAtLeast(records, SequencedRecord::timestamp, ts), firstFromBlock(built, block, b -> Segment.fromTimestamp(b, ts)));
    }
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void aFlippedBitIsAlwaysDetected(@ForAll("segments") SegmentCase s, @ForAll long pick) {
    Segment.Built built = s.build();
    ByteString damaged = Damage.flipBit(built.bytes(), pick);
    assertThrows(CorruptData.class, () -> Segment.parse(damaged));
    int at = Damage.flippedByte(built.bytes(), pick);
    rangeReadsRefuseExactlyTheDamaged(s, built, damaged, at, at);
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void twoSwappedBytesAreDetected(@ForAll("segments") SegmentCase s, @ForAll long pickI, @ForAll long pickJ) {
    Segment.Built built = s.build();
    int i = (int) Math.floorMod(pickI, (long) built.bytes().size());
    int j = (int) Math.floorMod(pickJ, (long) built.bytes().size());
    Assume.that(built.bytes().byteAt(i) != built.bytes().byteAt(j));
    ByteString damaged = Damage.swap(built.bytes(), i, j);
    assertThrows(CorruptData.class, () -> Segment.parse(damaged));
    rangeReadsRefuseExactlyTheDamaged(s, built, damaged, i, j);
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void truncationAndExtensionAreDetected(@ForAll("segments") SegmentCase s, @ForAll long pick,
      @ForAll @Size(min = 1, max = 40) byte[] garbage, @ForAll @IntRange(min = 1, max = 200) int repeatedTailBytes) {
    ByteString bytes = s.build().bytes();
    assertThrows(CorruptData.class, () -> Segment.parse(Damage.truncate(bytes, pick)));
    assertThrows(CorruptData.class, () -> Segment.parse(bytes.concat(ByteString.copyFrom(garbage))));
    ByteString ownTail = bytes.substring(bytes.size() - Math.min(repeatedTailBytes, bytes.size()));
    assertThrows(CorruptData.class, () -> Segment.parse(bytes.concat(ownTail)));
  }

  @Test
  void unknownVersionsAreRefused() {
    SegmentBuilder b = new SegmentBuilder(9, 64);
    b.add(new SequencedRecord(0, 5, List.of(), ByteString.copyFromUtf8("a")));
    ByteString bytes = b.build().bytes();
    ByteString header3 = Damage.setByte(bytes, 4, (byte) 3);
    UnsupportedVersion e = assertThrows(UnsupportedVersion.class, () -> Segment.parse(header3));
    assertTrue(e.getMessage().contains("segment header: format version 3 is not supported"), e.getMessage());
    ByteString footer0 = Damage.setByte(bytes, bytes.size() - 9, (byte) 0);
    assertThrows(UnsupportedVersion.class, () -> Segment.readFooter(footer0));
    // a chunk is not a segment
    ByteString chunk = new ChunkBuilder("c", 0, 0, 0).build().bytes();
    assertThrows(CorruptData.class, () -> Segment.parse(chunk));
  }

  @Test
  void theBuilderRefusesWhatAWriterMustNotWrite() {
    SegmentBuilder b = new SegmentBuilder(9, 64);
    assertThrows(Invariants.InvariantViolation.class, b::build);
    b.add(new SequencedRecord(3, 5, List.of(), ByteString.EMPTY));
    assertThrows(Invariants.InvariantViolation.class, () -> b.add(new SequencedRecord(5, 5, List.of(), ByteString.EMPTY)));
    assertThrows(Invariants.InvariantViolation.class, () -> b.add(new SequencedRecord(4, 4, List.of(), ByteString.EMPTY)));
    assertThrows(Invariants.InvariantViolation.class, () -> new SegmentBuilder(9, 0));
  }

  private static void rangeReadsRefuseExactlyTheDamaged(SegmentCase s, Segment.Built built, ByteString damaged, int at1, int at2) {
    int size = damaged.size();
    Footer footer;
    try {
      footer = Segment.readFooter(damaged.substring(size - Segment.FOOTER_BYTES));
      assertTrue(!overlaps(at1, at2, size - Segment.FOOTER_BYTES, Segment.FOOTER_BYTES), "damaged footer read");
    } catch (CorruptData e) {
      assertTrue(overlaps(at1, at2, size - Segment.FOOTER_BYTES, Segment.FOOTER_BYTES), "intact footer refused: " + e.getMessage());
      return;
    }
    assertEquals(built.footer(), footer);
    List<Segment.BlockRow> index;
    try {
      index = Segment.readIndex(slice(damaged, footer.indexOffsetBytes(), footer.indexBytes()), footer);
      assertTrue(!overlaps(at1, at2, footer.indexOffsetBytes(), footer.indexBytes()), "damaged index read");
    } catch (CorruptData e) {
      assertTrue(overlaps(at1, at2, footer.indexOffsetBytes(), footer.indexBytes()), "intact index refused: " + e.getMessage());
      return;
    }
    assertEquals(built.index(), index);
    int recordsBefore = 0;
    for (int i = 0; i < index.size(); i++) {
      Segment.BlockRow row = index.get(i);
      boolean hit = overlaps(at1, at2, row.offsetBytes(), row.lengthBytes());
      try {
        List<SequencedRecord> block = Segment.readBlock(slice(damaged, row.offsetBytes(), row.lengthBytes()), row);
        assertTrue(!hit, "damaged block " + i + " read");
        assertEquals(s.records().subList(recordsBefore, recordsBefore + row.recordCount()), block);
      } catch (CorruptData e) {
        assertTrue(hit, "intact block " + i + " refused: " + e.getMessage());
      }
      recordsBefore += row.recordCount();
    }
  }

  /** The first block whose {@code key} is at least {@code target}, by scanning. */
  private static int linearBlock(List<Segment.BlockRow> index, ToLongFunction<Segment.BlockRow> key, long target) {
    for (int i = 0; i < index.size(); i++) {
      if (key.applyAsLong(index.get(i)) >= target) {
        return i;
      }
    }
    return index.size();
  }

  private static SequencedRecord firstAtLeast(List<SequencedRecord> records, ToLongFunction<SequencedRecord> key, long target) {
    return records.stream().filter(r -> key.applyAsLong(r) >= target).findFirst().orElse(null);
  }

  /** The first record a reader gets by reading block {@code block} and skipping within it. */
  private static SequencedRecord firstFromBlock(Segment.Built built, int block,
      java.util.function.Function<List<SequencedRecord>, List<SequencedRecord>> skip) {
    if (block == built.index().size()) {
      return null;
    }
    Segment.BlockRow row = built.index().get(block);
    List<SequencedRecord> rest = skip.apply(Segment.readBlock(slice(built.bytes(), row.offsetBytes(), row.lengthBytes()), row));
    assertTrue(!rest.isEmpty(), "the found block holds the record");
    return rest.get(0);
  }
}
