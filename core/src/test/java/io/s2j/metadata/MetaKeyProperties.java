package io.s2j.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.metadata.MetadataStore;
import java.util.Comparator;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class MetaKeyProperties {
  private static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();

  @Property
  void streamKeysRoundTripAndStayInsideTheirBasin(
      @ForAll("basins") String basin, @ForAll @StringLength(max = 40) String stream) {
    ByteString key = MetaKey.stream(basin, stream);
    assertEquals(MetaKey.Type.STREAM, MetaKey.typeOf(key));
    assertArrayEquals(new String[] {basin, stream}, MetaKey.streamNames(key));
    ByteString all = MetaKey.streamsPrefix(basin, "");
    assertTrue(key.startsWith(all));
    assertTrue(ORDER.compare(key, MetadataStore.prefixEnd(all)) < 0);
  }

  @Property
  void streamsOfOneBasinOrderByName(@ForAll("basins") String basin, @ForAll @StringLength(max = 20) String a, @ForAll @StringLength(max = 20) String b) {
    int byName = Integer.signum(ORDER.compare(ByteString.copyFromUtf8(a), ByteString.copyFromUtf8(b)));
    assertEquals(byName, Integer.signum(ORDER.compare(MetaKey.stream(basin, a), MetaKey.stream(basin, b))));
  }

  @Property
  void aBasinsStreamsNeverMixWithAnotherBasins(@ForAll("basins") String b1, @ForAll("basins") String b2, @ForAll @StringLength(max = 10) String s) {
    Assume.that(!b1.equals(b2));
    assertTrue(!MetaKey.stream(b2, s).startsWith(MetaKey.streamsPrefix(b1, "")));
  }

  @Property
  void numericKeysOrderNumerically(@ForAll @LongRange(min = 0) long id, @ForAll @LongRange(min = 0) long x, @ForAll @LongRange(min = 0) long y) {
    assertEquals(Integer.signum(Long.compare(x, y)), Integer.signum(ORDER.compare(MetaKey.segment(id, x), MetaKey.segment(id, y))));
    assertEquals(x, MetaKey.u64At(MetaKey.segment(id, x), 1));
    assertEquals(id, MetaKey.u64At(MetaKey.streamlet(id, y), 0));
    assertTrue(MetaKey.streamlet(id, y).startsWith(MetaKey.streamletsPrefix(id)));
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<String> basins() {
    return net.jqwik.api.Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789-").ofMinLength(8).ofMaxLength(48);
  }

  @Test
  void typeIdsAreStable() {
    assertEquals(1, MetaKey.Type.BASIN.id);
    assertEquals(2, MetaKey.Type.STREAM.id);
    assertEquals(3, MetaKey.Type.STREAMLET.id);
    assertEquals(4, MetaKey.Type.SEGMENT.id);
    assertEquals(5, MetaKey.Type.CHANNEL.id);
    assertEquals(6, MetaKey.Type.TRIM.id);
    assertEquals(7, MetaKey.Type.SEGMENT_HEAD.id);
    assertEquals(8, MetaKey.Type.ACCESS_TOKEN.id);
  }

  @Test
  void accessTokenKeysRoundTripAndOrderById() {
    ByteString a = MetaKey.accessToken("svc/a");
    assertEquals(MetaKey.Type.ACCESS_TOKEN, MetaKey.typeOf(a));
    assertEquals("svc/a", MetaKey.accessTokenId(a));
    org.junit.jupiter.api.Assertions.assertTrue(ByteString.unsignedLexicographicalComparator()
        .compare(a, MetaKey.accessToken("svc/b")) < 0);
    org.junit.jupiter.api.Assertions.assertTrue(a.startsWith(MetaKey.accessTokensPrefix("svc/")));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> MetaKey.accessToken(""));
  }
}
