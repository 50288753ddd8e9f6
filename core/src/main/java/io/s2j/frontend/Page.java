package io.s2j.frontend;

import java.util.List;

/** One page of a listing; {@code hasMore} is true iff at least one more matching item exists after it. */
public record Page<T>(List<T> items, boolean hasMore) {
  public Page {
    items = List.copyOf(items);
  }
}
