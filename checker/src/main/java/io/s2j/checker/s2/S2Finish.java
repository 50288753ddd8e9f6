package io.s2j.checker.s2;

/**
 * How a call ended: the payload of a {@code Finish} event. The success payloads are the model's
 * outputs; failures never reach the model (definite ones are dropped, indefinite ones have no
 * output).
 */
public sealed interface S2Finish permits AppendOutput, ReadOutput, CheckTailOutput, S2Failure {}
