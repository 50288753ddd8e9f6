package io.s2j.checker.s2;

/** A completed check-tail (JSON {@code {"CheckTailSuccess":{"tail":…}}}). */
public record CheckTailOutput(long tail) implements S2Finish {}
