package io.s2j.runtime;

/**
 * Time as a component sees it: virtual under simulation, the host's in the real runtime.
 *
 * <p>{@link #nowNanos()} is monotonic (never goes back) and is what timeouts and latencies are
 * measured in. {@link #wallMillis()} is this node's idea of Unix time, used only where S2 exposes it
 * (record timestamps); it may be skewed against other nodes and may jump, so nothing that needs
 * ordering may depend on it.
 */
public interface Clock {
  /** Monotonic time in nanoseconds since an arbitrary origin; never decreases on one node. */
  long nowNanos();

  /** This node's wall clock in milliseconds since the Unix epoch; may be skewed against peers. */
  long wallMillis();
}
