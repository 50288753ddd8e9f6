package io.s2j.bench;

import com.google.protobuf.ByteString;
import io.s2j.format.Chunk;
import io.s2j.format.ChunkBuilder;
import io.s2j.format.RecordBatchCodec;
import io.s2j.format.Segment;
import io.s2j.format.SegmentBuilder;
import io.s2j.record.Header;
import io.s2j.record.SequencedRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The storage formats' hot paths: a record batch (the unit in a chunk entry and a segment block)
 * encoded and decoded, a chunk of one 1,000-record entry built and parsed, and the segment index
 * lookup a read does to find its block. Records carry one header; bodies are random bytes.
 *
 * <p>{@code java -jar bench/target/s2j-jmh.jar FormatBenchmark}; MiB/s = ops/s × records × bytes / 2^20.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FormatBenchmark {
  /** Records per batch (S2's batch limit). */
  static final int RECORDS = 1000;

  @Param({"64", "1024"})
  public int bodyBytes;

  private List<SequencedRecord> records;
  private ByteString encodedBatch;
  private ByteString chunk;
  private List<Segment.BlockRow> segmentIndex;
  private long segmentRecords;
  private final SplittableRandom lookups = new SplittableRandom(7);

  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(1);
    records = new ArrayList<>(RECORDS);
    for (int i = 0; i < RECORDS; i++) {
      byte[] body = new byte[bodyBytes];
      random.nextBytes(body);
      records.add(new SequencedRecord(1_000 + i, 1_700_000_000_000L + i / 10,
          List.of(new Header(ByteString.copyFromUtf8("k"), ByteString.copyFromUtf8("v"))), ByteString.copyFrom(body)));
    }
    encodedBatch = RecordBatchCodec.encode(records);
    chunk = buildChunk();
    // A segment of 100,000 records in 64 KiB blocks: the index a catch-up read searches.
    SegmentBuilder segment = new SegmentBuilder(9, 64 << 10);
    segmentRecords = 100_000;
    for (long i = 0; i < segmentRecords; i++) {
      SequencedRecord r = records.get((int) (i % RECORDS));
      segment.add(new SequencedRecord(i, 1_700_000_000_000L + i, r.headers(), r.body()));
    }
    segmentIndex = segment.build().index();
  }

  private ByteString buildChunk() {
    ChunkBuilder b = new ChunkBuilder("ch-1", 1, 1, 0);
    b.add(new Chunk.Entry(9, records, null, null));
    return b.build().bytes();
  }

  @Benchmark
  public ByteString encodeBatch() {
    return RecordBatchCodec.encode(records);
  }

  @Benchmark
  public List<SequencedRecord> decodeBatch() {
    return RecordBatchCodec.decode(encodedBatch, RECORDS, Long.MAX_VALUE);
  }

  @Benchmark
  public ByteString buildChunkOfOneEntry() {
    return buildChunk();
  }

  @Benchmark
  public Chunk.Contents parseChunk() {
    return Chunk.parse(chunk);
  }

  /** One lookup of a random seq_num's block in a 100,000-record segment's index. */
  @Benchmark
  public int segmentIndexLookup() {
    return Segment.blockForSeqNum(segmentIndex, lookups.nextLong(segmentRecords));
  }
}
