package io.s2j.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.record.Header;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class RecordBatchCodecProperties {
  @Provide
  Arbitrary<List<SequencedRecord>> batches() {
    return FormatArbitraries.batches();
  }

  @Property(tries = 200)
  void batchesRoundTrip(@ForAll("batches") List<SequencedRecord> batch) {
    ByteString bytes = RecordBatchCodec.encode(batch);
    assertEquals(batch, RecordBatchCodec.decode(bytes, Limits.BATCH_RECORDS_MAX, Limits.BATCH_METERED_BYTES_MAX));
  }

  /** The run has no checksum of its own, but decoding damaged bytes still fails only as CorruptData. */
  @Property(tries = 300)
  void damagedRunsFailOnlyAsCorruptData(@ForAll("batches") List<SequencedRecord> batch, @ForAll long pick, @ForAll byte value) {
    ByteString bytes = RecordBatchCodec.encode(batch);
    for (ByteString damaged : List.of(Damage.flipBit(bytes, pick), Damage.truncate(bytes, pick), Damage.setByte(bytes, pick, value))) {
      try {
        RecordBatchCodec.decode(damaged, Limits.BATCH_RECORDS_MAX, Limits.BATCH_METERED_BYTES_MAX);
      } catch (CorruptData expected) {
        // fine: refused with the typed error
      }
    }
  }

  @Property(tries = 300)
  void garbageFailsOnlyAsCorruptData(@ForAll @Size(max = 64) byte[] garbage) {
    try {
      List<SequencedRecord> records = RecordBatchCodec.decode(ByteString.copyFrom(garbage), Limits.BATCH_RECORDS_MAX, Long.MAX_VALUE);
      assertTrue(!records.isEmpty());
    } catch (CorruptData expected) {
      // fine
    }
  }

  @Test
  void lengthsAreCheckedBeforeAllocating() {
    // 1000 records claimed, 3 bytes left
    assertCorrupt(new ByteWriter().varint(0).varint(1000).varint(0).varint(0).varint(0));
    // 2^31 headers claimed
    assertCorrupt(new ByteWriter().varint(0).varint(1).varint(0).varint(1L << 31).varint(0));
    // a 2^60-byte body
    assertCorrupt(new ByteWriter().varint(0).varint(1).varint(0).varint(0).varint(1L << 60));
    // a header name longer than what remains
    assertCorrupt(new ByteWriter().varint(0).varint(1).varint(0).varint(1).varint(500).raw(ByteString.copyFromUtf8("ab")));
  }

  @Test
  void outOfRangeValuesAreRefused() {
    // seq nums past 2^63-1
    assertCorrupt(new ByteWriter().varint(Long.MAX_VALUE).varint(2).varint(0).varint(0).varint(0).varint(0).varint(0).varint(0));
    // a u64 seq num above 2^63-1
    assertCorrupt(new ByteWriter().varint(-1L).varint(1).varint(0).varint(0).varint(0));
    // timestamps past 2^63-1
    assertCorrupt(new ByteWriter().varint(0).varint(2).varint(Long.MAX_VALUE).varint(0).varint(0).varint(1).varint(0).varint(0));
    // zero records
    assertCorrupt(new ByteWriter().varint(0).varint(0));
    // an empty header name outside a command record
    ByteWriter twoHeaders = new ByteWriter().varint(0).varint(1).varint(0).varint(2);
    twoHeaders.lengthPrefixed(ByteString.EMPTY).lengthPrefixed(ByteString.copyFromUtf8("fence"));
    twoHeaders.lengthPrefixed(ByteString.copyFromUtf8("a")).lengthPrefixed(ByteString.EMPTY).lengthPrefixed(ByteString.EMPTY);
    assertCorrupt(twoHeaders);
    // an unknown command
    ByteWriter unknown = new ByteWriter().varint(0).varint(1).varint(0).varint(1);
    unknown.lengthPrefixed(ByteString.EMPTY).lengthPrefixed(ByteString.copyFromUtf8("nope")).lengthPrefixed(ByteString.EMPTY);
    assertCorrupt(unknown);
    // trailing bytes
    assertCorrupt(new ByteWriter().varint(0).varint(1).varint(0).varint(0).varint(0).u8(7));
  }

  @Test
  void limitsAreEnforcedOnDecode() {
    List<SequencedRecord> three = List.of(record(5, 1, 10), record(6, 1, 10), record(7, 2, 10));
    ByteString bytes = RecordBatchCodec.encode(three);
    long meteredBytes = three.stream().mapToLong(SequencedRecord::meteredBytes).sum();
    assertEquals(three, RecordBatchCodec.decode(bytes, 3, meteredBytes));
    assertThrows(CorruptData.class, () -> RecordBatchCodec.decode(bytes, 2, Long.MAX_VALUE));
    assertThrows(CorruptData.class, () -> RecordBatchCodec.decode(bytes, 3, meteredBytes - 1));
    // one byte over the per-record limit
    SequencedRecord tooBig = new SequencedRecord(0, 0, List.of(), FormatArbitraries.hugeBody(1).concat(ByteString.copyFromUtf8("x")));
    ByteWriter w = new ByteWriter().varint(0).varint(1).varint(0).varint(0).lengthPrefixed(tooBig.body());
    assertCorrupt(w);
  }

  private static SequencedRecord record(long seqNum, long timestamp, int bodyBytes) {
    return new SequencedRecord(seqNum, timestamp, List.of(new Header(ByteString.copyFromUtf8("k"), ByteString.EMPTY)),
        ByteString.copyFromUtf8("x".repeat(bodyBytes - 1)));
  }

  private static void assertCorrupt(ByteWriter w) {
    ByteString bytes = w.toByteString();
    assertThrows(CorruptData.class, () -> RecordBatchCodec.decode(bytes, Limits.BATCH_RECORDS_MAX, Limits.BATCH_METERED_BYTES_MAX));
  }
}
