package io.s2j.frontend;

import static io.s2j.frontend.SimCatalogs.failed;
import static io.s2j.frontend.SimCatalogs.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.BasinReconfiguration;
import io.s2j.api.ErrorCode;
import io.s2j.api.Patch;
import io.s2j.api.ProvisionResult;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamCipher;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.StreamReconfiguration;
import io.s2j.api.TimestampingMode;
import io.s2j.metadata.MetaKey;
import io.s2j.runtime.metadata.Txn;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Behaviour cases 28–65 that concern the control plane (streams) against a Catalog on a simulated node. */
class CatalogStreamsTest {
  private static final BasinName B = new BasinName("test-basin-01");
  private static final StreamName S = new StreamName("orders");
  private static final StreamConfigSpec EMPTY = StreamConfigSpec.EMPTY;

  private final SimCatalogs sim = new SimCatalogs();

  private static StreamConfigSpec spec(StorageClass storage, RetentionPolicy retention, TimestampingMode mode, Boolean uncapped, Long doe) {
    return new StreamConfigSpec(storage, retention, mode, uncapped, doe);
  }

  private void basin(StreamConfigSpec defaults, StreamCipher cipher) {
    ok(sim.run(c -> c.createBasin(B, new BasinConfig(defaults, cipher, false, false), null)));
  }

  private Provisioned<StreamInfo> create(StreamName stream, StreamConfigSpec config, String token) {
    return ok(tryCreate(stream, config, token));
  }

  private Outcome<Provisioned<StreamInfo>> tryCreate(StreamName stream, StreamConfigSpec config, String token) {
    return sim.run(c -> c.createStream(B, stream, config, token));
  }

  private ResolvedStreamConfig get(StreamName stream) {
    return ok(sim.run(c -> c.getStreamConfig(B, stream)));
  }

  private Page<StreamInfo> list(String prefix, String startAfter, int limit) {
    return ok(sim.run(c -> c.listStreams(B, prefix, startAfter, limit)));
  }

  private static List<String> names(Page<StreamInfo> page) {
    return page.items().stream().map(s -> s.name().value()).toList();
  }

  private void createAll(String... names) {
    for (String n : names) {
      create(new StreamName(n), EMPTY, null);
    }
  }

  @Test
  void case28_createResolvesAgainstBasinDefaults() {
    basin(spec(StorageClass.STANDARD, RetentionPolicy.INFINITE, TimestampingMode.CLIENT_REQUIRE, null, null), null);
    create(S, EMPTY, null);
    assertEquals(new ResolvedStreamConfig(StorageClass.STANDARD, RetentionPolicy.INFINITE, TimestampingMode.CLIENT_REQUIRE, false, 0), get(S));
  }

  @Test
  void case29_noBasinCipherMeansNoStreamCipher() {
    basin(EMPTY, null);
    assertNull(create(S, EMPTY, null).info().cipher());
    assertNull(list("", "", 0).items().get(0).cipher());
  }

  @Test
  void case30_streamTakesTheBasinCipher() {
    basin(EMPTY, StreamCipher.AEGIS_256);
    create(S, EMPTY, null);
    assertEquals(StreamCipher.AEGIS_256, list("", "", 0).items().get(0).cipher());
  }

  @Test
  void case31_basinCipherChangeOnlyAffectsNewStreams() {
    basin(EMPTY, StreamCipher.AEGIS_256);
    create(new StreamName("s1"), EMPTY, null);
    ok(sim.run(c -> c.reconfigureBasin(B, new BasinReconfiguration(Patch.keep(), Patch.set(StreamCipher.AES_256_GCM), null, null))));
    create(new StreamName("s2"), EMPTY, null);
    List<StreamInfo> listed = list("", "", 0).items();
    assertEquals(List.of("s1", "s2"), listed.stream().map(s -> s.name().value()).toList());
    assertEquals(StreamCipher.AEGIS_256, listed.get(0).cipher());
    assertEquals(StreamCipher.AES_256_GCM, listed.get(1).cipher());
  }

  @Test
  void case32_getMissingStreamIsNotFound() {
    basin(EMPTY, null);
    assertEquals("stream `orders` in basin `test-basin-01` not found",
        failed(ErrorCode.STREAM_NOT_FOUND, sim.run(c -> c.getStreamConfig(B, S))).message());
  }

  private static final StreamConfigSpec EXPRESS = spec(StorageClass.EXPRESS, null, null, null, null);

  private Provisioned<StreamInfo> case33() {
    basin(EMPTY, null);
    return create(S, EXPRESS, "stream-token-1");
  }

  @Test
  void case33_createWithToken() {
    assertEquals(ProvisionResult.CREATED, case33().result());
    assertEquals(StorageClass.EXPRESS, get(S).storageClass());
  }

  @Test
  void case34_replayIsNoop() {
    Provisioned<StreamInfo> first = case33();
    Provisioned<StreamInfo> replay = create(S, EXPRESS, "stream-token-1");
    assertEquals(ProvisionResult.NOOP, replay.result());
    assertNull(replay.info().deletedAtMs());
    assertEquals(first.info().createdAtMs(), replay.info().createdAtMs());
    assertTrue(replay.info().createdAtMs() <= sim.nowMs());
  }

  @Test
  void case35_otherTokenConflicts() {
    case33();
    assertEquals("stream `orders` in basin `test-basin-01` already exists",
        failed(ErrorCode.RESOURCE_ALREADY_EXISTS, tryCreate(S, EXPRESS, "stream-token-2")).message());
  }

  @Test
  void case36_sameTokenOtherConfigConflicts() {
    case33();
    failed(ErrorCode.RESOURCE_ALREADY_EXISTS, tryCreate(S, spec(StorageClass.EXPRESS, null, TimestampingMode.ARRIVAL, null, null), "stream-token-1"));
  }

  private static final StreamConfigSpec STANDARD = spec(StorageClass.STANDARD, null, null, null, null);

  private void case37() {
    basin(EMPTY, null);
    create(S, STANDARD, "token");
    assertEquals(ProvisionResult.NOOP, create(S, STANDARD, "token").result());
    Provisioned<StreamInfo> ensured = ok(sim.run(c -> c.ensureStream(B, S, spec(null, null, TimestampingMode.ARRIVAL, null, null))));
    assertEquals(ProvisionResult.UPDATED, ensured.result());
  }

  @Test
  void case37_ensureResetsUnspecifiedFields() {
    case37();
    ResolvedStreamConfig got = get(S);
    assertEquals(StorageClass.EXPRESS, got.storageClass());
    assertEquals(TimestampingMode.ARRIVAL, got.timestampingMode());
  }

  @Test
  void case38_ensureKeepsTheCreationKey() {
    case37();
    assertEquals(ProvisionResult.NOOP, create(S, STANDARD, "token").result());
  }

  @Test
  void case39_ensureComparesResolvedConfigs() {
    basin(spec(StorageClass.EXPRESS, RetentionPolicy.ageSeconds(864_000), null, null, null), null);
    StreamConfigSpec config = spec(StorageClass.STANDARD, RetentionPolicy.INFINITE, null, null, null);
    create(S, config, null);
    assertEquals(ProvisionResult.NOOP, ok(sim.run(c -> c.ensureStream(B, S, config))).result());
  }

  private static final StreamConfigSpec DOE_ZERO = spec(null, null, null, null, 0L);

  @Test
  void case40_explicitZeroOverridesBasinDefault() {
    basin(spec(null, null, null, null, 60L), null);
    create(S, DOE_ZERO, null);
    assertEquals(0, get(S).deleteOnEmptyMinAgeSecs());
  }

  @Test
  void case41_ensureWithExplicitZeroIsNoop() {
    basin(spec(null, null, null, null, 60L), null);
    create(S, DOE_ZERO, null);
    assertEquals(ProvisionResult.NOOP, ok(sim.run(c -> c.ensureStream(B, S, DOE_ZERO))).result());
  }

  @Test
  void case42_replayAfterBasinDefaultsChangeIsNoop() {
    basin(EMPTY, null);
    create(S, EMPTY, "token");
    ok(sim.run(c -> c.reconfigureBasin(B, new BasinReconfiguration(
        Patch.set(StreamReconfiguration.NONE.withStorageClass(Patch.set(StorageClass.STANDARD))), Patch.keep(), null, null))));
    assertEquals(ProvisionResult.NOOP, create(S, EMPTY, "token").result());
  }

  private ResolvedStreamConfig case43() {
    basin(STANDARD, null);
    create(S, spec(null, RetentionPolicy.ageSeconds(60), TimestampingMode.CLIENT_REQUIRE, null, null), null);
    StreamReconfiguration patch = new StreamReconfiguration(
        Patch.set(StorageClass.EXPRESS),
        Patch.set(RetentionPolicy.INFINITE),
        Patch.set(new StreamReconfiguration.Timestamping(Patch.set(TimestampingMode.ARRIVAL), Patch.set(true))),
        Patch.keep());
    return ok(sim.run(c -> c.reconfigureStream(B, S, patch)));
  }

  private static final ResolvedStreamConfig CASE43 =
      new ResolvedStreamConfig(StorageClass.EXPRESS, RetentionPolicy.INFINITE, TimestampingMode.ARRIVAL, true, 0);

  @Test
  void case43_reconfigureReturnsTheNewConfig() {
    assertEquals(CASE43, case43());
  }

  @Test
  void case44_reconfigureIsPersisted() {
    case43();
    assertEquals(CASE43, get(S));
  }

  private ResolvedStreamConfig case45() {
    basin(spec(StorageClass.STANDARD, RetentionPolicy.INFINITE, TimestampingMode.ARRIVAL, true, 300L), null);
    create(S, spec(StorageClass.EXPRESS, RetentionPolicy.ageSeconds(60), TimestampingMode.CLIENT_REQUIRE, false, 0L), null);
    StreamReconfiguration clearAll = new StreamReconfiguration(
        Patch.clear(),
        Patch.clear(),
        Patch.set(new StreamReconfiguration.Timestamping(Patch.clear(), Patch.clear())),
        Patch.set(new StreamReconfiguration.DeleteOnEmpty(Patch.clear())));
    return ok(sim.run(c -> c.reconfigureStream(B, S, clearAll)));
  }

  private static final ResolvedStreamConfig CASE45 =
      new ResolvedStreamConfig(StorageClass.STANDARD, RetentionPolicy.INFINITE, TimestampingMode.ARRIVAL, true, 300);

  @Test
  void case45_clearedFieldsTakeBasinDefaults() {
    assertEquals(CASE45, case45());
  }

  @Test
  void case46_clearedFieldsArePersisted() {
    case45();
    assertEquals(CASE45, get(S));
  }

  @Test
  void case49_createInDeletingBasinConflicts() {
    basin(EMPTY, null);
    ok(sim.run(c -> c.deleteBasin(B)));
    failed(ErrorCode.BASIN_DELETION_PENDING, tryCreate(new StreamName("blocked"), EMPTY, null));
  }

  private void createAndDelete() {
    basin(EMPTY, null);
    create(S, EMPTY, null);
    ok(sim.run(c -> c.deleteStream(B, S)));
  }

  @Test
  void case50_deletedStreamIsStillListed() {
    createAndDelete();
    Page<StreamInfo> page = list("", "", 0);
    assertEquals(List.of("orders"), names(page));
    assertNotNull(page.items().get(0).deletedAtMs());
  }

  @Test
  void case51_createWhileDeletingConflicts() {
    createAndDelete();
    assertEquals("stream `orders` in basin `test-basin-01` is being deleted",
        failed(ErrorCode.STREAM_DELETION_PENDING, tryCreate(S, EMPTY, null)).message());
    failed(ErrorCode.STREAM_DELETION_PENDING, sim.run(c -> c.ensureStream(B, S, EMPTY)));
  }

  @Test
  void case52_reconfigureWhileDeletingConflicts() {
    createAndDelete();
    failed(ErrorCode.STREAM_DELETION_PENDING, sim.run(c -> c.reconfigureStream(B, S, StreamReconfiguration.NONE)));
  }

  @Test
  void case53_deleteAgainIsAccepted() {
    createAndDelete();
    ok(sim.run(c -> c.deleteStream(B, S)));
  }

  @Test
  void case54_encryptedStreamDeletesWithoutAKey() {
    basin(EMPTY, StreamCipher.AEGIS_256);
    create(S, EMPTY, null);
    ok(sim.run(c -> c.deleteStream(B, S)));
    StreamInfo listed = list("", "", 0).items().get(0);
    assertNotNull(listed.deletedAtMs());
    assertEquals(StreamCipher.AEGIS_256, listed.cipher());
  }

  @Test
  void case55_checkTailOfDeletedStreamConflicts() {
    createAndDelete();
    failed(ErrorCode.STREAM_DELETION_PENDING, sim.run(c -> c.openStream(B, S, AutoCreate.ON_READ)));
  }

  @Test
  void case56_appendToDeletedStreamConflicts() {
    createAndDelete();
    failed(ErrorCode.STREAM_DELETION_PENDING, sim.run(c -> c.openStream(B, S, AutoCreate.ON_APPEND)));
  }

  @Test
  void case57_readOfDeletedStreamConflicts() {
    createAndDelete();
    failed(ErrorCode.STREAM_DELETION_PENDING, sim.run(c -> c.openStream(B, S, AutoCreate.ON_READ)));
  }

  @Test
  void case58_getConfigOfDeletedStreamConflicts() {
    createAndDelete();
    failed(ErrorCode.STREAM_DELETION_PENDING, sim.run(c -> c.getStreamConfig(B, S)));
  }

  @Test
  void case59_deleteMissingStreamIsNotFound() {
    basin(EMPTY, null);
    failed(ErrorCode.STREAM_NOT_FOUND, sim.run(c -> c.deleteStream(B, new StreamName("missing"))));
  }

  @Test
  void case60_listNoStreams() {
    basin(EMPTY, null);
    assertEquals(new Page<StreamInfo>(List.of(), false), list("", "", 0));
  }

  @Test
  void case61_listAllInOrder() {
    basin(EMPTY, null);
    createAll("test-stream-list-2", "test-stream-list-0", "test-stream-list-4", "test-stream-list-3", "test-stream-list-1");
    Page<StreamInfo> page = list("", "", 0);
    assertEquals(IntStream.range(0, 5).mapToObj(i -> "test-stream-list-" + i).toList(), names(page));
    assertFalse(page.hasMore());
    StreamInfo first = page.items().get(0);
    assertNull(first.deletedAtMs());
    assertTrue(first.createdAtMs() <= sim.nowMs());
  }

  private void createPaginated() {
    basin(EMPTY, null);
    for (String n : paginated(0, 12)) {
      createAll(n);
    }
  }

  private static List<String> paginated(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> String.format(Locale.ROOT, "test-stream-stream-%02d", i)).toList();
  }

  @Test
  void case62_firstPageHasMore() {
    createPaginated();
    Page<StreamInfo> page = list("", "", 5);
    assertEquals(paginated(0, 5), names(page));
    assertTrue(page.hasMore());
  }

  @Test
  void case63_middlePageHasMore() {
    createPaginated();
    Page<StreamInfo> page = list("", "test-stream-stream-04", 5);
    assertEquals(paginated(5, 10), names(page));
    assertTrue(page.hasMore());
  }

  @Test
  void case64_lastPageHasNoMore() {
    createPaginated();
    Page<StreamInfo> page = list("", "test-stream-stream-09", 5);
    assertEquals(paginated(10, 12), names(page));
    assertFalse(page.hasMore());
  }

  @Test
  void case65_listByPrefix() {
    basin(EMPTY, null);
    createAll("test-stream-metrics-cpu", "test-stream-metrics-memory", "test-stream-logs-app", "test-stream-traces-span");
    Page<StreamInfo> page = list("test-stream-metrics-", "", 0);
    assertEquals(List.of("test-stream-metrics-cpu", "test-stream-metrics-memory"), names(page));
    assertFalse(page.hasMore());
  }

  // ---------------------------------------------------------------- beyond the numbered cases

  @Test
  void createInMissingBasinIsBasinNotFound() {
    assertEquals("basin `test-basin-01` not found", failed(ErrorCode.BASIN_NOT_FOUND, tryCreate(S, EMPTY, null)).message());
    failed(ErrorCode.BASIN_NOT_FOUND, sim.run(c -> c.ensureStream(B, S, EMPTY)));
    failed(ErrorCode.BASIN_NOT_FOUND, sim.run(c -> c.reconfigureStream(B, S, StreamReconfiguration.NONE)));
  }

  @Test
  void getAndDeleteDoNotCheckTheBasin() {
    failed(ErrorCode.STREAM_NOT_FOUND, sim.run(c -> c.getStreamConfig(B, S)));
    failed(ErrorCode.STREAM_NOT_FOUND, sim.run(c -> c.deleteStream(B, S)));
    assertEquals(new Page<StreamInfo>(List.of(), false), list("", "", 0)); // lite: empty page for a missing basin
  }

  @Test
  void reconfigureChecksTheBasinFirst() {
    basin(EMPTY, null);
    create(S, EMPTY, null);
    ok(sim.run(c -> c.deleteBasin(B)));
    failed(ErrorCode.BASIN_DELETION_PENDING, sim.run(c -> c.reconfigureStream(B, S, StreamReconfiguration.NONE)));
    failed(ErrorCode.BASIN_DELETION_PENDING, sim.run(c -> c.ensureStream(B, S, EMPTY)));
    ok(sim.run(c -> c.deleteStream(B, S))); // deletion works whatever the basin's state
  }

  @Test
  void ensureCreatesWithTheBasinCipherAndKeepsIt() {
    basin(STANDARD, StreamCipher.AEGIS_256);
    Provisioned<StreamInfo> created = ok(sim.run(c -> c.ensureStream(B, S, EMPTY)));
    assertEquals(ProvisionResult.CREATED, created.result());
    assertEquals(StreamCipher.AEGIS_256, created.info().cipher());
    ok(sim.run(c -> c.reconfigureBasin(B, new BasinReconfiguration(Patch.keep(), Patch.clear(), null, null))));
    Provisioned<StreamInfo> updated = ok(sim.run(c -> c.ensureStream(B, S, EXPRESS)));
    assertEquals(ProvisionResult.UPDATED, updated.result());
    assertEquals(StreamCipher.AEGIS_256, updated.info().cipher());
    assertEquals(StorageClass.EXPRESS, get(S).storageClass());
  }

  @Test
  void invalidConfigsAreRefusedBeforeAnyLookup() {
    StreamConfigSpec bad = spec(null, RetentionPolicy.ageSeconds(0), null, null, null);
    assertEquals("age must be greater than 0 seconds", failed(ErrorCode.INVALID, tryCreate(S, bad, null)).message());
    failed(ErrorCode.INVALID, sim.run(c -> c.ensureStream(B, S, bad)));
    failed(ErrorCode.INVALID, sim.run(c -> c.reconfigureStream(B, S, StreamReconfiguration.NONE.withRetentionPolicy(Patch.set(RetentionPolicy.ageSeconds(0))))));
  }

  @Test
  void recreatedStreamGetsANewId() {
    basin(EMPTY, null);
    create(S, EMPTY, null);
    long firstId = ok(sim.run(c -> c.openStream(B, S, AutoCreate.NONE))).streamId();
    ok(sim.run(c -> c.deleteStream(B, S)));
    // what bgtask will do once the stream's data is gone: remove its metadata
    sim.run(c -> sim.env("fe-1").metadataStore().commit(Txn.builder().delete(MetaKey.stream(B.value(), S.value())).build()));
    assertEquals(ProvisionResult.CREATED, create(S, EMPTY, null).result());
    OpenedStream second = ok(sim.run(c -> c.openStream(B, S, AutoCreate.NONE)));
    assertNotEquals(firstId, second.streamId());
    assertTrue(second.streamId() > 0);
  }
}
