package io.s2j.api;

/**
 * A stream's config with every field concrete (S2-API §4.2): what a stream stores, what its
 * single writer obeys and what {@code GET /v1/streams/{stream}} returns.
 */
public record ResolvedStreamConfig(
    StorageClass storageClass,
    RetentionPolicy retentionPolicy,
    TimestampingMode timestampingMode,
    boolean timestampingUncapped,
    long deleteOnEmptyMinAgeSecs) {

  /** 7 days. */
  public static final long RETENTION_AGE_SECONDS_DEFAULT = 604_800;

  /** lite's system defaults: express, 7-day retention, client-prefer, capped, delete-on-empty off. */
  public static final ResolvedStreamConfig SYSTEM_DEFAULTS = new ResolvedStreamConfig(
      StorageClass.EXPRESS,
      RetentionPolicy.ageSeconds(RETENTION_AGE_SECONDS_DEFAULT),
      TimestampingMode.CLIENT_PREFER,
      false,
      0);

  public ResolvedStreamConfig {
    if (storageClass == null || retentionPolicy == null || timestampingMode == null) {
      throw new IllegalArgumentException("a resolved config has every field");
    }
    String problem = RetentionPolicy.problem(retentionPolicy);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /** This config at the optional layer, every field set (step one of a reconfiguration). */
  public StreamConfigSpec toSpec() {
    return new StreamConfigSpec(storageClass, retentionPolicy, timestampingMode, timestampingUncapped, deleteOnEmptyMinAgeSecs);
  }

  /**
   * Reconfigures a stream as lite does (S2-API §4.2): every field set, the PATCH applied, then
   * resolved against the basin's <em>current</em> defaults, so a cleared field takes the basin
   * default of the moment. Invalid patches (retention age 0) are refused.
   */
  public Checked<ResolvedStreamConfig> reconfigure(StreamReconfiguration patch, StreamConfigSpec basinDefaults) {
    String problem = patch.problem();
    if (problem != null) {
      return Checked.invalid(problem);
    }
    return Checked.ok(toSpec().apply(patch).resolve(basinDefaults));
  }
}
