package io.s2j.crypto;

/**
 * Where nonces come from. Simulated runs use the run's seeded source, so a seed replays exactly;
 * the real runtime passes a {@code SecureRandom}, because a nonce that repeats under one key
 * breaks AES-GCM.
 */
@FunctionalInterface
public interface NonceSource {
  void fill(byte[] nonce);
}
