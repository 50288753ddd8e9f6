package io.s2j.api;

/** What a create or ensure did, reported in the {@code s2-provision-result} header (S2-API §4.5, §4.6). */
public enum ProvisionResult {
  CREATED("created"),
  UPDATED("updated"),
  NOOP("noop");

  private final String wireName;

  ProvisionResult(String wireName) {
    this.wireName = wireName;
  }

  /** The header value. */
  public String wireName() {
    return wireName;
  }
}
