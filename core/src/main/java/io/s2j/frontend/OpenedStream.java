package io.s2j.frontend;

import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.StreamCipher;
import io.s2j.crypto.EncryptionKey;
import java.util.List;

/**
 * What the data path needs to serve a stream: its incarnation id, resolved config, cipher (null if
 * none) and streamlet chain (empty while the stream is dormant); {@code created} when this lookup
 * auto-created it. {@code key} is the client's encryption key for this request (null if none was
 * sent); lookups are cached without it.
 */
public record OpenedStream(long streamId, ResolvedStreamConfig config, StreamCipher cipher, List<Streamlet> streamlets, boolean created,
    EncryptionKey key) {
  public OpenedStream {
    streamlets = List.copyOf(streamlets);
  }

  public OpenedStream(long streamId, ResolvedStreamConfig config, StreamCipher cipher, List<Streamlet> streamlets, boolean created) {
    this(streamId, config, cipher, streamlets, created, null);
  }

  /** This stream as one request with {@code key} sees it. */
  public OpenedStream withKey(EncryptionKey key) {
    return new OpenedStream(streamId, config, cipher, streamlets, created, key);
  }

  /** True if this request may not touch records: the stream has a cipher and no key was sent. */
  boolean missingKey() {
    return cipher != null && key == null;
  }
}
