package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the local-directory store promises beyond the shared contract: its layout and restarts. */
class LocalDirObjectStoreTest {
  @TempDir Path dir;

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static ETag put(LocalDirObjectStore store, String key, String data, PutCondition c) {
    return assertInstanceOf(PutResult.Written.class, store.put(ObjectKey.of(key), bytes(data), c).join()).etag();
  }

  private static GetResult.Found get(LocalDirObjectStore store, String key) {
    return assertInstanceOf(GetResult.Found.class, store.get(ObjectKey.of(key), null).join());
  }

  private static List<String> listAll(LocalDirObjectStore store, String prefix, int limit) {
    List<String> keys = new ArrayList<>();
    ObjectKey after = null;
    for (int pages = 0; pages < 1000; pages++) {
      ListPage page = store.list(prefix, after, limit).join();
      for (ObjectSummary s : page.objects()) {
        keys.add(s.key().value());
      }
      if (!page.truncated()) {
        return keys;
      }
      after = page.objects().get(page.objects().size() - 1).key();
    }
    throw new AssertionError("listing does not end");
  }

  @Test
  void keysThatArePrefixDirectoriesOfOthersAndHostileKeysStayApartAndInsideTheRoot() throws Exception {
    Path root = dir.resolve("store");
    String longKey = "l/" + "x".repeat(1020);
    List<String> keys = List.of("a", "a/b", "a/b/c", "../escape", "./a", "a//b", "ünï/cødé ✓", longKey,
        longKey.substring(0, 100), longKey.substring(0, 101), longKey.substring(0, 99));
    try (LocalDirObjectStore store = new LocalDirObjectStore(root)) {
      for (String k : keys) {
        put(store, k, "v:" + k, PutCondition.IF_ABSENT);
      }
      for (String k : keys) {
        assertEquals(bytes("v:" + k), get(store, k).data(), k);
      }
      List<String> sorted = new ArrayList<>(keys);
      sorted.sort(ObjectKey::compareUtf8);
      assertEquals(sorted, listAll(store, "", 1000));
      assertEquals(sorted, listAll(store, "", 2));
      assertEquals(List.of("a//b", "a/b", "a/b/c"), listAll(store, "a/", 1));
      assertEquals(List.of(longKey.substring(0, 100), longKey.substring(0, 101), longKey),
          listAll(store, longKey.substring(0, 100), 1));
    }
    assertTrue(Files.notExists(dir.resolve("escape")));
    try (Stream<Path> all = Files.walk(dir)) {
      assertTrue(all.allMatch(p -> p.startsWith(root) || p.equals(dir)), "nothing written outside the root");
    }
  }

  @Test
  void etagsSurviveARestartAndEveryOverwriteChangesThem() throws Exception {
    ETag first;
    ETag second;
    try (LocalDirObjectStore store = new LocalDirObjectStore(dir)) {
      first = put(store, "k", "same", PutCondition.NONE);
      second = put(store, "k", "same", PutCondition.ifMatch(first));
      assertNotEquals(first, second, "identical bytes, new version, new etag");
    }
    try (LocalDirObjectStore reopened = new LocalDirObjectStore(dir)) {
      assertEquals(second, get(reopened, "k").etag());
      assertInstanceOf(PutResult.PreconditionFailed.class,
          reopened.put(ObjectKey.of("k"), bytes("x"), PutCondition.ifMatch(first)).join());
      ETag third = put(reopened, "k", "same", PutCondition.ifMatch(second));
      assertNotEquals(second, third);
      assertNotEquals(first, third);
    }
  }

  @Test
  void leftoverTempFilesAreRemovedOnOpenAndNeverListed() throws Exception {
    try (LocalDirObjectStore store = new LocalDirObjectStore(dir)) {
      put(store, "k", "v", PutCondition.NONE);
    }
    Files.writeString(dir.resolve("staging").resolve("1-2.tmp"), "half-written");
    try (LocalDirObjectStore store = new LocalDirObjectStore(dir)) {
      try (Stream<Path> staged = Files.list(dir.resolve("staging"))) {
        assertEquals(0, staged.count());
      }
      assertEquals(List.of("k"), listAll(store, "", 10));
      store.delete(ObjectKey.of("k")).join();
      assertEquals(List.of(), listAll(store, "", 10));
      assertInstanceOf(GetResult.NotFound.class, store.get(ObjectKey.of("k"), null).join());
    }
  }
}
