package io.s2j.frontend;

import static io.s2j.frontend.SimCatalogs.failed;
import static io.s2j.frontend.SimCatalogs.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.BasinReconfiguration;
import io.s2j.api.ErrorCode;
import io.s2j.api.Patch;
import io.s2j.api.ProvisionResult;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamCipher;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.StreamReconfiguration;
import io.s2j.runtime.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Stream lookup with auto-creation (cases 130–142 at the lookup level, §12.1), activation by power
 * of two choices, and races between simulated frontend nodes.
 */
class CatalogDataPathTest {
  private static final BasinName B = new BasinName("test-basin-01");
  private static final StreamName S = new StreamName("orders");

  private final SimCatalogs sim = new SimCatalogs();

  private void basin(boolean onAppend, boolean onRead, StreamCipher cipher) {
    ok(sim.run(c -> c.createBasin(B, new BasinConfig(StreamConfigSpec.EMPTY, cipher, onAppend, onRead), null)));
  }

  private int streamCount() {
    return ok(sim.run(c -> c.listStreams(B, "", "", 0))).items().size();
  }

  private Outcome<OpenedStream> open(AutoCreate autoCreate) {
    return sim.run(c -> c.openStream(B, S, autoCreate));
  }

  @Test
  void case130_appendAutoCreates() {
    basin(true, false, null);
    OpenedStream opened = ok(open(AutoCreate.ON_APPEND));
    assertTrue(opened.created());
    assertEquals(ResolvedStreamConfig.SYSTEM_DEFAULTS, opened.config());
    assertEquals(List.of(), opened.streamlets());
    assertEquals(1, streamCount());
    assertFalse(ok(open(AutoCreate.ON_APPEND)).created());
  }

  @Test
  void case131_autoCreatedStreamTakesTheBasinCipher() {
    basin(true, false, StreamCipher.AEGIS_256);
    assertEquals(StreamCipher.AEGIS_256, ok(open(AutoCreate.ON_APPEND)).cipher());
    assertEquals(StreamCipher.AEGIS_256, ok(sim.run(c -> c.listStreams(B, "", "", 0))).items().get(0).cipher());
  }

  @Test
  void case132_appendWithoutAutoCreateIsNotFound() {
    basin(false, true, null); // only reads may create
    failed(ErrorCode.STREAM_NOT_FOUND, open(AutoCreate.ON_APPEND));
    assertEquals(0, streamCount());
  }

  @Test
  void case133_readAutoCreates() {
    basin(false, true, null);
    assertTrue(ok(open(AutoCreate.ON_READ)).created());
    assertEquals(1, streamCount());
  }

  @Test
  void case134_readWithoutAutoCreateIsNotFound() {
    basin(true, false, null); // only appends may create
    failed(ErrorCode.STREAM_NOT_FOUND, open(AutoCreate.ON_READ));
    assertEquals(0, streamCount());
  }

  @Test
  void case135_checkTailAutoCreates() {
    basin(false, true, null);
    assertTrue(ok(open(AutoCreate.ON_READ)).created());
    assertEquals(1, streamCount());
  }

  @Test
  void case136_checkTailAutoCreatesWithTheBasinCipher() {
    basin(false, true, StreamCipher.AEGIS_256);
    assertEquals(StreamCipher.AEGIS_256, ok(open(AutoCreate.ON_READ)).cipher());
    assertEquals(1, streamCount());
  }

  @Test
  void case137_checkTailWithoutAutoCreateIsNotFound() {
    basin(false, false, null);
    failed(ErrorCode.STREAM_NOT_FOUND, open(AutoCreate.ON_READ));
    failed(ErrorCode.STREAM_NOT_FOUND, open(AutoCreate.NONE));
    assertEquals(0, streamCount());
  }

  @Test
  void case138_concurrentAutoCreatesMakeOneStream() {
    basin(true, false, null);
    List<Promise<Outcome<OpenedStream>>> racers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      racers.add(sim.start("fe-" + (i % 3), c -> c.openStream(B, S, AutoCreate.ON_APPEND)));
    }
    sim.awaitAll(racers);
    long id = ok(open(AutoCreate.NONE)).streamId();
    int created = 0;
    for (Promise<Outcome<OpenedStream>> r : racers) {
      OpenedStream opened = ok(r.value());
      assertEquals(id, opened.streamId(), "every racer proceeds with the one stream");
      created += opened.created() ? 1 : 0;
    }
    assertEquals(1, created);
    assertEquals(1, streamCount());
  }

  @Test
  void case140to142_missingBasinIsBasinNotFoundWhateverTheFlags() {
    for (AutoCreate kind : AutoCreate.values()) {
      assertEquals("basin `test-basin-01` not found", failed(ErrorCode.BASIN_NOT_FOUND, open(kind)).message());
    }
  }

  @Test
  void autoCreateInDeletingBasinConflicts() {
    basin(true, true, null);
    ok(sim.run(c -> c.deleteBasin(B)));
    failed(ErrorCode.BASIN_DELETION_PENDING, open(AutoCreate.ON_APPEND));
    failed(ErrorCode.STREAM_NOT_FOUND, open(AutoCreate.NONE));
  }

  @Test
  void existingStreamsOpenInADeletingBasin() {
    basin(false, false, null);
    ok(sim.run(c -> c.createStream(B, S, StreamConfigSpec.EMPTY, null)));
    ok(sim.run(c -> c.deleteBasin(B)));
    assertFalse(ok(open(AutoCreate.NONE)).created());
  }

  // ---------------------------------------------------------------- activation

  private long streamId() {
    basin(false, false, null);
    ok(sim.run(c -> c.createStream(B, S, StreamConfigSpec.EMPTY, null)));
    return ok(open(AutoCreate.NONE)).streamId();
  }

  @Test
  void activationCreatesStreamletZeroOnce() {
    long id = streamId();
    List<Streamlet> chain = ok(sim.run(c -> c.activate(id, List.of("ch-1"), ch -> 0)));
    assertEquals(1, chain.size());
    Streamlet first = chain.get(0);
    assertEquals(0, first.index());
    assertEquals("ch-1", first.channelId());
    assertEquals(0, first.startSeqNum());
    assertEquals(0, first.startTimestamp());
    assertNull(first.endSeqNum());
    assertTrue(first.streamletId() > 0);
    assertEquals(chain, ok(sim.run(c -> c.activate(id, List.of("ch-2"), ch -> 0))), "an active stream keeps its chain");
    assertEquals(chain, ok(open(AutoCreate.NONE)).streamlets());
  }

  @Test
  void powerOfTwoChoicesTakesTheLessLoaded() {
    basin(false, false, null);
    TreeMap<String, Long> load = new TreeMap<>();
    load.put("ch-a", 5L);
    load.put("ch-b", 0L);
    for (int i = 0; i < 20; i++) {
      StreamName name = new StreamName("s" + i);
      ok(sim.run(c -> c.createStream(B, name, StreamConfigSpec.EMPTY, null)));
      long id = ok(sim.run(c -> c.openStream(B, name, AutoCreate.NONE))).streamId();
      Streamlet s = ok(sim.run(c -> c.activate(id, List.copyOf(load.keySet()), load::get))).get(0);
      assertEquals("ch-b", s.channelId(), "of two channels, both are drawn: the less loaded wins");
    }
    // with more channels, the most loaded can never win: it is never less loaded than the other choice
    load.put("ch-c", 9L);
    load.put("ch-d", 1L);
    TreeMap<String, Integer> picks = new TreeMap<>();
    for (int i = 0; i < 60; i++) {
      StreamName name = new StreamName("t" + i);
      ok(sim.run(c -> c.createStream(B, name, StreamConfigSpec.EMPTY, null)));
      long id = ok(sim.run(c -> c.openStream(B, name, AutoCreate.NONE))).streamId();
      picks.merge(ok(sim.run(c -> c.activate(id, List.copyOf(load.keySet()), load::get))).get(0).channelId(), 1, Integer::sum);
    }
    assertFalse(picks.containsKey("ch-c"), "picks " + picks);
    assertTrue(picks.getOrDefault("ch-b", 0) > picks.getOrDefault("ch-a", 0), "picks " + picks);
  }

  @Test
  void aDeletedIncarnationIsNotActivatedAgain() {
    long id = streamId();
    // bgtask purged the incarnation: its purge marker stays as a tombstone (docs/design.md, bgtask)
    io.s2j.metadata.proto.TrimMeta purged = io.s2j.metadata.proto.TrimMeta.newBuilder().setPurge(true).build();
    sim.run(c -> sim.env("fe-1").metadataStore().commit(
        io.s2j.runtime.metadata.Txn.builder().put(io.s2j.metadata.MetaKey.trim(id), purged.toByteString()).build()));
    failed(ErrorCode.STREAM_NOT_FOUND, sim.run(c -> c.activate(id, List.of("ch-1"), ch -> 0)));
    assertTrue(sim.run(c -> sim.env("fe-1").metadataStore().get(io.s2j.metadata.MetaKey.streamlet(id, 0))).isEmpty(),
        "no first link was written for the deleted incarnation");
  }

  @Test
  void noChannelIsUnavailable() {
    long id = streamId();
    failed(ErrorCode.UNAVAILABLE, sim.run(c -> c.activate(id, List.of(), ch -> 0)));
  }

  @Test
  void concurrentActivationsAgreeOnOneStreamlet() {
    long id = streamId();
    List<String> channels = List.of("ch-1", "ch-2", "ch-3", "ch-4");
    List<Promise<Outcome<List<Streamlet>>>> racers = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      racers.add(sim.start("fe-" + i, c -> c.activate(id, channels, ch -> 0)));
    }
    sim.awaitAll(racers);
    List<Streamlet> winner = ok(racers.get(0).value());
    assertEquals(1, winner.size());
    for (Promise<Outcome<List<Streamlet>>> r : racers) {
      assertEquals(winner, ok(r.value()));
    }
    assertEquals(winner, ok(open(AutoCreate.NONE)).streamlets());
  }

  // ---------------------------------------------------------------- create races

  private List<Outcome<Provisioned<StreamInfo>>> raceCreates(String token) {
    basin(false, false, null);
    Promise<Outcome<Provisioned<StreamInfo>>> a = sim.start("fe-1", c -> c.createStream(B, S, StreamConfigSpec.EMPTY, token));
    Promise<Outcome<Provisioned<StreamInfo>>> b = sim.start("fe-2", c -> c.createStream(B, S, StreamConfigSpec.EMPTY, token));
    sim.awaitAll(List.of(a, b));
    return List.of(a.value(), b.value());
  }

  @Test
  void concurrentCreatesWithOneTokenGiveCreatedAndNoop() {
    List<Outcome<Provisioned<StreamInfo>>> outcomes = raceCreates("token-1");
    List<ProvisionResult> results = outcomes.stream().map(o -> ok(o).result()).sorted().toList();
    assertEquals(List.of(ProvisionResult.CREATED, ProvisionResult.NOOP), results);
    assertEquals(ok(outcomes.get(0)).info().createdAtMs(), ok(outcomes.get(1)).info().createdAtMs(), "both describe one stream");
    assertEquals(1, streamCount());
  }

  @Test
  void concurrentCreatesWithoutTokenGiveOneConflict() {
    List<Outcome<Provisioned<StreamInfo>>> outcomes = raceCreates(null);
    int created = 0;
    int conflicts = 0;
    for (Outcome<Provisioned<StreamInfo>> o : outcomes) {
      if (o instanceof Outcome.Ok<Provisioned<StreamInfo>> ok) {
        assertEquals(ProvisionResult.CREATED, ok.value().result());
        created++;
      } else {
        failed(ErrorCode.RESOURCE_ALREADY_EXISTS, o);
        conflicts++;
      }
    }
    assertEquals(1, created);
    assertEquals(1, conflicts);
    assertEquals(1, streamCount());
  }

  @Test
  void createRacingBasinReconfigureResolvesAgainstOneOfTheDefaults() {
    basin(false, false, null);
    Promise<Outcome<Provisioned<StreamInfo>>> create = sim.start("fe-1", c -> c.createStream(B, S, StreamConfigSpec.EMPTY, null));
    Promise<Outcome<BasinConfig>> patch = sim.start("fe-2", c -> c.reconfigureBasin(B, new BasinReconfiguration(
        Patch.set(StreamReconfiguration.NONE.withStorageClass(Patch.set(StorageClass.STANDARD))),
        Patch.keep(), null, null)));
    sim.awaitAll(List.of(create, patch));
    ok(create.value());
    ok(patch.value());
    // either order is linearizable; the guard on the basin's revision rules out a torn read
    assertTrue(List.of(StorageClass.STANDARD, StorageClass.EXPRESS)
        .contains(ok(sim.run(c -> c.getStreamConfig(B, S))).storageClass()));
  }
}
