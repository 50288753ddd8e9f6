package io.s2j.runtime.metadata;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class TxnProperties {
  @Property
  void prefixEndBoundsEveryKeyWithThePrefix(@ForAll @Size(min = 1, max = 8) byte[] prefix, @ForAll @Size(max = 8) byte[] suffix) {
    boolean allFf = true;
    for (byte b : prefix) {
      allFf &= b == (byte) 0xff;
    }
    Assume.that(!allFf);
    ByteString p = ByteString.copyFrom(prefix);
    ByteString end = MetadataStore.prefixEnd(p);
    ByteString key = p.concat(ByteString.copyFrom(suffix));
    var cmp = ByteString.unsignedLexicographicalComparator();
    assertTrue(cmp.compare(p, key) <= 0 && cmp.compare(key, end) < 0);
  }

  @Test
  void boundsAreEnforced() {
    ByteString k = ByteString.copyFromUtf8("k");
    assertThrows(IllegalArgumentException.class, () -> Txn.builder().ifAbsent(k).build());
    assertThrows(IllegalArgumentException.class, () -> Txn.builder().put(k, k).delete(k).build());
    assertThrows(IllegalArgumentException.class, () -> Txn.builder().put(ByteString.EMPTY, k).build());
    assertThrows(IllegalArgumentException.class,
        () -> Txn.builder().put(k, ByteString.copyFrom(new byte[Txn.VALUE_BYTES_MAX + 1])).build());
    Txn.Builder many = Txn.builder();
    for (int i = 0; i <= Txn.OPS_MAX; i++) {
      many.put(ByteString.copyFromUtf8("k" + i), k);
    }
    assertThrows(IllegalArgumentException.class, many::build);
  }
}
