package io.s2j.sim;

import io.s2j.sim.counter.CounterScenario;
import java.util.List;

/** Every scenario the command line and the tests know, by name. */
public final class Scenarios {
  private Scenarios() {}

  /** The whole data plane: frontends, channels, metadata, bucket, faults. */
  public static final String DEFAULT = "cell";

  public static List<Scenario> all() {
    return List.of(CounterScenario.standard(), CounterScenario.busy(), new io.s2j.sim.channel.ChannelScenario(), io.s2j.sim.channel.ChannelScenario.takeover(),
        new io.s2j.sim.cell.CellScenario(), io.s2j.sim.cell.CellScenario.zoneOutage(),
        io.s2j.sim.cell.CellScenario.deployment(),
        new io.s2j.sim.latency.LatencyScenario(), io.s2j.sim.latency.LatencyScenario.unhedged());
  }

  /** The scenario called {@code name}; throws with the known names if there is none. */
  public static Scenario byName(String name) {
    for (Scenario s : all()) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown scenario '" + name + "'; known: "
        + String.join(", ", all().stream().map(Scenario::name).toList()));
  }
}
