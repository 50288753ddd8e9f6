package io.s2j.api;

/**
 * The "make it exactly this" rules of ensure (PUT, S2-API §4.5) and the replay rule of create
 * (POST with {@code s2-request-token}, §4.6), as pure decisions over configs that are already
 * validated. The caller still checks deletion state first ({@code 409 *_deletion_pending}).
 */
public final class Provisioning {
  private Provisioning() {}

  /** The config to store, and whether that creates, changes or leaves the resource. */
  public record Ensured<T>(ProvisionResult result, T config) {}

  /** Ensure basin: the stored config becomes exactly {@code requested}; {@code current} is null if the basin is missing. */
  public static Ensured<BasinConfig> ensureBasin(BasinConfig current, BasinConfig requested) {
    if (current == null) {
      return new Ensured<>(ProvisionResult.CREATED, requested);
    }
    return new Ensured<>(requested.equals(current) ? ProvisionResult.NOOP : ProvisionResult.UPDATED, requested);
  }

  /**
   * Ensure stream: the desired config is {@code requested} resolved against the basin's current
   * defaults, compared with the stored resolved config ({@code current}, null if the stream is
   * missing).
   */
  public static Ensured<ResolvedStreamConfig> ensureStream(
      ResolvedStreamConfig current, StreamConfigSpec requested, StreamConfigSpec basinDefaults) {
    ResolvedStreamConfig desired = requested.resolve(basinDefaults);
    if (current == null) {
      return new Ensured<>(ProvisionResult.CREATED, desired);
    }
    return new Ensured<>(desired.equals(current) ? ProvisionResult.NOOP : ProvisionResult.UPDATED, desired);
  }

  /**
   * Whether a create for an existing name is an idempotent replay ({@code noop}) rather than
   * {@code 409 resource_already_exists}: only with a token and a key equal to the stored one.
   * {@code storedKey} is null when the resource was created without a token.
   */
  public static boolean isCreateReplay(CreationKey storedKey, CreationKey requestKey) {
    return storedKey != null && requestKey != null && storedKey.equals(requestKey);
  }
}
