package io.s2j.frontend;

import io.s2j.api.BasinName;

/**
 * A basin as listed and as returned by create/ensure (S2-API §5.1); {@code deletedAtMs} is null
 * while the basin is active and set once its deletion was requested (state {@code deleting}).
 */
public record BasinInfo(BasinName name, long createdAtMs, Long deletedAtMs) {
  public boolean deleting() {
    return deletedAtMs != null;
  }
}
