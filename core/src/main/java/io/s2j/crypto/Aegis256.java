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
 * vectors ({@code Aegis256Test}). The AES round uses the classic 32-bit T-tables, derived at class
 * load from the S-box (multiplicative inverse in GF(2^8) and the affine map), not hardware AES
 * instructions: it is not hardened against cache-timing side channels.
 */
public final class Aegis256 {
  public static final int KEY_BYTES = 32;
  public static final int NONCE_BYTES = 32;
  public static final int TAG_BYTES = 16;

  private static final byte[] C0 = HexFormat.of().parseHex("000101020305080d1522375990e97962");
  private static final byte[] C1 = HexFormat.of().parseHex("db3d18556dc22ff12011314273b528dd");
  /** Column {@code c} of a block is the big-endian word of its bytes {@code 4c .. 4c+3}. */
  private static final int[] TE0 = new int[256];
  private static final int[] TE1 = new int[256];
  private static final int[] TE2 = new int[256];
  private static final int[] TE3 = new int[256];

  static {
    byte[] sbox = sbox();
    for (int x = 0; x < 256; x++) {
      int sx = sbox[x] & 0xff;
      int te = (xtime(sx) << 24) | (sx << 16) | (sx << 8) | (xtime(sx) ^ sx);
      TE0[x] = te;
      TE1[x] = Integer.rotateRight(te, 8);
      TE2[x] = Integer.rotateRight(te, 16);
      TE3[x] = Integer.rotateRight(te, 24);
    }
  }

  /** Six 128-bit blocks S0..S5, four words each, and the scratch the next state is built in. */
  private int[] s = new int[24];
  private int[] next = new int[24];
  private final int[] m = new int[4];

  private Aegis256() {}

  /** {@code ciphertext ‖ tag} of {@code msg}. */
  public static byte[] encrypt(byte[] key, byte[] nonce, byte[] ad, byte[] msg) {
    Aegis256 a = new Aegis256();
    a.init(key, nonce);
    a.absorb(ad);
    byte[] out = new byte[msg.length + TAG_BYTES];
    byte[] block = new byte[16];
    int full = msg.length / 16 * 16;
    for (int i = 0; i < full; i += 16) {
      a.encryptBlock(msg, i, out, i);
    }
    if (full < msg.length) {
      System.arraycopy(msg, full, block, 0, msg.length - full);
      byte[] c = new byte[16];
      a.encryptBlock(block, 0, c, 0);
      System.arraycopy(c, 0, out, full, msg.length - full);
    }
    a.finish(ad.length, msg.length, out, msg.length);
    return out;
  }

  /** The message of {@code ciphertextAndTag}, or null when the tag does not verify. */
  public static byte[] decrypt(byte[] key, byte[] nonce, byte[] ad, byte[] ciphertextAndTag) {
    if (ciphertextAndTag.length < TAG_BYTES) {
      return null;
    }
    int n = ciphertextAndTag.length - TAG_BYTES;
    Aegis256 a = new Aegis256();
    a.init(key, nonce);
    a.absorb(ad);
    byte[] msg = new byte[n];
    int full = n / 16 * 16;
    for (int i = 0; i < full; i += 16) {
      a.decryptBlock(ciphertextAndTag, i, 16, msg, i);
    }
    if (full < n) {
      a.decryptBlock(ciphertextAndTag, full, n - full, msg, full);
    }
    byte[] tag = new byte[TAG_BYTES];
    a.finish(ad.length, n, tag, 0);
    if (!MessageDigest.isEqual(tag, Arrays.copyOfRange(ciphertextAndTag, n, n + TAG_BYTES))) {
      Arrays.fill(msg, (byte) 0);
      return null;
    }
    return msg;
  }

  private void init(byte[] key, byte[] nonce) {
    if (key.length != KEY_BYTES || nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException("AEGIS-256 takes a 32-byte key and a 32-byte nonce");
    }
    int[] k0 = words(key, 0);
    int[] k1 = words(key, 16);
    int[] k0n0 = xor(k0, words(nonce, 0));
    int[] k1n1 = xor(k1, words(nonce, 16));
    int[] c0 = words(C0, 0);
    int[] c1 = words(C1, 0);
    set(0, k0n0);
    set(1, k1n1);
    set(2, c1);
    set(3, c0);
    set(4, xor(k0, c0));
    set(5, xor(k1, c1));
    for (int i = 0; i < 4; i++) {
      update(k0);
      update(k1);
      update(k0n0);
      update(k1n1);
    }
  }

  private void absorb(byte[] ad) {
    byte[] block = new byte[16];
    for (int i = 0; i < ad.length; i += 16) {
      int n = Math.min(16, ad.length - i);
      if (n < 16) {
        Arrays.fill(block, (byte) 0);
      }
      System.arraycopy(ad, i, block, 0, n);
      load(block, 0, m);
      update(m);
    }
  }

  /** One full block: {@code c = x ^ z}, then the state absorbs {@code x}. */
  private void encryptBlock(byte[] in, int inOff, byte[] out, int outOff) {
    load(in, inOff, m);
    for (int w = 0; w < 4; w++) {
      store(m[w] ^ z(w), out, outOff + 4 * w);
    }
    update(m);
  }

  /** {@code length} (1..16) bytes: {@code x = c ^ z}; the state absorbs {@code x} zero-padded. */
  private void decryptBlock(byte[] in, int inOff, int length, byte[] out, int outOff) {
    byte[] x = new byte[16];
    byte[] z = new byte[16];
    for (int w = 0; w < 4; w++) {
      store(z(w), z, 4 * w);
    }
    for (int j = 0; j < length; j++) {
      x[j] = (byte) (in[inOff + j] ^ z[j]);
    }
    System.arraycopy(x, 0, out, outOff, length);
    load(x, 0, m);
    update(m);
  }

  /** Word {@code w} of {@code S1 ^ S4 ^ S5 ^ (S2 & S3)}. */
  private int z(int w) {
    return s[4 + w] ^ s[16 + w] ^ s[20 + w] ^ (s[8 + w] & s[12 + w]);
  }

  private void finish(long adBytes, long msgBytes, byte[] out, int outOff) {
    byte[] lengths = new byte[16];
    long adBits = adBytes * 8;
    long msgBits = msgBytes * 8;
    for (int j = 0; j < 8; j++) {
      lengths[j] = (byte) (adBits >>> (8 * j));
      lengths[8 + j] = (byte) (msgBits >>> (8 * j));
    }
    int[] t = words(lengths, 0);
    for (int w = 0; w < 4; w++) {
      t[w] ^= s[12 + w];
    }
    for (int i = 0; i < 7; i++) {
      update(t);
    }
    for (int w = 0; w < 4; w++) {
      store(s[w] ^ s[4 + w] ^ s[8 + w] ^ s[12 + w] ^ s[16 + w] ^ s[20 + w], out, outOff + 4 * w);
    }
  }

  /** The state update: {@code S'i = AESRound(S(i-1), Si)}, with {@code msg} mixed into {@code S0}. */
  private void update(int[] msg) {
    for (int i = 1; i < 6; i++) {
      aesRound(s, 4 * (i - 1), s, 4 * i, null, next, 4 * i);
    }
    aesRound(s, 20, s, 0, msg, next, 0);
    int[] swap = s;
    s = next;
    next = swap;
  }

  /**
   * {@code out[o..o+4) = MixColumns(ShiftRows(SubBytes(in[i..i+4)))) ^ key[k..k+4) ^ extra}, where
   * {@code extra} (null for none) is xored into the round key.
   */
  private static void aesRound(int[] in, int i, int[] key, int k, int[] extra, int[] out, int o) {
    int w0 = in[i];
    int w1 = in[i + 1];
    int w2 = in[i + 2];
    int w3 = in[i + 3];
    int r0 = TE0[w0 >>> 24] ^ TE1[(w1 >>> 16) & 0xff] ^ TE2[(w2 >>> 8) & 0xff] ^ TE3[w3 & 0xff];
    int r1 = TE0[w1 >>> 24] ^ TE1[(w2 >>> 16) & 0xff] ^ TE2[(w3 >>> 8) & 0xff] ^ TE3[w0 & 0xff];
    int r2 = TE0[w2 >>> 24] ^ TE1[(w3 >>> 16) & 0xff] ^ TE2[(w0 >>> 8) & 0xff] ^ TE3[w1 & 0xff];
    int r3 = TE0[w3 >>> 24] ^ TE1[(w0 >>> 16) & 0xff] ^ TE2[(w1 >>> 8) & 0xff] ^ TE3[w2 & 0xff];
    if (extra == null) {
      out[o] = r0 ^ key[k];
      out[o + 1] = r1 ^ key[k + 1];
      out[o + 2] = r2 ^ key[k + 2];
      out[o + 3] = r3 ^ key[k + 3];
    } else {
      out[o] = r0 ^ key[k] ^ extra[0];
      out[o + 1] = r1 ^ key[k + 1] ^ extra[1];
      out[o + 2] = r2 ^ key[k + 2] ^ extra[2];
      out[o + 3] = r3 ^ key[k + 3] ^ extra[3];
    }
  }

  private void set(int block, int[] words) {
    System.arraycopy(words, 0, s, 4 * block, 4);
  }

  private static int[] words(byte[] b, int off) {
    int[] w = new int[4];
    load(b, off, w);
    return w;
  }

  private static void load(byte[] b, int off, int[] w) {
    for (int j = 0; j < 4; j++) {
      int p = off + 4 * j;
      w[j] = ((b[p] & 0xff) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
    }
  }

  private static void store(int w, byte[] b, int off) {
    b[off] = (byte) (w >>> 24);
    b[off + 1] = (byte) (w >>> 16);
    b[off + 2] = (byte) (w >>> 8);
    b[off + 3] = (byte) w;
  }

  private static int[] xor(int[] a, int[] b) {
    return new int[] {a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]};
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
      box[x] = (byte) (inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63);
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
}
