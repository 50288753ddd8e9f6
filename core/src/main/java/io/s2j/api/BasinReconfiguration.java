package io.s2j.api;

/**
 * A basin PATCH body (S2-API §4.4). The two flags are absent (null = keep) or set: lite refuses
 * JSON {@code null} for them with {@code 400 bad_json}, which the JSON layer enforces.
 */
public record BasinReconfiguration(
    Patch<StreamReconfiguration> defaultStreamConfig,
    Patch<StreamCipher> streamCipher,
    Boolean createStreamOnAppend,
    Boolean createStreamOnRead) {

  /** {@code {}}: changes nothing. */
  public static final BasinReconfiguration NONE = new BasinReconfiguration(Patch.keep(), Patch.keep(), null, null);

  public BasinReconfiguration {
    if (defaultStreamConfig == null || streamCipher == null) {
      throw new IllegalArgumentException("use Patch.keep() for an absent field");
    }
  }

  /** S2's message for why this patch is invalid ({@code 422 invalid}), or null. */
  public String problem() {
    return defaultStreamConfig instanceof Patch.Set<StreamReconfiguration> s ? s.value().problem() : null;
  }
}
