package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.s2j.runtime.metadata.Condition;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.Mutation;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random transaction sequences, sent in groups (so they form group commits) with restarts in
 * between: the durable store answers and ends up exactly as {@link InMemoryMetadataStore} fed the
 * same sequence, and a restarted store recovers that state (from snapshots taken every few entries
 * and the log after them).
 */
class ObjectStoreMetadataStoreProperties {
  private static final List<String> KEYS = List.of("a", "b", "c", "d");
  private static final List<String> VALUES = List.of("", "0", "1");

  sealed interface Step {}

  record Commit(List<Txn> group) implements Step {}

  record Reopen() implements Step {}

  @Property(tries = 60)
  void matchesTheInMemoryStoreAcrossRestarts(@ForAll("steps") List<Step> steps) throws Exception {
    InMemoryObjectStore store = new InMemoryObjectStore();
    InMemoryMetadataStore model = new InMemoryMetadataStore();
    ObjectStoreMetadataStore.Options options = ObjectStoreMetadataStore.Options.defaults()
        .withFenceProbeInterval(Duration.ZERO)
        .withSnapshotEvery(3, Long.MAX_VALUE);
    ObjectStoreMetadataStore meta = ObjectStoreMetadataStore.open(store, options);
    MetaTestClient client = new MetaTestClient(meta);
    try {
      for (Step step : steps) {
        switch (step) {
          case Commit c -> {
            List<MetaTestClient.Outcome> got = client.tryCommitAll(c.group());
            for (int i = 0; i < got.size(); i++) {
              assertEquals(new MetaTestClient.Outcome(model.commit(c.group().get(i)), null), got.get(i));
            }
          }
          case Reopen r -> {
            client.close();
            meta.close();
            meta = ObjectStoreMetadataStore.open(store, options);
            client = new MetaTestClient(meta);
            assertEquals(model.revision(), meta.revision());
          }
        }
        assertEquals(modelEntries(model), meta.entries());
      }
      assertEquals(modelEntries(model), client.scan(ByteString.EMPTY, ByteString.copyFromUtf8("z"), 1000).entries());
    } finally {
      client.close();
      meta.close();
    }
  }

  private static List<KeyValue> modelEntries(InMemoryMetadataStore model) {
    return ObjectStoreMetadataStoreTest.modelEntries(model);
  }

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Step> commit = txn().list().ofMinSize(1).ofMaxSize(4).map(Commit::new);
    Arbitrary<Step> reopen = Arbitraries.just(new Reopen());
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, commit),
        net.jqwik.api.Tuple.of(1, reopen)).list().ofMinSize(1).ofMaxSize(30);
  }

  private static Arbitrary<ByteString> key() {
    return Arbitraries.of(KEYS).map(ByteString::copyFromUtf8);
  }

  private static Arbitrary<ByteString> value() {
    return Arbitraries.of(VALUES).map(ByteString::copyFromUtf8);
  }

  private static Arbitrary<Condition> condition() {
    return Arbitraries.oneOf(
        key().map(Condition.Absent::new),
        Combinators.combine(key(), Arbitraries.longs().between(0, 12)).as(Condition.RevisionIs::new),
        Combinators.combine(key(), value()).as(Condition.ValueIs::new));
  }

  private static Arbitrary<Txn> txn() {
    Arbitrary<List<Mutation>> mutations = Arbitraries.subsetOf(KEYS).ofMinSize(1).ofMaxSize(3)
        .flatMap(keys -> {
          List<Arbitrary<Mutation>> each = new ArrayList<>();
          for (String k : keys) {
            ByteString key = ByteString.copyFromUtf8(k);
            each.add(Arbitraries.oneOf(
                value().map(v -> (Mutation) new Mutation.Put(key, v)),
                Arbitraries.just((Mutation) new Mutation.Delete(key))));
          }
          return Combinators.combine(each).as(l -> l);
        });
    return Combinators.combine(condition().list().ofMaxSize(2), mutations).as(Txn::new);
  }
}
