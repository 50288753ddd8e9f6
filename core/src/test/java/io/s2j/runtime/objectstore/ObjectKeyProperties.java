package io.s2j.runtime.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class ObjectKeyProperties {
  @Property
  void keysOrderByTheirUtf8Bytes(@ForAll @StringLength(min = 1, max = 30) String a, @ForAll @StringLength(min = 1, max = 30) String b) {
    int expected = Integer.signum(Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
    assertEquals(expected, Integer.signum(ObjectKey.compareUtf8(a, b)));
  }

  @Property
  void etagsRoundTripThroughTheirWireForm(@ForAll @StringLength(min = 1, max = 40) String v) {
    Assume.that(!v.startsWith("\"") || !v.endsWith("\""));
    ETag e = new ETag(v);
    assertEquals(e, ETag.fromWire(e.toWire()));
  }

  @Test
  void invalidKeysAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> ObjectKey.of(""));
    assertThrows(IllegalArgumentException.class, () -> ObjectKey.of("/abs"));
    assertThrows(IllegalArgumentException.class, () -> ObjectKey.of("a\nb"));
    assertThrows(IllegalArgumentException.class, () -> ObjectKey.of("x".repeat(1025)));
    assertThrows(IllegalArgumentException.class, () -> ByteRange.of(-1, 1));
    assertThrows(IllegalArgumentException.class, () -> ByteRange.of(0, 0));
  }
}
