package io.s2j.api;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import io.s2j.api.proto.BasinConfigProto;
import io.s2j.api.proto.DeleteOnEmptyProto;
import io.s2j.api.proto.RetentionPolicyProto;
import io.s2j.api.proto.StorageClassProto;
import io.s2j.api.proto.StreamCipherProto;
import io.s2j.api.proto.StreamConfigProto;
import io.s2j.api.proto.TimestampingModeProto;
import io.s2j.api.proto.TimestampingProto;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Conversions between the config model and its persisted protobuf form (s2j/api/config.proto). An
 * unset field is an absent proto field; a stored proto that cannot be a valid config (unknown enum
 * value, resolved config missing a field) is corrupt data and throws {@link IllegalArgumentException}.
 */
public final class ConfigProtos {
  private ConfigProtos() {}

  public static StreamConfigProto toProto(StreamConfigSpec spec) {
    StreamConfigProto.Builder b = StreamConfigProto.newBuilder();
    if (spec.storageClass() != null) {
      b.setStorageClass(toProto(spec.storageClass()));
    }
    if (spec.retentionPolicy() != null) {
      b.setRetentionPolicy(toProto(spec.retentionPolicy()));
    }
    if (spec.hasTimestamping()) {
      TimestampingProto.Builder t = TimestampingProto.newBuilder();
      if (spec.timestampingMode() != null) {
        t.setMode(toProto(spec.timestampingMode()));
      }
      if (spec.timestampingUncapped() != null) {
        t.setUncapped(spec.timestampingUncapped());
      }
      b.setTimestamping(t);
    }
    if (spec.deleteOnEmptyMinAgeSecs() != null) {
      b.setDeleteOnEmpty(DeleteOnEmptyProto.newBuilder().setMinAgeSecs(spec.deleteOnEmptyMinAgeSecs()));
    }
    return b.build();
  }

  public static StreamConfigSpec fromProto(StreamConfigProto p) {
    TimestampingProto t = p.getTimestamping();
    return new StreamConfigSpec(
        p.hasStorageClass() ? fromProto(p.getStorageClass()) : null,
        p.hasRetentionPolicy() ? fromProto(p.getRetentionPolicy()) : null,
        p.hasTimestamping() && t.hasMode() ? fromProto(t.getMode()) : null,
        p.hasTimestamping() && t.hasUncapped() ? t.getUncapped() : null,
        p.hasDeleteOnEmpty() && p.getDeleteOnEmpty().hasMinAgeSecs() ? p.getDeleteOnEmpty().getMinAgeSecs() : null);
  }

  /** A resolved config, stored with every field present. */
  public static StreamConfigProto toProto(ResolvedStreamConfig config) {
    return toProto(config.toSpec());
  }

  public static ResolvedStreamConfig resolvedFromProto(StreamConfigProto p) {
    StreamConfigSpec spec = fromProto(p);
    if (spec.storageClass() == null || spec.retentionPolicy() == null || spec.timestampingMode() == null
        || spec.timestampingUncapped() == null || spec.deleteOnEmptyMinAgeSecs() == null) {
      throw new IllegalArgumentException("stored resolved stream config lacks a field: " + p);
    }
    return spec.resolve(StreamConfigSpec.EMPTY);
  }

  public static BasinConfigProto toProto(BasinConfig config) {
    BasinConfigProto.Builder b = BasinConfigProto.newBuilder()
        .setCreateStreamOnAppend(config.createStreamOnAppend())
        .setCreateStreamOnRead(config.createStreamOnRead());
    if (!config.defaultStreamConfig().isEmpty()) {
      b.setDefaultStreamConfig(toProto(config.defaultStreamConfig()));
    }
    if (config.streamCipher() != null) {
      b.setStreamCipher(toProto(config.streamCipher()));
    }
    return b.build();
  }

  public static BasinConfig fromProto(BasinConfigProto p) {
    return new BasinConfig(
        p.hasDefaultStreamConfig() ? fromProto(p.getDefaultStreamConfig()) : StreamConfigSpec.EMPTY,
        p.hasStreamCipher() ? fromProto(p.getStreamCipher()) : null,
        p.getCreateStreamOnAppend(),
        p.getCreateStreamOnRead());
  }

  /** The deterministic protobuf encoding of {@code message}: the canonical bytes hashed and stored. */
  public static byte[] canonicalBytes(MessageLite message) {
    byte[] out = new byte[message.getSerializedSize()];
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    cos.useDeterministicSerialization();
    try {
      message.writeTo(cos);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to an array of the exact size cannot fail
    }
    cos.checkNoSpaceLeft();
    return out;
  }

  static StorageClassProto toProto(StorageClass c) {
    return switch (c) {
      case STANDARD -> StorageClassProto.STORAGE_CLASS_STANDARD;
      case EXPRESS -> StorageClassProto.STORAGE_CLASS_EXPRESS;
    };
  }

  static StorageClass fromProto(StorageClassProto p) {
    return switch (p) {
      case STORAGE_CLASS_STANDARD -> StorageClass.STANDARD;
      case STORAGE_CLASS_EXPRESS -> StorageClass.EXPRESS;
      case STORAGE_CLASS_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("stored storage class " + p);
    };
  }

  static TimestampingModeProto toProto(TimestampingMode m) {
    return switch (m) {
      case CLIENT_PREFER -> TimestampingModeProto.TIMESTAMPING_MODE_CLIENT_PREFER;
      case CLIENT_REQUIRE -> TimestampingModeProto.TIMESTAMPING_MODE_CLIENT_REQUIRE;
      case ARRIVAL -> TimestampingModeProto.TIMESTAMPING_MODE_ARRIVAL;
    };
  }

  static TimestampingMode fromProto(TimestampingModeProto p) {
    return switch (p) {
      case TIMESTAMPING_MODE_CLIENT_PREFER -> TimestampingMode.CLIENT_PREFER;
      case TIMESTAMPING_MODE_CLIENT_REQUIRE -> TimestampingMode.CLIENT_REQUIRE;
      case TIMESTAMPING_MODE_ARRIVAL -> TimestampingMode.ARRIVAL;
      case TIMESTAMPING_MODE_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("stored timestamping mode " + p);
    };
  }

  public static StreamCipherProto toProto(StreamCipher c) {
    return switch (c) {
      case AEGIS_256 -> StreamCipherProto.STREAM_CIPHER_AEGIS_256;
      case AES_256_GCM -> StreamCipherProto.STREAM_CIPHER_AES_256_GCM;
    };
  }

  public static StreamCipher fromProto(StreamCipherProto p) {
    return switch (p) {
      case STREAM_CIPHER_AEGIS_256 -> StreamCipher.AEGIS_256;
      case STREAM_CIPHER_AES_256_GCM -> StreamCipher.AES_256_GCM;
      case STREAM_CIPHER_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("stored stream cipher " + p);
    };
  }

  static RetentionPolicyProto toProto(RetentionPolicy r) {
    return switch (r) {
      case RetentionPolicy.Age a -> RetentionPolicyProto.newBuilder().setAgeSeconds(a.ageSeconds()).build();
      case RetentionPolicy.Infinite i -> RetentionPolicyProto.newBuilder().setInfinite(true).build();
    };
  }

  static RetentionPolicy fromProto(RetentionPolicyProto p) {
    return switch (p.getPolicyCase()) {
      case AGE_SECONDS -> RetentionPolicy.ageSeconds(p.getAgeSeconds());
      case INFINITE -> RetentionPolicy.INFINITE;
      case POLICY_NOT_SET -> throw new IllegalArgumentException("stored retention policy is empty");
    };
  }
}
