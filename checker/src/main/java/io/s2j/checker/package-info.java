/**
 * Checks of runs: histories ({@link io.s2j.checker.Operation}), sequential specifications
 * ({@link io.s2j.checker.Model}) and the linearizability checker. The checker is a tool, not a
 * component: it runs on real threads and real time budgets, so the determinism bans of the
 * components do not apply here.
 */
package io.s2j.checker;
