package io.s2j.api;

/**
 * A basin's config (S2-API §4.4): defaults for streams created in it (optional layer, never null:
 * {@link StreamConfigSpec#EMPTY} when nothing is set), the cipher for new streams (null = none) and
 * the auto-create flags.
 */
public record BasinConfig(
    StreamConfigSpec defaultStreamConfig,
    StreamCipher streamCipher,
    boolean createStreamOnAppend,
    boolean createStreamOnRead) {

  /** All defaults: what an ensure without a config makes. */
  public static final BasinConfig DEFAULT = new BasinConfig(StreamConfigSpec.EMPTY, null, false, false);

  public BasinConfig {
    if (defaultStreamConfig == null) {
      throw new IllegalArgumentException("use StreamConfigSpec.EMPTY for no defaults");
    }
  }

  /** Validates as S2 does on create and ensure ({@code 422 invalid}). */
  public Checked<BasinConfig> validate() {
    String problem = defaultStreamConfig.problem();
    return problem == null ? Checked.ok(this) : Checked.invalid(problem);
  }

  /**
   * Applies a basin PATCH (S2-API §4.4): the defaults are reconfigured recursively (null clears
   * them all), the cipher is tri-state, the flags are kept when absent. Existing streams are not
   * touched by this.
   */
  public Checked<BasinConfig> reconfigure(BasinReconfiguration patch) {
    String problem = patch.problem();
    if (problem != null) {
      return Checked.invalid(problem);
    }
    StreamConfigSpec defaults = switch (patch.defaultStreamConfig()) {
      case Patch.Keep<StreamReconfiguration> k -> defaultStreamConfig;
      case Patch.Clear<StreamReconfiguration> c -> StreamConfigSpec.EMPTY;
      case Patch.Set<StreamReconfiguration> s -> defaultStreamConfig.apply(s.value());
    };
    return Checked.ok(new BasinConfig(
        defaults,
        patch.streamCipher().apply(streamCipher),
        patch.createStreamOnAppend() == null ? createStreamOnAppend : patch.createStreamOnAppend(),
        patch.createStreamOnRead() == null ? createStreamOnRead : patch.createStreamOnRead()));
  }
}
