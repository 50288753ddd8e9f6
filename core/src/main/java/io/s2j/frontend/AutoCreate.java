package io.s2j.frontend;

/** Which basin flag may create a missing stream on lookup (S2-API §12.1). */
public enum AutoCreate {
  /** Never create (config reads, deletes). */
  NONE,
  /** Appends: {@code create_stream_on_append}. */
  ON_APPEND,
  /** Reads and check-tail: {@code create_stream_on_read}. */
  ON_READ
}
