package io.s2j.metadata;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The keys of s2j's metadata, one kind per persisted record, each starting with a one-byte type id
 * that is persisted and never reused.
 *
 * <table>
 *   <caption>Key layouts (u64 big-endian, so unsigned byte order is numeric order)</caption>
 *   <tr><th>id</th><th>kind</th><th>key</th><th>value</th></tr>
 *   <tr><td>0x01</td><td>basin</td><td>01 · basin name</td><td>BasinMeta</td></tr>
 *   <tr><td>0x02</td><td>stream</td><td>02 · basin name · 00 · stream name</td><td>StreamMeta</td></tr>
 *   <tr><td>0x03</td><td>streamlet</td><td>03 · stream id u64 · index u64</td><td>StreamletMeta</td></tr>
 *   <tr><td>0x04</td><td>segment</td><td>04 · streamlet id u64 · end seq num u64 (exclusive)</td><td>SegmentMeta</td></tr>
 *   <tr><td>0x05</td><td>channel</td><td>05 · channel id</td><td>ChannelMeta</td></tr>
 *   <tr><td>0x06</td><td>trim point</td><td>06 · stream id u64</td><td>TrimMeta</td></tr>
 *   <tr><td>0x07</td><td>segment head</td><td>07 · streamlet id u64</td><td>SegmentHeadMeta</td></tr>
 *   <tr><td>0x08</td><td>access token</td><td>08 · token id</td><td>AccessTokenMeta</td></tr>
 * </table>
 *
 * <p>Basin names cannot contain a 0x00 byte ([a-z0-9-]), so in a stream key the first 0x00 ends
 * the basin name and the stream name (any UTF-8, 0x00 included) follows; streams of a basin are
 * therefore contiguous and ordered by name, which is what listing with a prefix needs.
 */
public final class MetaKey {
  private MetaKey() {}

  /** Key type ids: persisted, never reused. */
  public enum Type {
    BASIN(0x01),
    STREAM(0x02),
    STREAMLET(0x03),
    SEGMENT(0x04),
    CHANNEL(0x05),
    TRIM(0x06),
    SEGMENT_HEAD(0x07),
    ACCESS_TOKEN(0x08),
    COP(0x09);

    public final int id;

    Type(int id) {
      this.id = id;
    }

    public static Type of(int id) {
      for (Type t : values()) {
        if (t.id == id) {
          return t;
        }
      }
      throw new IllegalArgumentException("unknown metadata key type " + id);
    }
  }

  private static final byte SEPARATOR = 0x00;

  private static ByteString prefix(Type type) {
    return ByteString.copyFrom(new byte[] {(byte) type.id});
  }

  private static ByteString utf8(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  private static ByteString u64(long v) {
    return ByteString.copyFrom(ByteBuffer.allocate(8).putLong(v).flip());
  }

  private static void checkBasin(String basin) {
    if (basin.isEmpty() || basin.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("basin name cannot be empty or hold NUL: " + basin);
    }
  }

  public static ByteString basin(String basin) {
    checkBasin(basin);
    return prefix(Type.BASIN).concat(utf8(basin));
  }

  /** All basin keys whose names start with {@code namePrefix}. */
  public static ByteString basinsPrefix(String namePrefix) {
    return prefix(Type.BASIN).concat(utf8(namePrefix));
  }

  public static ByteString stream(String basin, String stream) {
    return streamsPrefix(basin, stream);
  }

  /** All stream keys of {@code basin} whose names start with {@code namePrefix}. */
  public static ByteString streamsPrefix(String basin, String namePrefix) {
    checkBasin(basin);
    return prefix(Type.STREAM).concat(utf8(basin)).concat(ByteString.copyFrom(new byte[] {SEPARATOR})).concat(utf8(namePrefix));
  }

  public static ByteString streamlet(long streamId, long index) {
    return streamletsPrefix(streamId).concat(u64(index));
  }

  /** The whole streamlet chain of a stream, in order. */
  public static ByteString streamletsPrefix(long streamId) {
    return prefix(Type.STREAMLET).concat(u64(streamId));
  }

  /**
   * A segment, keyed by its exclusive end so that the segment holding seq num {@code s} is the
   * first key at or after {@code segment(streamlet, s + 1)}: one forward scan with limit 1.
   */
  public static ByteString segment(long streamletId, long endSeqNum) {
    return segmentsPrefix(streamletId).concat(u64(endSeqNum));
  }

  /** Every segment of a streamlet, in seq num order (segments never overlap). */
  public static ByteString segmentsPrefix(long streamletId) {
    return prefix(Type.SEGMENT).concat(u64(streamletId));
  }

  public static ByteString channel(String channelId) {
    if (channelId.isEmpty()) {
      throw new IllegalArgumentException("empty channel id");
    }
    return prefix(Type.CHANNEL).concat(utf8(channelId));
  }

  /** Every key of one type (e.g. all streams of all basins, all trim points, all channels). */
  public static ByteString typePrefix(Type type) {
    return prefix(type);
  }

  /** The cop's epoch (changed only by a take-over; every cop write is conditioned on it). */
  public static ByteString cop() {
    return prefix(Type.COP).concat(ByteString.copyFrom(new byte[] {0}));
  }

  /** The acting cop's lease (renewed periodically; a standby takes over when it stops moving). */
  public static ByteString copLease() {
    return prefix(Type.COP).concat(ByteString.copyFrom(new byte[] {1}));
  }

  /** Every streamlet link of every stream (the cop scans it to know the assignment). */
  public static ByteString allStreamletsPrefix() {
    return prefix(Type.STREAMLET);
  }

  public static ByteString trim(long streamId) {
    return prefix(Type.TRIM).concat(u64(streamId));
  }

  public static ByteString segmentHead(long streamletId) {
    return prefix(Type.SEGMENT_HEAD).concat(u64(streamletId));
  }

  /** An access token by its id (1..96 bytes of UTF-8, any characters). */
  public static ByteString accessToken(String id) {
    if (id.isEmpty()) {
      throw new IllegalArgumentException("empty access token id");
    }
    return accessTokensPrefix(id);
  }

  /** Every access token key whose id starts with {@code idPrefix}, ordered by id bytes. */
  public static ByteString accessTokensPrefix(String idPrefix) {
    return prefix(Type.ACCESS_TOKEN).concat(utf8(idPrefix));
  }

  /** The token id of an access token key. */
  public static String accessTokenId(ByteString key) {
    if (typeOf(key) != Type.ACCESS_TOKEN) {
      throw new IllegalArgumentException("not an access token key");
    }
    return key.substring(1).toStringUtf8();
  }

  /** The type of a key. */
  public static Type typeOf(ByteString key) {
    return Type.of(key.byteAt(0) & 0xff);
  }

  /** The basin and stream names of a stream key. */
  public static String[] streamNames(ByteString key) {
    if (typeOf(key) != Type.STREAM) {
      throw new IllegalArgumentException("not a stream key");
    }
    int sep = -1;
    for (int i = 1; i < key.size(); i++) {
      if (key.byteAt(i) == SEPARATOR) {
        sep = i;
        break;
      }
    }
    if (sep < 0) {
      throw new IllegalArgumentException("stream key without separator");
    }
    return new String[] {key.substring(1, sep).toStringUtf8(), key.substring(sep + 1).toStringUtf8()};
  }

  /** The basin name of a basin key. */
  public static String basinName(ByteString key) {
    if (typeOf(key) != Type.BASIN) {
      throw new IllegalArgumentException("not a basin key");
    }
    return key.substring(1).toStringUtf8();
  }

  /** The {@code i}-th u64 after the type byte of a numeric key (streamlet, segment, trim). */
  public static long u64At(ByteString key, int i) {
    return key.substring(1 + 8 * i, 9 + 8 * i).asReadOnlyByteBuffer().getLong();
  }
}
