package io.s2j.api;

/**
 * A stream config at the optional layer (S2-API §4.2): what clients send on create/ensure and what
 * a basin stores as its defaults. Every field is independently unset (null) or set; an explicit
 * {@code deleteOnEmptyMinAgeSecs = 0} is set, and differs from unset. Nested JSON objects are
 * flattened: {@code timestamping} is unset exactly when both of its fields are.
 */
public record StreamConfigSpec(
    StorageClass storageClass,
    RetentionPolicy retentionPolicy,
    TimestampingMode timestampingMode,
    Boolean timestampingUncapped,
    Long deleteOnEmptyMinAgeSecs) {

  /** Nothing set. */
  public static final StreamConfigSpec EMPTY = new StreamConfigSpec(null, null, null, null, null);

  /** True if no field is set (lite then shows a basin's {@code default_stream_config} as null). */
  public boolean isEmpty() {
    return equals(EMPTY);
  }

  /** True if either timestamping field is set (lite then emits the {@code timestamping} object). */
  public boolean hasTimestamping() {
    return timestampingMode != null || timestampingUncapped != null;
  }

  /** S2's message for why this config is invalid ({@code 422 invalid}), or null. */
  public String problem() {
    return retentionPolicy == null ? null : RetentionPolicy.problem(retentionPolicy);
  }

  /** Validates this config as S2 does on create, ensure and basin defaults. */
  public Checked<StreamConfigSpec> validate() {
    String problem = problem();
    return problem == null ? Checked.ok(this) : Checked.invalid(problem);
  }

  /**
   * Resolves field by field: this layer's value, else the basin default's, else the system
   * default. Resolution happens once, at create/ensure/reconfigure time.
   */
  public ResolvedStreamConfig resolve(StreamConfigSpec basinDefaults) {
    ResolvedStreamConfig sys = ResolvedStreamConfig.SYSTEM_DEFAULTS;
    return new ResolvedStreamConfig(
        first(storageClass, basinDefaults.storageClass, sys.storageClass()),
        first(retentionPolicy, basinDefaults.retentionPolicy, sys.retentionPolicy()),
        first(timestampingMode, basinDefaults.timestampingMode, sys.timestampingMode()),
        first(timestampingUncapped, basinDefaults.timestampingUncapped, sys.timestampingUncapped()),
        first(deleteOnEmptyMinAgeSecs, basinDefaults.deleteOnEmptyMinAgeSecs, sys.deleteOnEmptyMinAgeSecs()));
  }

  /** Applies a PATCH body: absent keeps, null unsets, a value sets, recursing into nested objects. */
  public StreamConfigSpec apply(StreamReconfiguration patch) {
    TimestampingMode mode = timestampingMode;
    Boolean uncapped = timestampingUncapped;
    switch (patch.timestamping()) {
      case Patch.Keep<StreamReconfiguration.Timestamping> k -> {}
      case Patch.Clear<StreamReconfiguration.Timestamping> c -> {
        mode = null;
        uncapped = null;
      }
      case Patch.Set<StreamReconfiguration.Timestamping> s -> {
        mode = s.value().mode().apply(mode);
        uncapped = s.value().uncapped().apply(uncapped);
      }
    }
    Long minAgeSecs = switch (patch.deleteOnEmpty()) {
      case Patch.Keep<StreamReconfiguration.DeleteOnEmpty> k -> deleteOnEmptyMinAgeSecs;
      case Patch.Clear<StreamReconfiguration.DeleteOnEmpty> c -> null;
      case Patch.Set<StreamReconfiguration.DeleteOnEmpty> s -> s.value().minAgeSecs().apply(deleteOnEmptyMinAgeSecs);
    };
    return new StreamConfigSpec(
        patch.storageClass().apply(storageClass),
        patch.retentionPolicy().apply(retentionPolicy),
        mode,
        uncapped,
        minAgeSecs);
  }

  private static <T> T first(T a, T b, T c) {
    return a != null ? a : b != null ? b : c;
  }
}
