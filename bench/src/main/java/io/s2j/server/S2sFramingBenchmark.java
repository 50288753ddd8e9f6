package io.s2j.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
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
 * S2S framing (S2-API §10): one message framed (and compressed) as the server sends it, and one
 * frame decoded (and decompressed) as it receives one. The message is a 256 KiB protobuf-sized
 * payload whose bytes repeat a record-like pattern (half random, half a repeated header), so
 * compressors have something to find, as in real batches.
 *
 * <p>In package {@code io.s2j.server} because the framing is package-private to the server.
 * {@code java -jar bench/target/s2j-jmh.jar S2sFramingBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class S2sFramingBenchmark {
  static final int MESSAGE_BYTES = 256 << 10;

  @Param({"NONE", "ZSTD", "GZIP"})
  public String codec;

  private S2sFrames.Compression compression;

  private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
  private byte[] message;
  private byte[] frame;

  @Setup
  public void setUp() {
    compression = S2sFrames.Compression.valueOf(codec);
    SplittableRandom random = new SplittableRandom(5);
    message = new byte[MESSAGE_BYTES];
    byte[] header = "content-type: application/json; seq=".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (int i = 0; i < MESSAGE_BYTES; i += 128) {
      for (int j = 0; j < 64 && i + j < MESSAGE_BYTES; j++) {
        message[i + j] = (byte) random.nextInt(256);
      }
      for (int j = 64; j < 128 && i + j < MESSAGE_BYTES; j++) {
        message[i + j] = header[(j - 64) % header.length];
      }
    }
    ByteBuf framed = S2sFrames.message(alloc, message, compression);
    frame = new byte[framed.readableBytes()];
    framed.readBytes(frame);
    framed.release();
  }

  @Benchmark
  public int encode() {
    ByteBuf framed = S2sFrames.message(alloc, message, compression);
    int n = framed.readableBytes();
    framed.release();
    return n;
  }

  @Benchmark
  public int decode() {
    S2sFrames.Decoder decoder = new S2sFrames.Decoder(alloc);
    List<S2sFrames.Frame> frames = decoder.feed(alloc.buffer(frame.length).writeBytes(frame));
    decoder.release();
    return frames.get(0).body().length;
  }
}
