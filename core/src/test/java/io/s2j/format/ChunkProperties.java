package io.s2j.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.format.FormatArbitraries.ChunkCase;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ChunkProperties {
  @Provide
  Arbitrary<ChunkCase> chunks() {
    return FormatArbitraries.chunks();
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE) // edge cases would crowd out sizeable objects
  void chunksRoundTripWhole(@ForAll("chunks") ChunkCase c) {
    ChunkBuilder builder = new ChunkBuilder(c.origin().channelId(), c.origin().writerEpoch(), c.origin().chunkSeqNum(), c.origin().voidThroughChunkSeqNum());
    for (Chunk.Entry e : c.entries()) {
      builder.add(e);
    }
    long sizeBytes = builder.sizeBytes();
    Chunk.Built built = builder.build();
    assertEquals(sizeBytes, built.bytes().size(), "sizeBytes() predicts the built size");
    Chunk.Contents parsed = Chunk.parse(built.bytes());
    assertEquals(c.origin(), parsed.origin());
    assertEquals(c.entries(), parsed.entries());
    assertEquals(built.index(), parsed.index());
    assertEquals(c.origin(), Chunk.readOrigin(built.bytes().substring(0, Math.min(300, built.bytes().size()))));
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void chunksRoundTripByRange(@ForAll("chunks") ChunkCase c, @ForAll @IntRange(max = 200) int extraTailBytes) {
    Chunk.Built built = c.build();
    ByteString bytes = built.bytes();
    ByteString tail = bytes.substring(Math.max(0, bytes.size() - Chunk.FOOTER_BYTES - extraTailBytes));
    Footer footer = Chunk.readFooter(tail);
    assertEquals(built.footer(), footer);
    List<Chunk.IndexRow> index = Chunk.readIndex(slice(bytes, footer.indexOffsetBytes(), footer.indexBytes()), footer);
    assertEquals(built.index(), index);
    for (int i = 0; i < index.size(); i++) {
      Chunk.IndexRow row = index.get(i);
      assertEquals(c.entries().get(i), Chunk.readEntry(slice(bytes, row.offsetBytes(), row.lengthBytes()), row));
    }
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void aFlippedBitIsAlwaysDetected(@ForAll("chunks") ChunkCase c, @ForAll long pick) {
    Chunk.Built built = c.build();
    ByteString damaged = Damage.flipBit(built.bytes(), pick);
    assertThrows(CorruptData.class, () -> Chunk.parse(damaged));
    int at = Damage.flippedByte(built.bytes(), pick);
    rangeReadsRefuseExactlyTheDamaged(c, built, damaged, at, at);
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void twoSwappedBytesAreDetected(@ForAll("chunks") ChunkCase c, @ForAll long pickI, @ForAll long pickJ) {
    Chunk.Built built = c.build();
    int i = (int) Math.floorMod(pickI, (long) built.bytes().size());
    int j = (int) Math.floorMod(pickJ, (long) built.bytes().size());
    Assume.that(built.bytes().byteAt(i) != built.bytes().byteAt(j));
    ByteString damaged = Damage.swap(built.bytes(), i, j);
    assertThrows(CorruptData.class, () -> Chunk.parse(damaged));
    rangeReadsRefuseExactlyTheDamaged(c, built, damaged, i, j);
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void truncationIsDetected(@ForAll("chunks") ChunkCase c, @ForAll long pick) {
    ByteString bytes = c.build().bytes();
    assertThrows(CorruptData.class, () -> Chunk.parse(Damage.truncate(bytes, pick)));
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void extensionIsDetected(@ForAll("chunks") ChunkCase c, @ForAll @Size(min = 1, max = 40) byte[] garbage,
      @ForAll @IntRange(min = 1, max = 200) int repeatedTailBytes) {
    ByteString bytes = c.build().bytes();
    assertThrows(CorruptData.class, () -> Chunk.parse(bytes.concat(ByteString.copyFrom(garbage))));
    // a valid footer repeated at the end still does not describe the object
    ByteString ownTail = bytes.substring(bytes.size() - Math.min(repeatedTailBytes, bytes.size()));
    assertThrows(CorruptData.class, () -> Chunk.parse(bytes.concat(ownTail)));
  }

  @Test
  void unknownVersionsAreRefused() {
    ChunkBuilder b = new ChunkBuilder("channel-1", 7, 3, 0);
    b.add(new Chunk.Entry(1, List.of(new SequencedRecord(0, 5, List.of(), ByteString.copyFromUtf8("a"))), "tok", 0L));
    ByteString bytes = b.build().bytes();
    ByteString header2 = Damage.setByte(bytes, 4, (byte) 2);
    UnsupportedVersion e = assertThrows(UnsupportedVersion.class, () -> Chunk.parse(header2));
    assertTrue(e.getMessage().contains("format version 2 is not supported"), e.getMessage());
    assertThrows(UnsupportedVersion.class, () -> Chunk.readOrigin(header2));
    ByteString footer9 = Damage.setByte(bytes, bytes.size() - 9, (byte) 9);
    e = assertThrows(UnsupportedVersion.class, () -> Chunk.readFooter(footer9));
    assertTrue(e.getMessage().contains("chunk footer: format version 9"), e.getMessage());
    assertThrows(CorruptData.class, () -> Chunk.parse(Damage.setByte(bytes, 0, (byte) 'X')));
  }

  @Test
  void anEmptyChunkRoundTrips() {
    Chunk.Built built = new ChunkBuilder("c", 0, 0, 0).build();
    Chunk.Contents parsed = Chunk.parse(built.bytes());
    assertEquals(new Chunk.Origin("c", 0, 0, 0), parsed.origin());
    assertTrue(parsed.entries().isEmpty());
  }

  @Test
  void aReadEntryMustMatchItsRow() {
    ChunkBuilder b = new ChunkBuilder("c", 0, 0, 0);
    Chunk.IndexRow first = b.add(new Chunk.Entry(1, List.of(new SequencedRecord(0, 5, List.of(), ByteString.copyFromUtf8("a"))), null, null));
    Chunk.IndexRow second = b.add(new Chunk.Entry(2, List.of(new SequencedRecord(0, 5, List.of(), ByteString.copyFromUtf8("b"))), null, null));
    ByteString bytes = b.build().bytes();
    // the right bytes under another entry's row are refused, though the frame itself is intact
    Chunk.IndexRow misplaced = new Chunk.IndexRow(2, 0, 1, 5, 5, first.offsetBytes(), first.lengthBytes());
    assertThrows(CorruptData.class, () -> Chunk.readEntry(slice(bytes, first.offsetBytes(), first.lengthBytes()), misplaced));
    assertThrows(CorruptData.class, () -> Chunk.readEntry(slice(bytes, second.offsetBytes(), second.lengthBytes() - 1), second));
  }

  @Test
  void theBuilderRefusesWhatAWriterMustNotWrite() {
    ChunkBuilder b = new ChunkBuilder("c", 0, 0, 0);
    b.add(new Chunk.Entry(1, List.of(new SequencedRecord(10, 5, List.of(), ByteString.EMPTY)), null, null));
    // a gap in the streamlet's seq nums
    assertThrows(Invariants.InvariantViolation.class,
        () -> b.add(new Chunk.Entry(1, List.of(new SequencedRecord(12, 5, List.of(), ByteString.EMPTY)), null, null)));
    // a trim point past the tail
    assertThrows(Invariants.InvariantViolation.class,
        () -> new Chunk.Entry(1, List.of(new SequencedRecord(11, 5, List.of(), ByteString.EMPTY)), null, 13L));
    // a fencing token over 36 bytes
    assertThrows(Invariants.InvariantViolation.class,
        () -> new Chunk.Entry(1, List.of(new SequencedRecord(11, 5, List.of(), ByteString.EMPTY)), "x".repeat(37), null));
  }

  /**
   * Reads {@code damaged} the way a range reader does (footer, index, each entry) and checks that a
   * piece is refused exactly when it holds a damaged byte ({@code at1} or {@code at2}), and is otherwise
   * returned exactly as written.
   */
  private static void rangeReadsRefuseExactlyTheDamaged(ChunkCase c, Chunk.Built built, ByteString damaged, int at1, int at2) {
    int size = damaged.size();
    Footer footer;
    try {
      footer = Chunk.readFooter(damaged.substring(size - Chunk.FOOTER_BYTES));
      assertTrue(!overlaps(at1, at2, size - Chunk.FOOTER_BYTES, Chunk.FOOTER_BYTES), "damaged footer read");
    } catch (CorruptData e) {
      assertTrue(overlaps(at1, at2, size - Chunk.FOOTER_BYTES, Chunk.FOOTER_BYTES), "intact footer refused: " + e.getMessage());
      return;
    }
    assertEquals(built.footer(), footer);
    List<Chunk.IndexRow> index;
    try {
      index = Chunk.readIndex(slice(damaged, footer.indexOffsetBytes(), footer.indexBytes()), footer);
      assertTrue(!overlaps(at1, at2, footer.indexOffsetBytes(), footer.indexBytes()), "damaged index read");
    } catch (CorruptData e) {
      assertTrue(overlaps(at1, at2, footer.indexOffsetBytes(), footer.indexBytes()), "intact index refused: " + e.getMessage());
      return;
    }
    assertEquals(built.index(), index);
    for (int i = 0; i < index.size(); i++) {
      Chunk.IndexRow row = index.get(i);
      boolean hit = overlaps(at1, at2, row.offsetBytes(), row.lengthBytes());
      try {
        Chunk.Entry entry = Chunk.readEntry(slice(damaged, row.offsetBytes(), row.lengthBytes()), row);
        assertTrue(!hit, "damaged entry " + i + " read");
        assertEquals(c.entries().get(i), entry);
      } catch (CorruptData e) {
        assertTrue(hit, "intact entry " + i + " refused: " + e.getMessage());
      }
    }
  }

  /** Whether byte {@code at1} or {@code at2} lies in {@code [offsetBytes, offsetBytes + lengthBytes)}. */
  static boolean overlaps(int at1, int at2, long offsetBytes, long lengthBytes) {
    return (at1 >= offsetBytes && at1 < offsetBytes + lengthBytes) || (at2 >= offsetBytes && at2 < offsetBytes + lengthBytes);
  }

  static ByteString slice(ByteString bytes, long offsetBytes, long lengthBytes) {
    return bytes.substring((int) offsetBytes, (int) (offsetBytes + lengthBytes));
  }

  @net.jqwik.api.Property(tries = 50)
  void fenceChunksRoundTripAndHoldNoEntries(
      @net.jqwik.api.ForAll @net.jqwik.api.constraints.LongRange(min = 0, max = Long.MAX_VALUE - 100) long seq,
      @net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 64) int voided,
      @net.jqwik.api.ForAll @net.jqwik.api.constraints.LongRange(min = 0) long epoch) {
    ChunkBuilder b = new ChunkBuilder("ch-1", epoch, seq, seq + voided);
    Chunk.Contents parsed = Chunk.parse(b.build().bytes());
    assertEquals(new Chunk.Origin("ch-1", epoch, seq, seq + voided), parsed.origin());
    org.junit.jupiter.api.Assertions.assertTrue(parsed.origin().isFence());
    org.junit.jupiter.api.Assertions.assertTrue(parsed.entries().isEmpty());
    ChunkBuilder fence = new ChunkBuilder("ch-1", epoch, seq, seq + voided);
    assertThrows(io.s2j.runtime.Invariants.InvariantViolation.class,
        () -> fence.add(new Chunk.Entry(1, java.util.List.of(new io.s2j.record.SequencedRecord(0, 0, java.util.List.of(),
            com.google.protobuf.ByteString.copyFromUtf8("x"))), null, null)));
    assertThrows(io.s2j.runtime.Invariants.InvariantViolation.class, () -> new Chunk.Origin("ch-1", epoch, seq + 1, seq + 1));
  }
}
