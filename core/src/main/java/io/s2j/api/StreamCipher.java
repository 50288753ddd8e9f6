package io.s2j.api;

/** The cipher a basin assigns to streams created after it is set; fixed per stream (S2-API §15). */
public enum StreamCipher {
  AEGIS_256("aegis-256"),
  /** Random 96-bit nonces: encrypted records may not get a sequence number above 2^32 - 1. */
  AES_256_GCM("aes-256-gcm");

  /** The largest sequence number an encrypted record may get on an {@link #AES_256_GCM} stream. */
  public static final long AES_256_GCM_SEQ_NUM_MAX = 0xFFFF_FFFFL;

  private final String wireName;

  StreamCipher(String wireName) {
    this.wireName = wireName;
  }

  /** The JSON spelling. */
  public String wireName() {
    return wireName;
  }

  /** The value of a JSON spelling, or null if there is none. */
  public static StreamCipher fromWireName(String s) {
    for (StreamCipher c : values()) {
      if (c.wireName.equals(s)) {
        return c;
      }
    }
    return null;
  }
}
