/**
 * Checks of runs: the linearizability checker and history formats arrive with issue 4. Until then
 * the simulator's scenarios check their own invariants (see io.s2j.sim).
 */
package io.s2j.checker;
