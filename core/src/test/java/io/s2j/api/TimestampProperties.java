package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.record.AppendRecord;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

class TimestampProperties {
  @Provide
  Arbitrary<List<AppendRecord>> batches() {
    return Arbitraries.longs().between(0, 10_000).injectNull(0.3)
        .map(t -> new AppendRecord(t, List.of(), ByteString.EMPTY)).list().ofMinSize(1).ofMaxSize(20);
  }

  @Property
  void timestampsNeverDecreaseAndNeverGoBelowThePrevious(
      @ForAll("batches") List<AppendRecord> records,
      @ForAll TimestampingMode mode, @ForAll boolean uncapped,
      @ForAll @LongRange(min = 0, max = 10_000) long nowMs, @ForAll @LongRange(min = 0, max = 10_000) long prevMaxMs) {
    Checked<List<Long>> r = Timestamps.assign(records, mode, uncapped, nowMs, prevMaxMs);
    if (mode == TimestampingMode.CLIENT_REQUIRE && records.stream().anyMatch(x -> x.timestamp() == null)) {
      assertEquals(Checked.invalid(Timestamps.REQUIRED_BUT_MISSING), r);
      return;
    }
    List<Long> ts = r.orThrow();
    assertEquals(records.size(), ts.size());
    long prev = prevMaxMs;
    for (int i = 0; i < ts.size(); i++) {
      long t = ts.get(i);
      assertTrue(t >= prev);
      if (!uncapped) {
        assertTrue(t <= Math.max(nowMs, prevMaxMs));
      }
      prev = t;
    }
  }
}
