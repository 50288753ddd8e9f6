package io.s2j.api;

/**
 * A stream PATCH body (S2-API §4.3), also nested as a basin's {@code default_stream_config}
 * reconfiguration: each field, and each field of the nested objects, is a tri-state {@link Patch}.
 */
public record StreamReconfiguration(
    Patch<StorageClass> storageClass,
    Patch<RetentionPolicy> retentionPolicy,
    Patch<Timestamping> timestamping,
    Patch<DeleteOnEmpty> deleteOnEmpty) {

  /** {@code {}}: changes nothing. */
  public static final StreamReconfiguration NONE =
      new StreamReconfiguration(Patch.keep(), Patch.keep(), Patch.keep(), Patch.keep());

  public StreamReconfiguration {
    if (storageClass == null || retentionPolicy == null || timestamping == null || deleteOnEmpty == null) {
      throw new IllegalArgumentException("use Patch.keep() for an absent field");
    }
  }

  /** The nested {@code timestamping} reconfiguration. */
  public record Timestamping(Patch<TimestampingMode> mode, Patch<Boolean> uncapped) {
    public Timestamping {
      if (mode == null || uncapped == null) {
        throw new IllegalArgumentException("use Patch.keep() for an absent field");
      }
    }
  }

  /** The nested {@code delete_on_empty} reconfiguration. */
  public record DeleteOnEmpty(Patch<Long> minAgeSecs) {
    public DeleteOnEmpty {
      if (minAgeSecs == null) {
        throw new IllegalArgumentException("use Patch.keep() for an absent field");
      }
    }
  }

  /** S2's message for why this patch is invalid ({@code 422 invalid}), or null. */
  public String problem() {
    return retentionPolicy instanceof Patch.Set<RetentionPolicy> s ? RetentionPolicy.problem(s.value()) : null;
  }

  public StreamReconfiguration withStorageClass(Patch<StorageClass> p) {
    return new StreamReconfiguration(p, retentionPolicy, timestamping, deleteOnEmpty);
  }

  public StreamReconfiguration withRetentionPolicy(Patch<RetentionPolicy> p) {
    return new StreamReconfiguration(storageClass, p, timestamping, deleteOnEmpty);
  }

  public StreamReconfiguration withTimestamping(Patch<Timestamping> p) {
    return new StreamReconfiguration(storageClass, retentionPolicy, p, deleteOnEmpty);
  }

  public StreamReconfiguration withDeleteOnEmpty(Patch<DeleteOnEmpty> p) {
    return new StreamReconfiguration(storageClass, retentionPolicy, timestamping, p);
  }
}
