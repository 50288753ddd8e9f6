/**
 * Jepsen histories: EDN reading and printing through Clojure's own reader and printer
 * ({@link io.s2j.checker.jepsen.JepsenEdn}), pairing invocations with completions into
 * {@link io.s2j.checker.Operation}s ({@link io.s2j.checker.jepsen.JepsenHistory}), and the
 * Knossos/Porcupine models used with them ({@link io.s2j.checker.jepsen.CasRegisterModel},
 * {@link io.s2j.checker.jepsen.KvModel}).
 */
package io.s2j.checker.jepsen;
