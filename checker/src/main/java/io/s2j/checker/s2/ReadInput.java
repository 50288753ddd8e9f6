package io.s2j.checker.s2;

/**
 * A read of the whole stream from sequence number 0 up to the tail (JSON {@code "Read"}): it
 * reports the tail and the cumulative hash of every record ({@link StreamHash}).
 */
public record ReadInput() implements S2Call {
  public static final ReadInput INSTANCE = new ReadInput();
}
