package io.s2j.crypto;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * AEGIS-256 with a 128-bit tag, as specified by the CFRG draft "The AEGIS Family of Authenticated
 * Encryption Algorithms" (draft-irtf-cfrg-aegis-aead): a 32-byte key, a 32-byte nonce, associated
 * data, and a ciphertext as long as the message followed by a 16-byte tag.
 *
 * <p>Written here because no maintained AEGIS implementation is published on Maven Central (Bouncy
 * Castle 1.87 has none; the JDK has none). It is checked against the draft's and Wycheproof's test
 * vectors ({@code Aegis256Test}). The AES round is computed bytewise from an S-box derived at class
 * load (multiplicative inverse in GF(2^8) and the affine map), not from hardware instructions, so
 * it is neither fast nor hardened against cache-timing side channels.
 */
public final class Aegis256 {
  public static final int KEY_BYTES = 32;
  public static final int NONCE_BYTES = 32;
  public static final int TAG_BYTES = 16;

  private static final byte[] C0 = hex("000101020305080d1522375990e97962");
  private static final byte[] C1 = hex("db3d18556dc22ff12011314273b528dd");
  private static final byte[] SBOX = sbox();

  private Aegis256() {}

  /** {@code ciphertext ‖ tag} of {@code msg}. */
  public static byte[] encrypt(byte[] key, byte[] nonce, byte[] ad, byte[] msg) {
    byte[][] s = init(key, nonce);
    absorb(s, ad);
    byte[] out = new byte[msg.length + TAG_BYTES];
    byte[] z = new byte[16];
    byte[] block = new byte[16];
    int full = msg.length / 16 * 16;
    for (int i = 0; i < full; i += 16) {
      keystream(s, z);
      System.arraycopy(msg, i, block, 0, 16);
      for (int j = 0; j < 16; j++) {
        out[i + j] = (byte) (block[j] ^ z[j]);
      }
      update(s, block);
    }
    if (full < msg.length) {
      keystream(s, z);
      Arrays.fill(block, (byte) 0);
      System.arraycopy(msg, full, block, 0, msg.length - full);
      for (int j = 0; j < msg.length - full; j++) {
        out[full + j] = (byte) (block[j] ^ z[j]);
      }
      update(s, block);
    }
    System.arraycopy(finish(s, ad.length, msg.length), 0, out, msg.length, TAG_BYTES);
    return out;
  }

  /** The message of {@code ciphertextAndTag}, or null when the tag does not verify. */
  public static byte[] decrypt(byte[] key, byte[] nonce, byte[] ad, byte[] ciphertextAndTag) {
    if (ciphertextAndTag.length < TAG_BYTES) {
      return null;
    }
    int n = ciphertextAndTag.length - TAG_BYTES;
    byte[][] s = init(key, nonce);
    absorb(s, ad);
    byte[] msg = new byte[n];
    byte[] z = new byte[16];
    byte[] block = new byte[16];
    int full = n / 16 * 16;
    for (int i = 0; i < full; i += 16) {
      keystream(s, z);
      for (int j = 0; j < 16; j++) {
        block[j] = (byte) (ciphertextAndTag[i + j] ^ z[j]);
      }
      System.arraycopy(block, 0, msg, i, 16);
      update(s, block);
    }
    if (full < n) {
      keystream(s, z);
      Arrays.fill(block, (byte) 0);
      for (int j = 0; j < n - full; j++) {
        block[j] = (byte) (ciphertextAndTag[full + j] ^ z[j]);
      }
      System.arraycopy(block, 0, msg, full, n - full);
      Arrays.fill(block, n - full, 16, (byte) 0);
      update(s, block);
    }
    byte[] tag = finish(s, ad.length, n);
    byte[] given = Arrays.copyOfRange(ciphertextAndTag, n, n + TAG_BYTES);
    if (!MessageDigest.isEqual(tag, given)) {
      Arrays.fill(msg, (byte) 0);
      return null;
    }
    return msg;
  }

  private static byte[][] init(byte[] key, byte[] nonce) {
    if (key.length != KEY_BYTES || nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException("AEGIS-256 takes a 32-byte key and a 32-byte nonce");
    }
    byte[] k0 = Arrays.copyOfRange(key, 0, 16);
    byte[] k1 = Arrays.copyOfRange(key, 16, 32);
    byte[] k0n0 = xor(k0, Arrays.copyOfRange(nonce, 0, 16));
    byte[] k1n1 = xor(k1, Arrays.copyOfRange(nonce, 16, 32));
    byte[][] s = {k0n0.clone(), k1n1.clone(), C1.clone(), C0.clone(), xor(k0, C0), xor(k1, C1)};
    for (int i = 0; i < 4; i++) {
      update(s, k0);
      update(s, k1);
      update(s, k0n0);
      update(s, k1n1);
    }
    return s;
  }

  private static void absorb(byte[][] s, byte[] ad) {
    byte[] block = new byte[16];
    for (int i = 0; i < ad.length; i += 16) {
      Arrays.fill(block, (byte) 0);
      System.arraycopy(ad, i, block, 0, Math.min(16, ad.length - i));
      update(s, block);
    }
  }

  /** {@code z = S1 ^ S4 ^ S5 ^ (S2 & S3)}. */
  private static void keystream(byte[][] s, byte[] z) {
    for (int j = 0; j < 16; j++) {
      z[j] = (byte) (s[1][j] ^ s[4][j] ^ s[5][j] ^ (s[2][j] & s[3][j]));
    }
  }

  private static byte[] finish(byte[][] s, long adBytes, long msgBytes) {
    byte[] t = new byte[16];
    long adBits = adBytes * 8;
    long msgBits = msgBytes * 8;
    for (int j = 0; j < 8; j++) {
      t[j] = (byte) (adBits >>> (8 * j));
      t[8 + j] = (byte) (msgBits >>> (8 * j));
    }
    t = xor(t, s[3]);
    for (int i = 0; i < 7; i++) {
      update(s, t);
    }
    byte[] tag = new byte[16];
    for (byte[] block : s) {
      for (int j = 0; j < 16; j++) {
        tag[j] ^= block[j];
      }
    }
    return tag;
  }

  /** The state update: {@code S'i = AESRound(S(i-1), Si)}, with the message mixed into {@code S0}. */
  static void update(byte[][] s, byte[] m) {
    byte[] s5 = s[5];
    byte[] n5 = aesRound(s[4], s[5]);
    byte[] n4 = aesRound(s[3], s[4]);
    byte[] n3 = aesRound(s[2], s[3]);
    byte[] n2 = aesRound(s[1], s[2]);
    byte[] n1 = aesRound(s[0], s[1]);
    byte[] n0 = aesRound(s5, xor(s[0], m));
    s[0] = n0;
    s[1] = n1;
    s[2] = n2;
    s[3] = n3;
    s[4] = n4;
    s[5] = n5;
  }

  /** One AES encryption round: {@code MixColumns(ShiftRows(SubBytes(in))) ^ roundKey}. */
  static byte[] aesRound(byte[] in, byte[] roundKey) {
    byte[] out = new byte[16];
    for (int c = 0; c < 4; c++) {
      // ShiftRows: row r of column c comes from column (c + r) mod 4 (column-major state).
      int a0 = SBOX[in[4 * c] & 0xff] & 0xff;
      int a1 = SBOX[in[4 * ((c + 1) & 3) + 1] & 0xff] & 0xff;
      int a2 = SBOX[in[4 * ((c + 2) & 3) + 2] & 0xff] & 0xff;
      int a3 = SBOX[in[4 * ((c + 3) & 3) + 3] & 0xff] & 0xff;
      int all = a0 ^ a1 ^ a2 ^ a3;
      out[4 * c] = (byte) (a0 ^ all ^ xtime(a0 ^ a1) ^ roundKey[4 * c]);
      out[4 * c + 1] = (byte) (a1 ^ all ^ xtime(a1 ^ a2) ^ roundKey[4 * c + 1]);
      out[4 * c + 2] = (byte) (a2 ^ all ^ xtime(a2 ^ a3) ^ roundKey[4 * c + 2]);
      out[4 * c + 3] = (byte) (a3 ^ all ^ xtime(a3 ^ a0) ^ roundKey[4 * c + 3]);
    }
    return out;
  }

  private static int xtime(int b) {
    int x = b << 1;
    return ((b & 0x80) != 0 ? x ^ 0x1b : x) & 0xff;
  }

  /** The AES S-box: the inverse in GF(2^8) (0 for 0), then the affine map with constant 0x63. */
  private static byte[] sbox() {
    byte[] box = new byte[256];
    for (int x = 0; x < 256; x++) {
      int inv = 0;
      if (x != 0) {
        for (int y = 1; y < 256; y++) {
          if (gmul(x, y) == 1) {
            inv = y;
            break;
          }
        }
      }
      int b = inv;
      int s = b ^ rotl8(b, 1) ^ rotl8(b, 2) ^ rotl8(b, 3) ^ rotl8(b, 4) ^ 0x63;
      box[x] = (byte) s;
    }
    return box;
  }

  private static int gmul(int a, int b) {
    int p = 0;
    for (int i = 0; i < 8; i++) {
      if ((b & 1) != 0) {
        p ^= a;
      }
      a = xtime(a);
      b >>= 1;
    }
    return p;
  }

  private static int rotl8(int b, int n) {
    return ((b << n) | (b >>> (8 - n))) & 0xff;
  }

  private static byte[] xor(byte[] a, byte[] b) {
    byte[] out = new byte[16];
    for (int j = 0; j < 16; j++) {
      out[j] = (byte) (a[j] ^ b[j]);
    }
    return out;
  }

  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s);
  }
}
