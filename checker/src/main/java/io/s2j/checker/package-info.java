/**
 * Checks of runs: histories ({@link io.s2j.checker.Operation}), sequential specifications
 * ({@link io.s2j.checker.Model}) and the linearizability checker. The same determinism bans as
 * the components apply (STYLE.md rule 4): a check's verdict depends only on its input and its
 * budget, which is counted in explored states, not wall time.
 */
package io.s2j.checker;
