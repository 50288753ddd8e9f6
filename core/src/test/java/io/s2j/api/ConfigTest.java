package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.api.StreamReconfiguration.DeleteOnEmpty;
import io.s2j.api.StreamReconfiguration.Timestamping;
import org.junit.jupiter.api.Test;

class ConfigTest {
  private static final StreamConfigSpec EMPTY = StreamConfigSpec.EMPTY;

  private static StreamConfigSpec storage(StorageClass c) {
    return new StreamConfigSpec(c, null, null, null, null);
  }

  private static BasinConfig basin(StreamConfigSpec defaults) {
    return new BasinConfig(defaults, null, false, false);
  }

  @Test
  void systemDefaults() {
    ResolvedStreamConfig r = EMPTY.resolve(EMPTY);
    assertEquals(new ResolvedStreamConfig(StorageClass.EXPRESS, new RetentionPolicy.Age(604_800),
        TimestampingMode.CLIENT_PREFER, false, 0), r);
  }

  @Test
  void case28_streamInheritsBasinDefaults() {
    StreamConfigSpec defaults = new StreamConfigSpec(StorageClass.STANDARD, RetentionPolicy.INFINITE,
        TimestampingMode.CLIENT_REQUIRE, null, null);
    ResolvedStreamConfig r = EMPTY.resolve(defaults);
    assertEquals(StorageClass.STANDARD, r.storageClass());
    assertEquals(RetentionPolicy.INFINITE, r.retentionPolicy());
    assertEquals(TimestampingMode.CLIENT_REQUIRE, r.timestampingMode());
    assertEquals(false, r.timestampingUncapped()); // the sub-field unset at both layers → system default
  }

  @Test
  void case1to4_basinCreateReplayNeedsSameTokenAndConfig() {
    BasinConfig c = new BasinConfig(EMPTY, null, true, false);
    CreationKey stored = CreationKey.ofBasin("token-1", c);
    assertTrue(Provisioning.isCreateReplay(stored, CreationKey.ofBasin("token-1", c)));
    assertEquals(false, Provisioning.isCreateReplay(stored, CreationKey.ofBasin("token-2", c)));
    assertEquals(false, Provisioning.isCreateReplay(stored, CreationKey.ofBasin("token-1", BasinConfig.DEFAULT)));
  }

  @Test
  void case7_createWithoutTokenIsNeverAReplay() {
    assertEquals(null, CreationKey.ofBasin(null, BasinConfig.DEFAULT));
    assertEquals(false, Provisioning.isCreateReplay(null, null));
    assertEquals(false, Provisioning.isCreateReplay(CreationKey.ofBasin("t", BasinConfig.DEFAULT), null));
  }

  @Test
  void case8_basinEnsureResetsUnspecifiedFields() {
    BasinConfig current = new BasinConfig(
        new StreamConfigSpec(StorageClass.STANDARD, RetentionPolicy.INFINITE, null, null, null), null, true, false);
    BasinConfig requested = new BasinConfig(EMPTY, null, false, true);
    Provisioning.Ensured<BasinConfig> e = Provisioning.ensureBasin(current, requested);
    assertEquals(ProvisionResult.UPDATED, e.result());
    assertEquals(requested, e.config());
    assertTrue(e.config().defaultStreamConfig().isEmpty());
  }

  @Test
  void case9_explicitZeroMinAgeIsKeptAndEnsureIsNoop() {
    BasinConfig c = basin(new StreamConfigSpec(null, null, null, null, 0L));
    assertNotEquals(BasinConfig.DEFAULT, c);
    assertEquals(ProvisionResult.NOOP, Provisioning.ensureBasin(c, basin(new StreamConfigSpec(null, null, null, null, 0L))).result());
    assertEquals(0L, ConfigProtos.fromProto(ConfigProtos.toProto(c)).defaultStreamConfig().deleteOnEmptyMinAgeSecs());
    assertEquals(ProvisionResult.CREATED, Provisioning.ensureBasin(null, c).result());
  }

  @Test
  void case10_basinReconfigure() {
    BasinConfig current = basin(storage(StorageClass.STANDARD));
    StreamReconfiguration defaults = StreamReconfiguration.NONE
        .withStorageClass(Patch.set(StorageClass.EXPRESS))
        .withRetentionPolicy(Patch.set(RetentionPolicy.INFINITE))
        .withTimestamping(Patch.set(new Timestamping(Patch.set(TimestampingMode.ARRIVAL), Patch.keep())));
    BasinConfig next = current.reconfigure(new BasinReconfiguration(Patch.set(defaults), Patch.keep(), true, true)).orThrow();
    assertEquals(new BasinConfig(new StreamConfigSpec(StorageClass.EXPRESS, RetentionPolicy.INFINITE,
        TimestampingMode.ARRIVAL, null, null), null, true, true), next);
    // {} changes nothing; null default_stream_config clears all defaults; cipher tri-state
    assertEquals(next, next.reconfigure(BasinReconfiguration.NONE).orThrow());
    BasinConfig cleared = next.reconfigure(new BasinReconfiguration(Patch.clear(), Patch.set(StreamCipher.AEGIS_256), null, false)).orThrow();
    assertEquals(new BasinConfig(EMPTY, StreamCipher.AEGIS_256, true, false), cleared);
    assertEquals(null, cleared.reconfigure(new BasinReconfiguration(Patch.keep(), Patch.clear(), null, null)).orThrow().streamCipher());
  }

  @Test
  void case37_streamEnsureResetsToSystemDefaultsNotPreviousValues() {
    ResolvedStreamConfig created = storage(StorageClass.STANDARD).resolve(EMPTY);
    StreamConfigSpec put = new StreamConfigSpec(null, null, TimestampingMode.ARRIVAL, null, null);
    Provisioning.Ensured<ResolvedStreamConfig> e = Provisioning.ensureStream(created, put, EMPTY);
    assertEquals(ProvisionResult.UPDATED, e.result());
    assertEquals(StorageClass.EXPRESS, e.config().storageClass());
    assertEquals(TimestampingMode.ARRIVAL, e.config().timestampingMode());
  }

  @Test
  void case38_ensureKeepsTheCreationKey() {
    // the key is computed from the create request only; an ensure never recomputes it
    StreamConfigSpec original = storage(StorageClass.STANDARD);
    CreationKey stored = CreationKey.ofStream("T", original);
    assertTrue(Provisioning.isCreateReplay(stored, CreationKey.ofStream("T", original)));
  }

  @Test
  void case33to36_streamCreateReplay() {
    StreamConfigSpec c = storage(StorageClass.EXPRESS);
    CreationKey stored = CreationKey.ofStream("stream-token-1", c);
    assertEquals(StorageClass.EXPRESS, c.resolve(EMPTY).storageClass());
    assertTrue(Provisioning.isCreateReplay(stored, CreationKey.ofStream("stream-token-1", c)));
    assertEquals(false, Provisioning.isCreateReplay(stored, CreationKey.ofStream("stream-token-2", c)));
    StreamConfigSpec plusArrival = new StreamConfigSpec(StorageClass.EXPRESS, null, TimestampingMode.ARRIVAL, null, null);
    assertEquals(false, Provisioning.isCreateReplay(stored, CreationKey.ofStream("stream-token-1", plusArrival)));
  }

  @Test
  void case39_ensureComparesResolvedConfigs() {
    StreamConfigSpec defaults = new StreamConfigSpec(StorageClass.EXPRESS, new RetentionPolicy.Age(864_000), null, null, null);
    StreamConfigSpec sent = new StreamConfigSpec(StorageClass.STANDARD, RetentionPolicy.INFINITE, null, null, null);
    ResolvedStreamConfig created = Provisioning.ensureStream(null, sent, defaults).config();
    assertEquals(ProvisionResult.NOOP, Provisioning.ensureStream(created, sent, defaults).result());
  }

  @Test
  void case40and41_explicitZeroOverridesBasinDefault() {
    StreamConfigSpec defaults = new StreamConfigSpec(null, null, null, null, 60L);
    StreamConfigSpec sent = new StreamConfigSpec(null, null, null, null, 0L);
    ResolvedStreamConfig created = sent.resolve(defaults);
    assertEquals(0, created.deleteOnEmptyMinAgeSecs());
    assertEquals(60, EMPTY.resolve(defaults).deleteOnEmptyMinAgeSecs());
    assertEquals(ProvisionResult.NOOP, Provisioning.ensureStream(created, sent, defaults).result());
  }

  @Test
  void case42_creationKeyHashesTheRawConfigNotTheResolvedOne() {
    CreationKey stored = CreationKey.ofStream("T", EMPTY);
    // the basin defaults change afterwards; the retry sends the same empty config
    assertTrue(Provisioning.isCreateReplay(stored, CreationKey.ofStream("T", EMPTY)));
    assertNotEquals(stored, CreationKey.ofStream("T", storage(StorageClass.STANDARD)));
    // token/config boundaries cannot be confused
    assertNotEquals(CreationKey.ofStream("", EMPTY), CreationKey.ofStream("x", EMPTY));
    assertEquals(stored, CreationKey.fromBytes(stored.toBytes()));
  }

  @Test
  void case43and44_reconfigureSetsValues() {
    StreamConfigSpec defaults = storage(StorageClass.STANDARD);
    ResolvedStreamConfig created = new StreamConfigSpec(null, new RetentionPolicy.Age(60),
        TimestampingMode.CLIENT_REQUIRE, null, null).resolve(defaults);
    StreamReconfiguration patch = StreamReconfiguration.NONE
        .withStorageClass(Patch.set(StorageClass.EXPRESS))
        .withRetentionPolicy(Patch.set(RetentionPolicy.INFINITE))
        .withTimestamping(Patch.set(new Timestamping(Patch.set(TimestampingMode.ARRIVAL), Patch.set(true))));
    ResolvedStreamConfig next = created.reconfigure(patch, defaults).orThrow();
    assertEquals(new ResolvedStreamConfig(StorageClass.EXPRESS, RetentionPolicy.INFINITE, TimestampingMode.ARRIVAL, true, 0), next);
  }

  @Test
  void case45and46_clearingFallsBackToTheBasinDefaults() {
    StreamConfigSpec defaults = new StreamConfigSpec(StorageClass.STANDARD, RetentionPolicy.INFINITE,
        TimestampingMode.ARRIVAL, true, 300L);
    ResolvedStreamConfig created = new StreamConfigSpec(StorageClass.EXPRESS, new RetentionPolicy.Age(60),
        TimestampingMode.CLIENT_REQUIRE, false, 0L).resolve(defaults);
    StreamReconfiguration patch = new StreamReconfiguration(Patch.clear(), Patch.clear(),
        Patch.set(new Timestamping(Patch.clear(), Patch.clear())),
        Patch.set(new DeleteOnEmpty(Patch.clear())));
    ResolvedStreamConfig next = created.reconfigure(patch, defaults).orThrow();
    assertEquals(new ResolvedStreamConfig(StorageClass.STANDARD, RetentionPolicy.INFINITE, TimestampingMode.ARRIVAL, true, 300), next);
    // clearing the nested objects themselves does the same
    StreamReconfiguration whole = new StreamReconfiguration(Patch.clear(), Patch.clear(), Patch.clear(), Patch.clear());
    assertEquals(next, created.reconfigure(whole, defaults).orThrow());
    // and with no basin defaults it falls back to the system defaults
    assertEquals(ResolvedStreamConfig.SYSTEM_DEFAULTS, created.reconfigure(whole, EMPTY).orThrow());
  }

  @Test
  void reconfigureKeepsAbsentSubFields() {
    ResolvedStreamConfig created = new StreamConfigSpec(null, null, TimestampingMode.ARRIVAL, true, 5L).resolve(EMPTY);
    StreamReconfiguration patch = StreamReconfiguration.NONE
        .withTimestamping(Patch.set(new Timestamping(Patch.keep(), Patch.set(false))))
        .withDeleteOnEmpty(Patch.set(new DeleteOnEmpty(Patch.keep())));
    ResolvedStreamConfig next = created.reconfigure(patch, storage(StorageClass.STANDARD)).orThrow();
    assertEquals(TimestampingMode.ARRIVAL, next.timestampingMode());
    assertEquals(false, next.timestampingUncapped());
    assertEquals(5, next.deleteOnEmptyMinAgeSecs());
    assertEquals(StorageClass.EXPRESS, next.storageClass()); // kept: was set at resolution time
  }

  @Test
  void retentionAgeZeroIsInvalid() {
    String msg = "age must be greater than 0 seconds";
    StreamConfigSpec bad = new StreamConfigSpec(null, new RetentionPolicy.Age(0), null, null, null);
    assertEquals(msg, assertInstanceOf(Checked.Invalid.class, bad.validate()).message());
    assertEquals(msg, assertInstanceOf(Checked.Invalid.class, basin(bad).validate()).message());
    StreamReconfiguration patch = StreamReconfiguration.NONE.withRetentionPolicy(Patch.set(new RetentionPolicy.Age(0)));
    assertEquals(msg, assertInstanceOf(Checked.Invalid.class,
        ResolvedStreamConfig.SYSTEM_DEFAULTS.reconfigure(patch, EMPTY)).message());
    assertEquals(msg, assertInstanceOf(Checked.Invalid.class,
        BasinConfig.DEFAULT.reconfigure(new BasinReconfiguration(Patch.set(patch), Patch.keep(), null, null))).message());
    assertInstanceOf(Checked.Ok.class, new StreamConfigSpec(null, new RetentionPolicy.Age(1), null, null, null).validate());
  }
}
