package io.s2j.record;

import com.google.protobuf.ByteString;
import java.util.List;

/** A stored record: the sequence number and timestamp the stream assigned, headers, body. */
public record SequencedRecord(long seqNum, long timestamp, List<Header> headers, ByteString body) {
  public SequencedRecord {
    headers = List.copyOf(headers);
    if (seqNum < 0 || timestamp < 0 || body == null) {
      throw new IllegalArgumentException("invalid sequenced record");
    }
  }

  /** Metered size (S2-API §2.5). */
  public long meteredBytes() {
    return Metered.bytes(headers, body);
  }

  /** True for a command record (exactly one header, with an empty name). */
  public boolean isCommand() {
    return Command.isCommand(headers);
  }
}
