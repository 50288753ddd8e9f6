package io.s2j.format;

import com.google.protobuf.ByteString;
import io.s2j.record.Command;
import io.s2j.record.Header;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

/** Generators shared by the format properties: records, runs, chunks and segments that a writer could produce. */
final class FormatArbitraries {
  private FormatArbitraries() {}

  /** A record before sequencing: its contents and how far its timestamp moves past the previous one's. */
  record Draft(List<Header> headers, ByteString body, long timestampDelta) {}

  /** What a chunk was built from. */
  record ChunkCase(Chunk.Origin origin, List<Chunk.Entry> entries) {
    Chunk.Built build() {
      ChunkBuilder b = new ChunkBuilder(origin.channelId(), origin.writerEpoch(), origin.chunkSeqNum(), origin.voidThroughChunkSeqNum());
      entries.forEach(b::add);
      return b.build();
    }
  }

  /** What a segment was built from. */
  record SegmentCase(long streamletId, int blockBytesTarget, List<SequencedRecord> records) {
    Segment.Built build() {
      SegmentBuilder b = new SegmentBuilder(streamletId, blockBytesTarget);
      b.addAll(records);
      return b.build();
    }
  }

  static Arbitrary<ByteString> bytes(int maxBytes) {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(maxBytes).map(ByteString::copyFrom);
  }

  /** A body that makes a header-less record meter exactly 1 MiB, the largest allowed. */
  static ByteString hugeBody(long seed) {
    byte[] b = new byte[(int) Limits.RECORD_METERED_BYTES_MAX - 8];
    new Random(seed).nextBytes(b);
    return ByteString.copyFrom(b);
  }

  static Arbitrary<Long> timestampDeltas() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.just(0L)), // ties
        Tuple.of(4, Arbitraries.longs().between(1, 10)),
        Tuple.of(1, Arbitraries.longs().between(0, 1L << 40)));
  }

  static Arbitrary<String> fencingTokens() {
    return Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').withChars('-', 'é').ofMaxLength(18);
  }

  /** Drafts of ordinary, command and empty records, and (in {@code hugePer1000} of them) 1 MiB records. */
  static Arbitrary<Draft> drafts(int hugePer1000) {
    Arbitrary<Header> header = Combinators.combine(bytes(8).filter(b -> !b.isEmpty()), bytes(8)).as(Header::new);
    Arbitrary<Draft> ordinary = Combinators.combine(header.list().ofMaxSize(3), bytes(64), timestampDeltas()).as(Draft::new);
    Arbitrary<Draft> fence = Combinators.combine(fencingTokens(), timestampDeltas()).as((t, d) -> {
      var r = Command.toRecord(new Command.Fence(t));
      return new Draft(r.headers(), r.body(), d);
    });
    Arbitrary<Draft> trim = Combinators.combine(Arbitraries.longs(), timestampDeltas()).as((s, d) -> {
      var r = Command.toRecord(new Command.Trim(s));
      return new Draft(r.headers(), r.body(), d);
    });
    Arbitrary<Draft> empty = timestampDeltas().map(d -> new Draft(List.of(), ByteString.EMPTY, d));
    Arbitrary<Draft> huge = Combinators.combine(Arbitraries.longs(), timestampDeltas()).as((s, d) -> new Draft(List.of(), hugeBody(s), d));
    return Arbitraries.frequencyOf(
        Tuple.of(760 - hugePer1000, ordinary), Tuple.of(80, fence), Tuple.of(80, trim), Tuple.of(80, empty), Tuple.of(hugePer1000, huge));
  }

  /**
   * Sequences drafts from {@code nextSeqNum} / {@code lastTimestamp}, stopping before the run would
   * exceed {@code recordsMax} records or {@code meteredBytesMax} (always keeping the first draft).
   */
  static List<SequencedRecord> sequence(List<Draft> drafts, long nextSeqNum, long lastTimestamp, int recordsMax, long meteredBytesMax) {
    List<SequencedRecord> out = new ArrayList<>();
    long meteredBytes = 0;
    long ts = lastTimestamp;
    for (Draft d : drafts) {
      SequencedRecord rec = new SequencedRecord(nextSeqNum + out.size(), ts + d.timestampDelta(), d.headers(), d.body());
      if (!out.isEmpty() && (out.size() == recordsMax || meteredBytes + rec.meteredBytes() > meteredBytesMax)) {
        break;
      }
      out.add(rec);
      meteredBytes += rec.meteredBytes();
      ts = rec.timestamp();
    }
    return out;
  }

  /** A batch as a client could have appended it: 1..1000 records, at most 1 MiB metered. */
  static Arbitrary<List<SequencedRecord>> batches() {
    return Combinators.combine(drafts(10).list().ofMinSize(1).ofMaxSize(40).withSizeDistribution(RandomDistribution.uniform()),
            Arbitraries.longs().between(0, Long.MAX_VALUE - 2000), Arbitraries.longs().between(0, Long.MAX_VALUE / 2))
        .as((drafts, seq, ts) -> sequence(drafts, seq, ts, Limits.BATCH_RECORDS_MAX, Limits.BATCH_METERED_BYTES_MAX));
  }

  static Arbitrary<Chunk.Origin> origins() {
    Arbitrary<String> channelIds = Arbitraries.strings().withCharRange('a', 'z').withCharRange('\u00e0', '\u00ff')
        .withCharRange('\u4e00', '\u4e20').withChars('-', '/').ofMinLength(1).ofMaxLength(40);
    return Combinators.combine(channelIds, Arbitraries.longs(), Arbitraries.longs()).as((c, e, s) -> new Chunk.Origin(c, e, s, 0));
  }

  /** An entry before it knows its streamlet's position: which streamlet, its drafts, and command state. */
  record EntryDraft(int streamletPick, List<Draft> drafts, String token, boolean withToken, long trimPick, boolean withTrim) {}

  static Arbitrary<EntryDraft> entryDrafts() {
    return Combinators.combine(Arbitraries.integers().between(0, 1000), drafts(10).list().ofMinSize(1).ofMaxSize(12).withSizeDistribution(RandomDistribution.uniform()),
        fencingTokens(), Arbitraries.of(true, false), Arbitraries.longs(), Arbitraries.of(true, false)).as(EntryDraft::new);
  }

  /** Chunks of up to five streamlets (ids anywhere in u64), entries interleaved. */
  static Arbitrary<ChunkCase> chunks() {
    Arbitrary<Long> anyIds = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.of(0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE));
    Arbitrary<List<Long>> streamletIds = anyIds.list().ofMinSize(1).ofMaxSize(5).uniqueElements();
    Arbitrary<Long> starts = Arbitraries.longs().between(0, 1L << 50);
    return Combinators.combine(origins(), streamletIds, starts, entryDrafts().list().ofMaxSize(16).withSizeDistribution(RandomDistribution.uniform()))
        .as((origin, ids, start, drafts) -> {
          TreeMap<Long, long[]> tails = new TreeMap<>(); // streamlet -> {next seq num, last timestamp}
          for (int i = 0; i < ids.size(); i++) {
            tails.put(ids.get(i), new long[] {start + 1000L * i, start * 3 + i});
          }
          List<Chunk.Entry> entries = new ArrayList<>();
          for (EntryDraft d : drafts) {
            long id = ids.get(d.streamletPick() % ids.size());
            long[] tail = tails.get(id);
            List<SequencedRecord> records = sequence(d.drafts(), tail[0], tail[1], Limits.BATCH_RECORDS_MAX, Limits.BATCH_METERED_BYTES_MAX);
            long next = tail[0] + records.size();
            Long trim = d.withTrim() ? Math.floorMod(d.trimPick(), next + 1) : null;
            boolean terminal = d.withTrim() && (d.trimPick() & 4) != 0; // the terminal-trim flag round-trips too
            entries.add(new Chunk.Entry(id, records, d.withToken() ? d.token() : null, trim, terminal));
            tail[0] = next;
            tail[1] = records.get(records.size() - 1).timestamp();
          }
          return new ChunkCase(origin, entries);
        });
  }

  static Arbitrary<Integer> blockBytesTargets() {
    return Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.integers().between(1, 64)),
        Tuple.of(3, Arbitraries.integers().between(65, 2048)),
        Tuple.of(1, Arbitraries.of(4096, 64 << 10, 1 << 20)));
  }

  /** Segments of 1..400 records (at most one of 1 MiB), with block targets from one record per block to all in one. */
  static Arbitrary<SegmentCase> segments() {
    return Combinators.combine(Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.of(0L, -1L)), blockBytesTargets(), drafts(2).list().ofMinSize(1).ofMaxSize(400).withSizeDistribution(RandomDistribution.uniform()),
            Arbitraries.longs().between(0, 1L << 50), Arbitraries.longs().between(0, 1L << 50))
        .as((id, target, drafts, seq, ts) -> new SegmentCase(id, target, sequence(drafts, seq, ts, Integer.MAX_VALUE, 2 * Limits.RECORD_METERED_BYTES_MAX)));
  }
}
