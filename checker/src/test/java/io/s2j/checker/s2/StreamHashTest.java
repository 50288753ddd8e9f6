package io.s2j.checker.s2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamHashTest {
  private static long body(String s) {
    return StreamHash.ofBody(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The vectors s2-verification's Rust and Go tests share (S2-VERIFICATION-FORMAT.md §4). */
  @Test
  void matchesS2VerificationVectors() {
    assertEquals(0xab6e5f64077e7d8aL, body("foo"));
    long h1 = StreamHash.chain(StreamHash.EMPTY, body("foo"));
    long h2 = StreamHash.chain(h1, body("bar"));
    long h3 = StreamHash.chain(h2, body("baz"));
    assertEquals(0x4d2b003ee417c3a5L, h1);
    assertEquals(0x132e5d5dd7936eddL, h2);
    assertEquals(0x732ee99abc5002ffL, h3);
    assertEquals(h3, StreamHash.fold(StreamHash.EMPTY, List.of(body("foo"), body("bar"), body("baz"))));
    assertEquals(h3, StreamHash.fold(h1, List.of(body("bar"), body("baz"))));
  }

  @Test
  void orderMatters() {
    assertNotEquals(
        StreamHash.fold(0, List.of(body("foo"), body("bar"))),
        StreamHash.fold(0, List.of(body("bar"), body("foo"))));
    assertEquals(StreamHash.EMPTY, StreamHash.fold(StreamHash.EMPTY, List.of()));
  }
}
