package io.s2j.sim;

import java.util.List;
import java.util.Locale;

/**
 * The result of one seed: what the one-line summary prints, and what a failure needs to be
 * understood and replayed.
 */
public record RunReport(
    String scenario,
    String bug,
    long seed,
    boolean passed,
    long traceHash,
    long events,
    long simulatedMs,
    long wallMs,
    List<String> violations,
    Throwable failure,
    String description,
    List<String> recentEvents) {

  static final int VIOLATIONS_SHOWN_MAX = 20;

  /** {@code seed=N result=PASS|FAIL trace=<hex> events=<n> simulated_ms=<n> wall_ms=<n>}. */
  public String summaryLine() {
    return String.format(Locale.ROOT, "seed=%d result=%s trace=%016x events=%d simulated_ms=%d wall_ms=%d",
        seed, passed ? "PASS" : "FAIL", traceHash, events, simulatedMs, wallMs);
  }

  /** The one command that replays this run. */
  public String reproduceCommand() {
    return "java -jar sim/target/s2j-sim.jar run --seed " + seed + " --scenario " + scenario
        + (bug == null ? "" : " --bug " + bug);
  }

  /** The same seed through Maven, as the tests run it. */
  public String reproduceTestCommand() {
    return "mvn test -pl sim -am -Dtest=SimulationTest -Dsurefire.failIfNoSpecifiedTests=false -Dseed=" + seed
        + " -Dscenario=" + scenario + (bug == null ? "" : " -Dbug=" + bug);
  }

  /** What went wrong, the run's setup, the last events, and how to replay it. */
  public String failureDetails() {
    StringBuilder sb = new StringBuilder();
    if (failure != null) {
      sb.append("bug (exception in an event): ").append(failure).append('\n');
      for (StackTraceElement e : failure.getStackTrace()) {
        sb.append("    at ").append(e).append('\n');
      }
      for (Throwable cause = failure.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
        sb.append("  caused by: ").append(cause).append('\n');
        for (StackTraceElement e : cause.getStackTrace()) {
          sb.append("    at ").append(e).append('\n');
        }
      }
    }
    int shown = 0;
    for (String v : violations) {
      if (shown++ == VIOLATIONS_SHOWN_MAX) {
        sb.append("  ... ").append(violations.size() - VIOLATIONS_SHOWN_MAX).append(" more violations\n");
        break;
      }
      sb.append("violation: ").append(v).append('\n');
    }
    sb.append(description);
    if (!recentEvents.isEmpty()) {
      sb.append("last events:\n");
      for (String e : recentEvents) {
        sb.append("  ").append(e).append('\n');
      }
    }
    sb.append("reproduce with: ").append(reproduceCommand()).append('\n');
    sb.append("           or: ").append(reproduceTestCommand()).append('\n');
    return sb.toString();
  }
}
