package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compare-and-swap counters incremented by several nodes, each on its own thread: if a conditional
 * write were not atomic across threads, two nodes would both win one version and lose an increment.
 */
class ConcurrentWritersTest {
  private static final int NODES = 4;
  private static final int INCREMENTS = 40;

  @TempDir Path dir;

  @Test
  void inMemoryCountersLoseNoIncrement() throws Exception {
    assertNoLostIncrements(new InMemoryObjectStore());
  }

  @Test
  void localDirCountersLoseNoIncrement() throws Exception {
    assertNoLostIncrements(new LocalDirObjectStore(dir));
  }

  private static void assertNoLostIncrements(SharedObjectStore store) throws Exception {
    ObjectKey key = ObjectKey.of("counter");
    try (RealHarness h = new RealHarness(store)) {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int n = 0; n < NODES; n++) {
        Env env = h.env("node-" + n);
        CompletableFuture<Void> finished = new CompletableFuture<>();
        done.add(finished);
        env.scheduler().execute(() -> increment(env, key, INCREMENTS).onComplete((v, f) -> {
          if (f != null) {
            finished.completeExceptionally(f);
          } else {
            finished.complete(null);
          }
        }));
      }
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      GetResult.Found found = assertInstanceOf(GetResult.Found.class, h.await(h.env("reader"), e -> e.objectStore().get(key)));
      assertEquals(String.valueOf(NODES * INCREMENTS), found.data().toStringUtf8());
    }
  }

  /** Adds one to the counter {@code remaining} times, retrying each lost compare-and-swap. */
  private static Promise<Done> increment(Env env, ObjectKey key, int remaining) {
    if (remaining == 0) {
      return Promise.completed(env.scheduler(), Done.DONE);
    }
    return env.objectStore().get(key).flatMap(current -> {
      Promise<PutResult> put;
      if (current instanceof GetResult.Found f) {
        long next = Long.parseLong(f.data().toStringUtf8()) + 1;
        put = env.objectStore().put(key, ByteString.copyFromUtf8(Long.toString(next)), PutCondition.ifMatch(f.etag()));
      } else {
        put = env.objectStore().put(key, ByteString.copyFromUtf8("1"), PutCondition.IF_ABSENT);
      }
      return put.flatMap(r -> increment(env, key, r instanceof PutResult.Written ? remaining - 1 : remaining));
    });
  }
}
