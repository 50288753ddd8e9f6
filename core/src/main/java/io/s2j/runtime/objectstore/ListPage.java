package io.s2j.runtime.objectstore;

import java.util.List;

/**
 * One page of a listing, in key order. When {@code truncated}, the next page starts after the last
 * key of this one.
 */
public record ListPage(List<ObjectSummary> objects, boolean truncated) {
  public ListPage {
    objects = List.copyOf(objects);
  }
}
