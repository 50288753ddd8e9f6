package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NamesTest {
  private static String message(Checked<?> c) {
    return assertInstanceOf(Checked.Invalid.class, c).message();
  }

  @Test
  void case169_basinNames() {
    for (String ok : new String[] {"abcdefgh", "1abcdefg", "abcd-efg", "a".repeat(48)}) {
      assertEquals(ok, BasinName.parse(ok).orThrow().value());
    }
    assertEquals("basin name must begin with a lowercase letter or number", message(BasinName.parse("Abcdefgh")));
    assertEquals("basin name must end with a lowercase letter or number", message(BasinName.parse("abcdefg-")));
    assertEquals("basin name must comprise lowercase letters, numbers, and hyphens", message(BasinName.parse("abcd_efg")));
    assertEquals("basin name should be at least 8 bytes in length", message(BasinName.parse("abcdefg")));
    assertEquals("basin name should be at least 8 bytes in length", message(BasinName.parse("")));
    assertEquals("basin name must not exceed 48 bytes in length", message(BasinName.parse("a".repeat(49))));
    assertThrows(IllegalArgumentException.class, () -> new BasinName("ABCDEFGH"));
  }

  @Test
  void basinNameChecksLengthThenFirstThenLastThenMiddle() {
    // 7 bytes and a bad first char: length wins
    assertEquals("basin name should be at least 8 bytes in length", message(BasinName.parse("_bcdefg")));
    // bad first and last: first wins; bad last and middle: last wins
    assertEquals("basin name must begin with a lowercase letter or number", message(BasinName.parse("-bcdefg-")));
    assertEquals("basin name must end with a lowercase letter or number", message(BasinName.parse("ab_defg-")));
    // non-ASCII counts in bytes and is not in the alphabet
    assertEquals("basin name must comprise lowercase letters, numbers, and hyphens", message(BasinName.parse("abcdéfgh")));
  }

  @Test
  void case169_basinPrefixes() {
    for (String ok : new String[] {"", "a", "abcdefg-"}) {
      assertEquals(ok, BasinName.parsePrefix(ok).orThrow());
      assertEquals(ok, BasinName.parseStartAfter(ok).orThrow());
    }
    assertEquals("basin prefix must begin with a lowercase letter or number", message(BasinName.parsePrefix("-abc")));
    assertEquals("basin prefix must comprise lowercase letters, numbers, and hyphens", message(BasinName.parsePrefix("ab_cd")));
    assertEquals("basin start_after must not exceed 48 bytes in length", message(BasinName.parseStartAfter("a".repeat(49))));
  }

  @Test
  void case169_streamNames() {
    assertEquals("my-stream", StreamName.parse("my-stream").orThrow().value());
    assertEquals(512, StreamName.parse("a".repeat(512)).orThrow().value().length());
    assertEquals("stream name must not be empty", message(StreamName.parse("")));
    assertEquals("stream name must not be \".\" or \"..\"", message(StreamName.parse(".")));
    assertEquals("stream name must not be \".\" or \"..\"", message(StreamName.parse("..")));
    assertEquals("stream name must not exceed 512 bytes in length", message(StreamName.parse("a".repeat(513))));
    // 171 two-byte chars = 342 bytes is fine; 257 of them = 514 bytes is not
    StreamName.parse("é".repeat(171)).orThrow();
    assertEquals("stream name must not exceed 512 bytes in length", message(StreamName.parse("é".repeat(257))));
    for (String ok : new String[] {"", ".", "..", "a".repeat(512)}) {
      assertEquals(ok, StreamName.parsePrefix(ok).orThrow());
      assertEquals(ok, StreamName.parseStartAfter(ok).orThrow());
    }
    assertEquals("stream prefix must not exceed 512 bytes in length", message(StreamName.parsePrefix("a".repeat(513))));
  }

  @Test
  void namesOrderByBytes() {
    assertEquals(-1, Integer.signum(new BasinName("test-basin-00").compareTo(new BasinName("test-basin-01"))));
    // U+FFFD (EF BF BD) sorts after U+10000 (F0 ...) in UTF-16 but before it in UTF-8
    assertEquals(-1, Integer.signum(new StreamName("\uFFFD").compareTo(new StreamName("\uD800\uDC00"))));
  }
}
