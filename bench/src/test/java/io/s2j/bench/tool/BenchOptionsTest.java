package io.s2j.bench.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void parsesTheIssueFlags() {
    BenchOptions o = BenchOptions.parse(new String[] {"--endpoint", "http://localhost:9000/", "--basin", "my-basin",
        "--stream", "s", "--record-bytes", "64", "--batch-records", "500", "--target-mibps", "12.5",
        "--duration", "1.5s", "--streams", "3", "--readers", "2", "--catchup-delay=250ms", "--storage-class", "Express"});
    assertEquals("http://localhost:9000", o.endpoint().toString());
    assertEquals("my-basin", o.basin());
    assertEquals(64, o.recordBytes());
    assertEquals(500, o.batchRecords());
    assertEquals(12.5, o.targetMibps());
    assertEquals(Duration.ofMillis(1500), o.duration());
    assertEquals(Duration.ofMillis(250), o.catchupDelay());
    assertEquals("express", o.storageClass());
    assertEquals(List.of("s-0", "s-1", "s-2"), o.streamNames());
    assertEquals(Duration.ofMinutes(2), BenchOptions.parseDuration("--duration", "2m"));
  }

  @Test
  void defaultsAreOneUnthrottledStreamOfKibRecords() {
    BenchOptions o = BenchOptions.defaults();
    assertEquals(1024, o.recordBytes());
    assertEquals(0.0, o.targetMibps());
    assertEquals(List.of("bench"), o.streamNames());
    assertNull(o.storageClass());
  }

  @Test
  void rejectsWhatS2OrTheRecordFormatCannotTake() {
    assertTrue(bad("--record-bytes", "15").contains("at least 16"));
    assertTrue(bad("--batch-records", "1001").contains("1..1000"));
    assertTrue(bad("--record-bytes", "4096", "--batch-records", "1000").contains("1 MiB"));
    assertTrue(bad("--storage-class", "glacier").contains("standard or express"));
    assertTrue(bad("--endpoint", "https://aws.s2.dev").contains("TLS is not supported"));
    assertTrue(bad("--duration", "soon").contains("not a duration"));
    assertTrue(bad("--frobnicate", "1").contains("unknown option"));
  }

  @Test
  void recordsPerSecondPacingAndSharedConnections() {
    BenchOptions o = BenchOptions.parse(new String[] {"--streams", "10000", "--readers", "0", "--batch-records", "1",
        "--target-records-per-s", "1", "--connections", "16"});
    assertEquals(1_000_000_000L, o.batchIntervalNanos(), "one record a second");
    assertEquals(16, o.connections());
    BenchOptions mib = BenchOptions.parse(new String[] {"--record-bytes", "1024", "--batch-records", "64", "--target-mibps", "1"});
    assertEquals(62_500_000L, mib.batchIntervalNanos(), "64 KiB batches at 1 MiB/s: 16 a second");
    assertEquals(0, BenchOptions.defaults().batchIntervalNanos(), "unthrottled");
    assertTrue(bad("--target-mibps", "1", "--target-records-per-s", "1").contains("exclude"));
    assertTrue(bad("--streams", "10001").contains("1..10000"));
    assertTrue(bad("--readers", "1001").contains("0..1000"));
    assertTrue(bad("--readers", "1000", "--connections", "1").contains("more than 1000 sessions"));
  }

  private static String bad(String... args) {
    return assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(args)).getMessage();
  }
}
