package io.s2j.frontend;

import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.StreamCipher;
import java.util.List;

/**
 * What the data path needs to serve a stream: its incarnation id, resolved config, cipher (null if
 * none) and streamlet chain (empty while the stream is dormant); {@code created} when this lookup
 * auto-created it.
 */
public record OpenedStream(long streamId, ResolvedStreamConfig config, StreamCipher cipher, List<Streamlet> streamlets, boolean created) {
  public OpenedStream {
    streamlets = List.copyOf(streamlets);
  }
}
