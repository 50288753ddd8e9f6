package io.s2j.record;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * A record as a client appends it: an optional client timestamp (null = none), headers, body.
 */
public record AppendRecord(Long timestamp, List<Header> headers, ByteString body) {
  public AppendRecord {
    headers = List.copyOf(headers);
    if (body == null) {
      throw new IllegalArgumentException("body is required (may be empty)");
    }
    if (timestamp != null && timestamp < 0) {
      throw new IllegalArgumentException("negative timestamp");
    }
  }

  public static AppendRecord of(String body) {
    return new AppendRecord(null, List.of(), ByteString.copyFromUtf8(body));
  }

  /** Metered size (S2-API §2.5). */
  public long meteredBytes() {
    return Metered.bytes(headers, body);
  }
}
