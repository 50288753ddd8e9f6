package io.s2j.checker.s2;

/** What a client started: the payload of a {@code Start} event and the model's input. */
public sealed interface S2Call permits AppendInput, ReadInput, CheckTailInput {}
