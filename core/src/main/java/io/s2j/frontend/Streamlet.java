package io.s2j.frontend;

/**
 * One link of a stream's streamlet chain: the channel that sequences it and where it starts;
 * {@code endSeqNum} is null until the streamlet is sealed by a migration.
 */
public record Streamlet(long index, long streamletId, String channelId, long startSeqNum, Long endSeqNum, long startTimestamp) {}
