package io.s2j.checker.s2;

/**
 * A completed read from the head (JSON {@code {"ReadSuccess":{"tail":…,"stream_hash":…}}}).
 *
 * @param tail the last record's sequence number + 1 (0 for an empty stream)
 * @param streamHash the cumulative {@link StreamHash} of every record read
 */
public record ReadOutput(long tail, long streamHash) implements S2Finish {}
