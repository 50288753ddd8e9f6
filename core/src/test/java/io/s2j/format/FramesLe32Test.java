package io.s2j.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link Frames#le32} writes exactly what {@link ByteWriter#fixed32} writes (the formats depend on it). */
class FramesLe32Test {
  @Test
  void le32IsFixed32() {
    for (int v : new int[] {0, 1, 255, 256, 0x12345678, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x80000001, -123456789}) {
      assertEquals(new ByteWriter().fixed32(v).toByteString(), Frames.le32(v), "value " + v);
    }
  }
}
