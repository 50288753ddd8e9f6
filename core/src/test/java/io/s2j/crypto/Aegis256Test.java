package io.s2j.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AEGIS-256 against published vectors: the CFRG draft's test vectors 1 and 2 and Wycheproof's
 * {@code aegis256_test.json} (tcIds as noted), covering empty, partial-block, multi-block messages
 * and associated data.
 */
class Aegis256Test {
  private static final HexFormat HEX = HexFormat.of();

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      // name, key, nonce, ad, msg, ct, tag
      "draft TV1, 1001000000000000000000000000000000000000000000000000000000000000, "
          + "1000020000000000000000000000000000000000000000000000000000000000, , 00000000000000000000000000000000, "
          + "754fc3d8c973246dcc6d741412a4b236, 3fe91994768b332ed7f570a19ec5896e",
      "draft TV2, 1001000000000000000000000000000000000000000000000000000000000000, "
          + "1000020000000000000000000000000000000000000000000000000000000000, , , , e3def978a0f054afd1e761d7553afba3",
      "wycheproof 5, 0000000000000000000000000000000000000000000000000000000000000000, "
          + "0000000000000000000000000000000000000000000000000000000000000000, , 00000000000000000000000000000000, "
          + "b98f03a947807713d75a4fff9fc277a6, 478f3b50dc478ef7d5cf2d0f7cc13180",
      "wycheproof 7, 0001000000000000000000000000000000000000000000000000000000000000, "
          + "0000020000000000000000000000000000000000000000000000000000000000, 00010203, 00000000000000000000000000000000, "
          + "1f452a22fc07f2471ab4345d7ab121b1, 065a9af5cc2fd9fee11280a51e37fdcc",
      "wycheproof 8, 1001000000000000000000000000000000000000000000000000000000000000, "
          + "1000020000000000000000000000000000000000000000000000000000000000, 0001020304050607, "
          + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f, "
          + "f373079ed84b2709faee373584585d60accd191db310ef5d8b11833df9dec711, 8d86f91ee606e9ff26a01b64ccbdd91d",
      "wycheproof 9, cc6657fd5f0014430cd8a2afa1b1270094c29427d5fbc0b0a2cfc0e87c83ba89, "
          + "c0b1fdebffb7f2e277ffb88c0fa369b65f29c78d55e2cc258705a7e2440cb0b5, , , , 5f9302932f6af3a489a6fcca836a9d4d",
      "wycheproof 10, b1336707a426d43755b503b69e0056bd99d169b991c2def3257921af839e2ddf, "
          + "967304567c8309a58e259eb2141e076710f39dc65c2c0106ec20a60fd329a8f5, , 45, fd, 684e6dc775e429c59ca141a094087e63",
      "wycheproof 24, dfdbe0ad5be9823963239f9f4dd9f364002a62a7e7648f47b1a33cd296586d74, "
          + "9881cffdbed3316b2460e80f794bc8b68e5d98c207ac8750813d9a537c21a335, , 2fb7993e304a4875316978a70151c8, "
          + "ea33bd94569bb8d9b8c97ce5524ae6, 6a067c556b79f7c64ca6d4b1593fc665",
      "wycheproof 26, 4248496c86ea6e4e0c12b933e4572de9be5b440503b62030153365abed42bc69, "
          + "d1c0c2d7457ab6d940eb910b39d101ae5e0a7a83acf7c90dead42357ac24a5f9, , da270cc998cc602eeafe17d513bc71abc4, "
          + "61ab71fa8c28d748192b698ebb37997dd2, 0829d170b7106834ace8516d870cd295",
      "wycheproof 31, c8134cda02f603b53daaab2ca9a575ce4d9b6411a10d21a533ed2cf6187c7649, "
          + "21e37934e57c6a4501ade356225e72d4715205383ce3d4d92ee1d98f763f1dbd, , 6f48478470a9b519c5ddbfa31c75b3ef0f912b9f2211, "
          + "63be5057ef1f92f2488489c8f362e1614ff6c62d5967, e146f0449b62581528dff914ffff8bb0",
  })
  void matchesPublishedVectors(String name, String key, String nonce, String ad, String msg, String ct, String tag) {
    byte[] k = HEX.parseHex(key);
    byte[] n = HEX.parseHex(nonce);
    byte[] a = bytes(ad);
    byte[] m = bytes(msg);
    byte[] expected = HEX.parseHex(bytesHex(ct) + tag);
    assertArrayEquals(expected, Aegis256.encrypt(k, n, a, m), name + ": encryption");
    assertArrayEquals(m, Aegis256.decrypt(k, n, a, expected), name + ": decryption");
    for (int i = 0; i < expected.length; i++) {
      byte[] tampered = expected.clone();
      tampered[i] ^= 0x01;
      assertNull(Aegis256.decrypt(k, n, a, tampered), name + ": a flipped bit at byte " + i + " must not verify");
    }
    if (a.length > 0) {
      byte[] otherAd = a.clone();
      otherAd[0] ^= 0x01;
      assertNull(Aegis256.decrypt(k, n, otherAd, expected), name + ": other associated data must not verify");
    }
  }

  private static byte[] bytes(String hexOrNull) {
    return hexOrNull == null ? new byte[0] : HEX.parseHex(hexOrNull);
  }

  private static String bytesHex(String hexOrNull) {
    return hexOrNull == null ? "" : hexOrNull;
  }
}
