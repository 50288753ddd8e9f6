package io.s2j.record;

import com.google.protobuf.ByteString;

/** A record header: a (name, value) pair of arbitrary bytes. An empty name marks a command record. */
public record Header(ByteString name, ByteString value) {
  public Header {
    if (name == null || value == null) {
      throw new IllegalArgumentException("header name and value are required");
    }
  }

  public static Header of(String name, String value) {
    return new Header(ByteString.copyFromUtf8(name), ByteString.copyFromUtf8(value));
  }
}
