package io.s2j.bench;

import com.google.protobuf.ByteString;
import io.s2j.api.StreamCipher;
import io.s2j.crypto.EncryptionKey;
import io.s2j.crypto.NonceSource;
import io.s2j.crypto.RecordEncryption;
import io.s2j.record.AppendRecord;
import io.s2j.record.SequencedRecord;
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
 * Sealing and opening one record of an encrypted stream (S2-API §15): AES-256-GCM through the
 * JDK (AES-NI where the CPU has it) against our bytewise AEGIS-256.
 *
 * <p>{@code java -jar bench/target/s2j-jmh.jar EncryptionBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EncryptionBenchmark {
  @Param({"AEGIS_256", "AES_256_GCM"})
  public StreamCipher cipher;

  @Param({"1024"})
  public int bodyBytes;

  private final EncryptionKey key = EncryptionKey.of(new byte[32]);
  private final SplittableRandom random = new SplittableRandom(3);
  private final NonceSource nonces = random::nextBytes;
  private AppendRecord plain;
  private SequencedRecord sealed;

  @Setup
  public void setUp() {
    byte[] body = new byte[bodyBytes];
    random.nextBytes(body);
    plain = new AppendRecord(null, List.of(), ByteString.copyFrom(body));
    AppendRecord s = RecordEncryption.encrypt(cipher, key, 1, plain, nonces);
    sealed = new SequencedRecord(0, 0, s.headers(), s.body());
  }

  @Benchmark
  public AppendRecord seal() {
    return RecordEncryption.encrypt(cipher, key, 1, plain, nonces);
  }

  @Benchmark
  public SequencedRecord open() {
    return RecordEncryption.decrypt(cipher, key, 1, sealed);
  }
}
