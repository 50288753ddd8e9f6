package io.s2j.api;

import com.dynatrace.hash4j.hashing.HashValue128;
import com.dynatrace.hash4j.hashing.Hashing;
import io.s2j.record.Limits;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A resource's creation idempotency key (S2-API §4.6): a hash of the request token and the config
 * <em>as sent</em>, so that changes to basin defaults or later ensures do not break a create retry.
 *
 * <p>Persisted format, version 1: the 16 bytes of {@link #toBytes()} = XXH3-128 (hash4j, seed 0)
 * of {@code u32 big-endian byte length of the token's UTF-8 || token UTF-8 || deterministic
 * protobuf encoding of the config} (a {@code StreamConfigProto} at the optional layer for streams,
 * a {@code BasinConfigProto} for basins), high 64 bits first.
 */
public record CreationKey(long high, long low) {
  /** The key of a stream create, or null without a request token. */
  public static CreationKey ofStream(String requestToken, StreamConfigSpec configAsSent) {
    return requestToken == null ? null : of(requestToken, ConfigProtos.canonicalBytes(ConfigProtos.toProto(configAsSent)));
  }

  /** The key of a basin create, or null without a request token. */
  public static CreationKey ofBasin(String requestToken, BasinConfig configAsSent) {
    return requestToken == null ? null : of(requestToken, ConfigProtos.canonicalBytes(ConfigProtos.toProto(configAsSent)));
  }

  private static CreationKey of(String requestToken, byte[] config) {
    byte[] token = requestToken.getBytes(StandardCharsets.UTF_8);
    if (token.length > Limits.REQUEST_TOKEN_BYTES_MAX) {
      throw new IllegalArgumentException("request token longer than " + Limits.REQUEST_TOKEN_BYTES_MAX + " bytes");
    }
    byte[] input = ByteBuffer.allocate(4 + token.length + config.length).putInt(token.length).put(token).put(config).array();
    HashValue128 h = Hashing.xxh3_128().hashBytesTo128Bits(input);
    return new CreationKey(h.getMostSignificantBits(), h.getLeastSignificantBits());
  }

  public byte[] toBytes() {
    return ByteBuffer.allocate(16).putLong(high).putLong(low).array();
  }

  public static CreationKey fromBytes(byte[] bytes) {
    if (bytes.length != 16) {
      throw new IllegalArgumentException("a creation key is 16 bytes, got " + bytes.length);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    return new CreationKey(b.getLong(), b.getLong());
  }
}
