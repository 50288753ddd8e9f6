package io.s2j.format;

/**
 * A stored object whose format version byte this build does not read (written by a newer s2j, or
 * corrupted). A subclass of {@link CorruptData} so that callers that only care about "unusable"
 * need one catch.
 */
public final class UnsupportedVersion extends CorruptData {
  private static final long serialVersionUID = 1L;

  public UnsupportedVersion(String what, int version, int supported) {
    super(what + ": format version " + version + " is not supported (this build reads version " + supported + ")");
  }
}
