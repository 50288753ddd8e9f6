package io.s2j.frontend;

import static io.s2j.frontend.SimCatalogs.failed;
import static io.s2j.frontend.SimCatalogs.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.BasinReconfiguration;
import io.s2j.api.ErrorCode;
import io.s2j.api.Patch;
import io.s2j.api.ProvisionResult;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamReconfiguration;
import io.s2j.api.TimestampingMode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Behaviour cases 1–27 (control plane, basins) against a Catalog on a simulated node. */
class CatalogBasinsTest {
  private static final BasinName B = new BasinName("test-basin-01");
  private static final BasinConfig ON_APPEND = new BasinConfig(StreamConfigSpec.EMPTY, null, true, false);
  private static final StreamConfigSpec STANDARD = new StreamConfigSpec(StorageClass.STANDARD, null, null, null, null);

  private final SimCatalogs sim = new SimCatalogs();

  private Provisioned<BasinInfo> create(BasinName basin, BasinConfig config, String token) {
    return ok(sim.run(c -> c.createBasin(basin, config, token)));
  }

  private Outcome<Provisioned<BasinInfo>> tryCreate(BasinConfig config, String token) {
    return sim.run(c -> c.createBasin(B, config, token));
  }

  private List<String> names(Page<BasinInfo> page) {
    return page.items().stream().map(b -> b.name().value()).toList();
  }

  private Page<BasinInfo> list(String prefix, String startAfter, int limit) {
    return ok(sim.run(c -> c.listBasins(prefix, startAfter, limit)));
  }

  private void createAll(String... names) {
    for (String n : names) {
      create(new BasinName(n), BasinConfig.DEFAULT, null);
    }
  }

  @Test
  void case01_createWithTokenIsCreated() {
    Provisioned<BasinInfo> p = create(B, ON_APPEND, "token-1");
    assertEquals(ProvisionResult.CREATED, p.result());
    assertEquals(B, p.info().name());
    assertNull(p.info().deletedAtMs());
    assertTrue(p.info().createdAtMs() <= sim.nowMs());
  }

  @Test
  void case02_replaySameTokenAndConfigIsNoop() {
    Provisioned<BasinInfo> first = create(B, ON_APPEND, "token-1");
    Provisioned<BasinInfo> replay = create(B, ON_APPEND, "token-1");
    assertEquals(ProvisionResult.NOOP, replay.result());
    assertNull(replay.info().deletedAtMs());
    assertEquals(first.info().createdAtMs(), replay.info().createdAtMs());
    assertTrue(replay.info().createdAtMs() <= sim.nowMs());
  }

  @Test
  void case03_createWithAnotherTokenConflicts() {
    create(B, ON_APPEND, "token-1");
    assertEquals("basin `test-basin-01` already exists",
        failed(ErrorCode.RESOURCE_ALREADY_EXISTS, tryCreate(ON_APPEND, "token-2")).message());
  }

  @Test
  void case04_sameTokenOtherConfigConflicts() {
    create(B, ON_APPEND, "token-1");
    failed(ErrorCode.RESOURCE_ALREADY_EXISTS, tryCreate(BasinConfig.DEFAULT, "token-1"));
  }

  @Test
  void case05_ensureKeepsTheCreationKey() {
    create(B, ON_APPEND, "token-1");
    assertEquals(ProvisionResult.NOOP, create(B, ON_APPEND, "token-1").result());
    BasinConfig more = new BasinConfig(StreamConfigSpec.EMPTY, null, true, true);
    assertEquals(ProvisionResult.UPDATED, ok(sim.run(c -> c.ensureBasin(B, more))).result());
    assertEquals(ProvisionResult.NOOP, create(B, ON_APPEND, "token-1").result());
    assertEquals(more, ok(sim.run(c -> c.getBasinConfig(B))));
  }

  @Test
  void case06_ensureChangesFlagsAndDefaults() {
    create(B, BasinConfig.DEFAULT, null);
    BasinConfig wanted = new BasinConfig(STANDARD, null, true, true);
    assertEquals(ProvisionResult.UPDATED, ok(sim.run(c -> c.ensureBasin(B, wanted))).result());
    BasinConfig got = ok(sim.run(c -> c.getBasinConfig(B)));
    assertTrue(got.createStreamOnAppend());
    assertTrue(got.createStreamOnRead());
    assertEquals(StorageClass.STANDARD, got.defaultStreamConfig().storageClass());
  }

  @Test
  void case07_createWithoutTokenIsNeverIdempotent() {
    BasinConfig wanted = new BasinConfig(STANDARD, null, true, true);
    create(B, BasinConfig.DEFAULT, null);
    ok(sim.run(c -> c.ensureBasin(B, wanted)));
    failed(ErrorCode.RESOURCE_ALREADY_EXISTS, tryCreate(wanted, null));
  }

  @Test
  void case08_ensureResetsUnspecifiedFields() {
    create(B, new BasinConfig(new StreamConfigSpec(StorageClass.STANDARD, RetentionPolicy.INFINITE, null, null, null), null, true, false), null);
    ok(sim.run(c -> c.ensureBasin(B, new BasinConfig(StreamConfigSpec.EMPTY, null, false, true))));
    BasinConfig got = ok(sim.run(c -> c.getBasinConfig(B)));
    assertFalse(got.createStreamOnAppend());
    assertTrue(got.createStreamOnRead());
    assertTrue(got.defaultStreamConfig().isEmpty());
  }

  @Test
  void case09_explicitZeroDeleteOnEmptyIsKept() {
    BasinConfig config = new BasinConfig(new StreamConfigSpec(null, null, null, null, 0L), null, false, false);
    create(B, config, null);
    Provisioned<BasinInfo> ensured = ok(sim.run(c -> c.ensureBasin(B, config)));
    assertEquals(ProvisionResult.NOOP, ensured.result());
    assertEquals(0L, ok(sim.run(c -> c.getBasinConfig(B))).defaultStreamConfig().deleteOnEmptyMinAgeSecs());
  }

  private BasinConfig reconfigureCase10() {
    create(B, new BasinConfig(STANDARD, null, false, false), null);
    BasinReconfiguration patch = new BasinReconfiguration(
        Patch.set(new StreamReconfiguration(
            Patch.set(StorageClass.EXPRESS),
            Patch.set(RetentionPolicy.INFINITE),
            Patch.set(new StreamReconfiguration.Timestamping(Patch.set(TimestampingMode.ARRIVAL), Patch.keep())),
            Patch.keep())),
        Patch.keep(),
        true,
        true);
    return ok(sim.run(c -> c.reconfigureBasin(B, patch)));
  }

  @Test
  void case10_reconfigureReturnsTheNewConfig() {
    BasinConfig got = reconfigureCase10();
    assertEquals(new BasinConfig(
        new StreamConfigSpec(StorageClass.EXPRESS, RetentionPolicy.INFINITE, TimestampingMode.ARRIVAL, null, null), null, true, true), got);
  }

  @Test
  void case11_reconfigureIsPersisted() {
    BasinConfig patched = reconfigureCase10();
    assertEquals(patched, ok(sim.run(c -> c.getBasinConfig(B))));
  }

  @Test
  void case12_deleteIsAccepted() {
    create(B, BasinConfig.DEFAULT, null);
    ok(sim.run(c -> c.deleteBasin(B)));
  }

  private void createAndDelete() {
    create(B, BasinConfig.DEFAULT, null);
    ok(sim.run(c -> c.deleteBasin(B)));
  }

  @Test
  void case13_deletingBasinIsStillListed() {
    createAndDelete();
    Page<BasinInfo> page = list("", "", 0);
    assertEquals(List.of("test-basin-01"), names(page));
    assertNotNull(page.items().get(0).deletedAtMs());
    assertTrue(page.items().get(0).deleting());
  }

  @Test
  void case14_reconfigureWhileDeletingConflicts() {
    createAndDelete();
    failed(ErrorCode.BASIN_DELETION_PENDING, sim.run(c -> c.reconfigureBasin(B, BasinReconfiguration.NONE)));
  }

  @Test
  void case15_createWhileDeletingConflicts() {
    createAndDelete();
    assertEquals("basin `test-basin-01` is being deleted",
        failed(ErrorCode.BASIN_DELETION_PENDING, tryCreate(BasinConfig.DEFAULT, null)).message());
  }

  @Test
  void case16_deleteAgainIsAccepted() {
    createAndDelete();
    long deletedAt = list("", "", 0).items().get(0).deletedAtMs();
    sim.world.simulator().runFor(5 * io.s2j.runtime.sim.Simulator.SECOND);
    ok(sim.run(c -> c.deleteBasin(B)));
    assertEquals(deletedAt, list("", "", 0).items().get(0).deletedAtMs(), "the first deletion time is kept");
  }

  @Test
  void case17_getMissingBasinIsNotFound() {
    assertEquals("basin `test-basin-01` not found", failed(ErrorCode.BASIN_NOT_FOUND, sim.run(c -> c.getBasinConfig(B))).message());
  }

  @Test
  void case18_deleteMissingBasinIsNotFound() {
    failed(ErrorCode.BASIN_NOT_FOUND, sim.run(c -> c.deleteBasin(B)));
  }

  @Test
  void case19_listNoBasins() {
    assertEquals(new Page<BasinInfo>(List.of(), false), list("", "", 0));
  }

  @Test
  void case20_listAllInOrder() {
    createAll("test-basin-list-3", "test-basin-list-0", "test-basin-list-4", "test-basin-list-1", "test-basin-list-2");
    Page<BasinInfo> page = list("", "", 0);
    assertEquals(List.of("test-basin-list-0", "test-basin-list-1", "test-basin-list-2", "test-basin-list-3", "test-basin-list-4"), names(page));
    assertFalse(page.hasMore());
  }

  private void createPaginated() {
    for (int i = 0; i < 15; i++) {
      createAll(String.format(java.util.Locale.ROOT, "test-basin-paginated-%02d", i));
    }
  }

  private static List<String> paginated(int from, int to) {
    return java.util.stream.IntStream.range(from, to).mapToObj(i -> String.format(java.util.Locale.ROOT, "test-basin-paginated-%02d", i)).toList();
  }

  @Test
  void case21_firstPageHasMore() {
    createPaginated();
    Page<BasinInfo> page = list("", "", 5);
    assertEquals(paginated(0, 5), names(page));
    assertTrue(page.hasMore());
  }

  @Test
  void case22_middlePageHasMore() {
    createPaginated();
    Page<BasinInfo> page = list("", "test-basin-paginated-04", 5);
    assertEquals(paginated(5, 10), names(page));
    assertTrue(page.hasMore());
  }

  @Test
  void case23_fullLastPageHasNoMore() {
    createPaginated();
    Page<BasinInfo> page = list("", "test-basin-paginated-09", 5);
    assertEquals(paginated(10, 15), names(page));
    assertFalse(page.hasMore());
  }

  @Test
  void case24_listByPrefix() {
    createAll("test-basin-prod-app-1", "test-basin-prod-app-2", "test-basin-dev-app-1", "test-basin-staging-app-1");
    Page<BasinInfo> page = list("test-basin-prod-", "", 0);
    assertEquals(List.of("test-basin-prod-app-1", "test-basin-prod-app-2"), names(page));
    assertFalse(page.hasMore());
  }

  private void createPrefixed() {
    for (int i = 0; i < 10; i++) {
      createAll(String.format(java.util.Locale.ROOT, "test-basin-prefixed-%02d", i));
    }
    createAll("test-basin-other-basin");
  }

  @Test
  void case25_prefixFirstPageHasMore() {
    createPrefixed();
    Page<BasinInfo> page = list("test-basin-prefixed-", "", 4);
    assertEquals(List.of("test-basin-prefixed-00", "test-basin-prefixed-01", "test-basin-prefixed-02", "test-basin-prefixed-03"), names(page));
    assertTrue(page.hasMore());
  }

  @Test
  void case26_prefixMiddlePageHasMore() {
    createPrefixed();
    Page<BasinInfo> page = list("test-basin-prefixed-", "test-basin-prefixed-03", 4);
    assertEquals(List.of("test-basin-prefixed-04", "test-basin-prefixed-05", "test-basin-prefixed-06", "test-basin-prefixed-07"), names(page));
    assertTrue(page.hasMore());
  }

  @Test
  void case27_prefixLastPageNeverShowsOtherBasins() {
    createPrefixed();
    Page<BasinInfo> page = list("test-basin-prefixed-", "test-basin-prefixed-07", 4);
    assertEquals(List.of("test-basin-prefixed-08", "test-basin-prefixed-09"), names(page));
    assertFalse(page.hasMore());
  }

  // ---------------------------------------------------------------- beyond the numbered cases

  @Test
  void ensureCreatesAMissingBasin() {
    Provisioned<BasinInfo> p = ok(sim.run(c -> c.ensureBasin(B, ON_APPEND)));
    assertEquals(ProvisionResult.CREATED, p.result());
    assertEquals(ON_APPEND, ok(sim.run(c -> c.getBasinConfig(B))));
    failed(ErrorCode.RESOURCE_ALREADY_EXISTS, tryCreate(ON_APPEND, "token-1")); // ensure stores no creation key
  }

  @Test
  void ensureWhileDeletingConflicts() {
    createAndDelete();
    failed(ErrorCode.BASIN_DELETION_PENDING, sim.run(c -> c.ensureBasin(B, BasinConfig.DEFAULT)));
  }

  @Test
  void getConfigWhileDeletingStillAnswers() {
    create(B, ON_APPEND, null);
    ok(sim.run(c -> c.deleteBasin(B)));
    assertEquals(ON_APPEND, ok(sim.run(c -> c.getBasinConfig(B))));
  }

  @Test
  void reconfigureMissingBasinIsNotFound() {
    failed(ErrorCode.BASIN_NOT_FOUND, sim.run(c -> c.reconfigureBasin(B, BasinReconfiguration.NONE)));
  }

  @Test
  void retentionAgeZeroIsInvalid() {
    BasinConfig bad = new BasinConfig(new StreamConfigSpec(null, RetentionPolicy.ageSeconds(0), null, null, null), null, false, false);
    failed(ErrorCode.INVALID, tryCreate(bad, null));
    failed(ErrorCode.INVALID, sim.run(c -> c.ensureBasin(B, bad)));
    failed(ErrorCode.BASIN_NOT_FOUND, sim.run(c -> c.getBasinConfig(B)));
  }

  @Test
  void startAfterBeforePrefixStartsAtThePrefix() {
    createAll("aaaa-basin-1", "bbbb-basin-1", "bbbb-basin-2");
    assertEquals(List.of("bbbb-basin-1", "bbbb-basin-2"), names(list("bbbb", "aaaa-basin-1", 0)));
    assertEquals(List.of("bbbb-basin-2"), names(list("bbbb", "bbbb-basin-1", 0)));
    assertEquals(List.of(), names(list("aaaa", "bbbb", 0)));
  }
}
