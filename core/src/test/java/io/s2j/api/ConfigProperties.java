package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.s2j.api.proto.BasinConfigProto;
import io.s2j.api.proto.StreamConfigProto;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class ConfigProperties {
  @Provide
  Arbitrary<StreamConfigSpec> specs() {
    Arbitrary<RetentionPolicy> retention = Arbitraries.oneOf(
        Arbitraries.longs().filter(l -> l != 0).map(RetentionPolicy.Age::new),
        Arbitraries.just(RetentionPolicy.INFINITE));
    return Combinators.combine(
        Arbitraries.of(StorageClass.class).injectNull(0.3),
        retention.injectNull(0.3),
        Arbitraries.of(TimestampingMode.class).injectNull(0.3),
        Arbitraries.of(true, false).injectNull(0.3),
        Arbitraries.longs().injectNull(0.3))
        .as(StreamConfigSpec::new);
  }

  @Provide
  Arbitrary<BasinConfig> basins() {
    return Combinators.combine(specs(), Arbitraries.of(StreamCipher.class).injectNull(0.5),
        Arbitraries.of(true, false), Arbitraries.of(true, false)).as(BasinConfig::new);
  }

  @Provide
  Arbitrary<StreamReconfiguration> patches() {
    return Combinators.combine(specs(), specs(), Arbitraries.integers().between(0, 31))
        .as((set, clear, mask) -> new StreamReconfiguration(
            patch(set.storageClass(), mask & 1),
            patch(set.retentionPolicy(), mask & 2),
            (mask & 4) != 0 ? Patch.clear() : Patch.set(new StreamReconfiguration.Timestamping(
                patch(set.timestampingMode(), mask & 8), patch(clear.timestampingUncapped(), mask & 16))),
            clear.deleteOnEmptyMinAgeSecs() == null ? Patch.keep()
                : Patch.set(new StreamReconfiguration.DeleteOnEmpty(patch(set.deleteOnEmptyMinAgeSecs(), mask & 1)))));
  }

  /** Null → keep; otherwise set, or clear when {@code clearBit} is set. */
  private static <T> Patch<T> patch(T value, int clearBit) {
    return clearBit != 0 ? Patch.clear() : value == null ? Patch.keep() : Patch.set(value);
  }

  @Property
  void specRoundTripsThroughProto(@ForAll("specs") StreamConfigSpec spec) throws Exception {
    StreamConfigProto p = ConfigProtos.toProto(spec);
    assertEquals(spec, ConfigProtos.fromProto(StreamConfigProto.parseFrom(ConfigProtos.canonicalBytes(p))));
  }

  @Property
  void resolvedRoundTripsThroughProto(@ForAll("specs") StreamConfigSpec spec, @ForAll("specs") StreamConfigSpec defaults) {
    ResolvedStreamConfig r = spec.resolve(defaults);
    assertEquals(r, ConfigProtos.resolvedFromProto(ConfigProtos.toProto(r)));
  }

  @Property
  void basinRoundTripsThroughProto(@ForAll("basins") BasinConfig c) throws Exception {
    BasinConfigProto p = ConfigProtos.toProto(c);
    assertEquals(c, ConfigProtos.fromProto(BasinConfigProto.parseFrom(ConfigProtos.canonicalBytes(p))));
  }

  @Property
  void resolutionIsIdempotent(@ForAll("specs") StreamConfigSpec spec, @ForAll("specs") StreamConfigSpec defaults,
      @ForAll("specs") StreamConfigSpec otherDefaults) {
    ResolvedStreamConfig r = spec.resolve(defaults);
    assertEquals(r, r.toSpec().resolve(otherDefaults));
  }

  @Property
  void emptyPatchChangesNothing(@ForAll("specs") StreamConfigSpec spec, @ForAll("specs") StreamConfigSpec defaults) {
    ResolvedStreamConfig r = spec.resolve(defaults);
    assertEquals(r, r.reconfigure(StreamReconfiguration.NONE, defaults).orThrow());
    assertEquals(spec, spec.apply(StreamReconfiguration.NONE));
  }

  @Property
  void patchesTouchOnlyTheirFields(@ForAll("specs") StreamConfigSpec spec, @ForAll("patches") StreamReconfiguration patch) {
    StreamConfigSpec next = spec.apply(patch);
    assertEquals(patch.storageClass().apply(spec.storageClass()), next.storageClass());
    assertEquals(patch.retentionPolicy().apply(spec.retentionPolicy()), next.retentionPolicy());
    if (patch.timestamping() instanceof Patch.Keep<?>) {
      assertEquals(spec.timestampingMode(), next.timestampingMode());
      assertEquals(spec.timestampingUncapped(), next.timestampingUncapped());
    }
    if (patch.deleteOnEmpty() instanceof Patch.Keep<?>) {
      assertEquals(spec.deleteOnEmptyMinAgeSecs(), next.deleteOnEmptyMinAgeSecs());
    }
  }

  @Property
  void creationKeysAreDeterministic(@ForAll("specs") StreamConfigSpec spec, @ForAll("basins") BasinConfig basin) {
    assertEquals(CreationKey.ofStream("tok", spec), CreationKey.ofStream("tok", ConfigProtos.fromProto(ConfigProtos.toProto(spec))));
    assertArrayEquals(ConfigProtos.canonicalBytes(ConfigProtos.toProto(basin)), ConfigProtos.canonicalBytes(ConfigProtos.toProto(basin)));
    assertEquals(CreationKey.ofBasin("tok", basin), CreationKey.ofBasin("tok", basin));
  }
}
