package io.s2j.runtime.metadata;

import java.util.List;

/**
 * Keys of a range in unsigned byte order, all read at one store revision. When {@code more}, the
 * range has keys after the last one returned.
 */
public record ScanPage(List<KeyValue> entries, boolean more, long revision) {
  public ScanPage {
    entries = List.copyOf(entries);
  }
}
