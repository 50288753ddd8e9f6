package io.s2j.record;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * S2's metered size, which every size limit and byte count uses (S2-API §2.5):
 * {@code 8 + 2 * headers + sum(len(name) + len(value)) + len(body)}.
 */
public final class Metered {
  private Metered() {}

  public static long bytes(List<Header> headers, ByteString body) {
    long n = 8L + 2L * headers.size() + body.size();
    for (Header h : headers) {
      n += h.name().size() + h.value().size();
    }
    return n;
  }
}
