package io.s2j.checker.s2;

/**
 * An acknowledged append (JSON {@code {"AppendSuccess":{"tail":…}}}).
 *
 * <p>{@code tail} is the ack's <em>end</em> sequence number (the batch's last record + 1), which is
 * what s2-verification's collector logs under that name — not the ack's {@code tail} field, which
 * may be larger when later batches became durable together. The ack's start is implied
 * ({@code tail - numRecords}), so it is not carried.
 */
public record AppendOutput(long tail) implements S2Finish {}
