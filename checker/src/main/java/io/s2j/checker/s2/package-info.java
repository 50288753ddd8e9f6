/**
 * S2 stream histories in the JSON-lines format of S2's public verification tooling
 * (s2-verification: its collector and Porcupine model; {@code checker/S2-VERIFICATION-FORMAT.md}
 * describes the format), and the sequential model of one S2 stream they are checked against.
 *
 * <p>Start payloads ({@link io.s2j.checker.s2.S2Call}) are the model's operation inputs; success
 * payloads ({@link io.s2j.checker.s2.AppendOutput}, {@link io.s2j.checker.s2.ReadOutput},
 * {@link io.s2j.checker.s2.CheckTailOutput}) are its outputs. Every {@code long} that stands for
 * an S2 {@code u64} (tails, sequence numbers, hashes) is read and written as unsigned.
 */
package io.s2j.checker.s2;
