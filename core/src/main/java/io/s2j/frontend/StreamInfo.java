package io.s2j.frontend;

import io.s2j.api.StreamCipher;
import io.s2j.api.StreamName;

/**
 * A stream as listed and as returned by create/ensure (S2-API §6.1); {@code deletedAtMs} is null
 * while active, {@code cipher} null when the stream is not encrypted.
 */
public record StreamInfo(StreamName name, long createdAtMs, Long deletedAtMs, StreamCipher cipher) {
  public boolean deleting() {
    return deletedAtMs != null;
  }
}
