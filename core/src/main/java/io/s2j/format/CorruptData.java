package io.s2j.format;

/**
 * Stored bytes that do not decode to what a writer of this format could have written: a checksum
 * mismatch, a bad magic, a length or count out of bounds, or contents that disagree with the index.
 * Readers must treat the object (or the piece read) as unusable, never as data.
 */
public class CorruptData extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CorruptData(String message) {
    // no stack trace: corruption is an expected, typed outcome of reading storage
    super(message, null, false, false);
  }
}
