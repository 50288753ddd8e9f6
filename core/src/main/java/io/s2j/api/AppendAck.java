package io.s2j.api;

import io.s2j.record.StreamPosition;

/**
 * The acknowledgement of a durable batch (S2-API §7.6): its first position, the position after its
 * last record, and the stream's durable tail when the ack was released.
 */
public record AppendAck(StreamPosition start, StreamPosition end, StreamPosition tail) implements AppendResult {
  public AppendAck {
    if (Long.compareUnsigned(start.seqNum(), end.seqNum()) >= 0
        || Long.compareUnsigned(end.seqNum(), tail.seqNum()) > 0
        || start.timestamp() > end.timestamp()) {
      throw new IllegalArgumentException("inconsistent ack " + start + " " + end + " " + tail);
    }
  }
}
