package io.s2j.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The {@link io.s2j.runtime.objectstore.ObjectStore} contract, run against every implementation
 * (simulated, in-memory, local directory, S3). Each test works under its own key prefix.
 */
public abstract class ObjectStoreContract {
  protected abstract SeamHarness newHarness() throws Exception;

  private SeamHarness harness;
  private Env env;
  private String prefix;

  @BeforeEach
  public void setUp(TestInfo info) throws Exception {
    harness = newHarness();
    env = harness.env("store-client");
    prefix = "contract/" + info.getTestMethod().orElseThrow().getName() + "/";
  }

  @AfterEach
  public void tearDown() throws Exception {
    harness.close();
  }

  private ObjectKey key(String name) {
    return ObjectKey.of(prefix + name);
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private PutResult put(ObjectKey k, ByteString data, PutCondition c) {
    return harness.await(env, e -> e.objectStore().put(k, data, c));
  }

  private GetResult get(ObjectKey k) {
    return harness.await(env, e -> e.objectStore().get(k));
  }

  private GetResult get(ObjectKey k, ByteRange r) {
    return harness.await(env, e -> e.objectStore().get(k, r));
  }

  private ETag written(PutResult r) {
    return assertInstanceOf(PutResult.Written.class, r).etag();
  }

  @Test
  public void putThenGetReturnsTheBytesAndTheEtag() {
    ObjectKey k = key("a");
    ETag etag = written(put(k, bytes("hello"), PutCondition.NONE));
    GetResult.Found found = assertInstanceOf(GetResult.Found.class, get(k));
    assertEquals(bytes("hello"), found.data());
    assertEquals(etag, found.etag());
    assertEquals(5, found.objectBytes());
  }

  @Test
  public void getOfAMissingKeyIsNotFound() {
    assertInstanceOf(GetResult.NotFound.class, get(key("missing")));
  }

  @Test
  public void emptyAndLargeObjectsRoundTrip() {
    ObjectKey empty = key("empty");
    written(put(empty, ByteString.EMPTY, PutCondition.NONE));
    GetResult.Found e = assertInstanceOf(GetResult.Found.class, get(empty));
    assertEquals(0, e.data().size());

    byte[] big = new byte[3 * 1024 * 1024 + 17];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31 + (i >>> 8));
    }
    ObjectKey large = key("large");
    written(put(large, ByteString.copyFrom(big), PutCondition.NONE));
    GetResult.Found l = assertInstanceOf(GetResult.Found.class, get(large));
    assertArrayEquals(big, l.data().toByteArray());
  }

  @Test
  public void overwriteChangesTheEtagAndTheBytes() {
    ObjectKey k = key("a");
    ETag first = written(put(k, bytes("one"), PutCondition.NONE));
    ETag second = written(put(k, bytes("two!"), PutCondition.NONE));
    assertNotEquals(first, second);
    GetResult.Found found = assertInstanceOf(GetResult.Found.class, get(k));
    assertEquals(bytes("two!"), found.data());
    assertEquals(second, found.etag());
  }

  @Test
  public void ifAbsentCreatesOnlyOnce() {
    ObjectKey k = key("a");
    written(put(k, bytes("first"), PutCondition.IF_ABSENT));
    assertInstanceOf(PutResult.PreconditionFailed.class, put(k, bytes("second"), PutCondition.IF_ABSENT));
    assertEquals(bytes("first"), assertInstanceOf(GetResult.Found.class, get(k)).data());
  }

  @Test
  public void ifMatchSwapsOnlyTheExpectedVersion() {
    ObjectKey k = key("a");
    ETag v1 = written(put(k, bytes("v1"), PutCondition.NONE));
    ETag v2 = written(put(k, bytes("v2"), PutCondition.ifMatch(v1)));
    assertInstanceOf(PutResult.PreconditionFailed.class, put(k, bytes("stale"), PutCondition.ifMatch(v1)));
    GetResult.Found found = assertInstanceOf(GetResult.Found.class, get(k));
    assertEquals(bytes("v2"), found.data());
    assertEquals(v2, found.etag());
  }

  @Test
  public void ifMatchOnAMissingKeyFails() {
    ObjectKey k = key("a");
    ETag etag = written(put(k, bytes("v1"), PutCondition.NONE));
    ObjectKey other = key("b");
    assertInstanceOf(PutResult.PreconditionFailed.class, put(other, bytes("x"), PutCondition.ifMatch(etag)));
    assertInstanceOf(GetResult.NotFound.class, get(other));
  }

  @Test
  public void byteRangesAreCutAtTheEndAndRejectedPastIt() {
    ObjectKey k = key("a");
    written(put(k, bytes("0123456789"), PutCondition.NONE));
    GetResult.Found mid = assertInstanceOf(GetResult.Found.class, get(k, ByteRange.of(2, 3)));
    assertEquals(bytes("234"), mid.data());
    assertEquals(10, mid.objectBytes());
    GetResult.Found tail = assertInstanceOf(GetResult.Found.class, get(k, ByteRange.of(7, 100)));
    assertEquals(bytes("789"), tail.data());
    GetResult.Found last = assertInstanceOf(GetResult.Found.class, get(k, ByteRange.of(9, 1)));
    assertEquals(bytes("9"), last.data());
    assertInstanceOf(GetResult.RangeNotSatisfiable.class, get(k, ByteRange.of(10, 1)));
    assertInstanceOf(GetResult.NotFound.class, get(key("missing"), ByteRange.of(0, 1)));
  }

  @Test
  public void deleteRemovesAndIsIdempotent() {
    ObjectKey k = key("a");
    written(put(k, bytes("x"), PutCondition.NONE));
    harness.await(env, e -> e.objectStore().delete(k));
    assertInstanceOf(GetResult.NotFound.class, get(k));
    harness.await(env, e -> e.objectStore().delete(k));
    // After a delete, the key can be created again with IfAbsent.
    written(put(k, bytes("y"), PutCondition.IF_ABSENT));
  }

  @Test
  public void listIsOrderedByUtf8BytesAndPaginates() {
    List<String> names = List.of("b", "a", "c/1", "c/2", "ä", "B", "a0", "z");
    for (String n : names) {
      written(put(key(n), bytes(n), PutCondition.NONE));
    }
    written(put(ObjectKey.of("contract-other/x"), bytes("x"), PutCondition.NONE));
    List<String> expected = new ArrayList<>(names);
    expected.sort(ObjectKey::compareUtf8);

    List<String> seen = new ArrayList<>();
    ObjectKey after = null;
    int pages = 0;
    while (true) {
      ObjectKey startAfter = after;
      ListPage page = harness.await(env, e -> e.objectStore().list(prefix, startAfter, 3));
      pages++;
      assertTrue(page.objects().size() <= 3, "page larger than the limit");
      for (ObjectSummary s : page.objects()) {
        seen.add(s.key().value().substring(prefix.length()));
        assertEquals(s.key().value().substring(prefix.length()).getBytes(StandardCharsets.UTF_8).length, s.objectBytes());
      }
      if (!page.truncated()) {
        break;
      }
      after = page.objects().get(page.objects().size() - 1).key();
      assertTrue(pages < 10, "listing does not terminate");
    }
    assertEquals(expected, seen);
    assertTrue(pages >= 3);
  }

  @Test
  public void concurrentCreatesHaveExactlyOneWinner() {
    ObjectKey k = key("race");
    int racers = 8;
    List<PutResult> results = harness.await(env, e -> {
      List<Promise<PutResult>> puts = new ArrayList<>();
      for (int i = 0; i < racers; i++) {
        puts.add(e.objectStore().put(k, bytes("racer-" + i), PutCondition.IF_ABSENT));
      }
      return Promise.all(e.scheduler(), puts);
    });
    assertEquals(1, results.stream().filter(r -> r instanceof PutResult.Written).count(), results.toString());
    int winner = -1;
    for (int i = 0; i < racers; i++) {
      if (results.get(i) instanceof PutResult.Written) {
        winner = i;
      }
    }
    assertEquals(bytes("racer-" + winner), assertInstanceOf(GetResult.Found.class, get(k)).data());
  }

  @Test
  public void concurrentSwapsOfOneVersionHaveExactlyOneWinner() {
    ObjectKey k = key("race");
    ETag base = written(put(k, bytes("base"), PutCondition.NONE));
    int racers = 8;
    List<PutResult> results = harness.await(env, e -> {
      List<Promise<PutResult>> puts = new ArrayList<>();
      for (int i = 0; i < racers; i++) {
        puts.add(e.objectStore().put(k, bytes("racer-" + i), PutCondition.ifMatch(base)));
      }
      return Promise.all(e.scheduler(), puts);
    });
    assertEquals(1, results.stream().filter(r -> r instanceof PutResult.Written).count(), results.toString());
  }
}
