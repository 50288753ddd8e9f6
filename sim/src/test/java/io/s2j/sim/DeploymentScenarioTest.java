package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The deployment scenario produces the hazards it exists for — not just that its seeds pass: over
 * a few seeds, pauses longer than the cop's lease and than the channels' dead-after time, an acting
 * cop deposed while it was paused, a channel taken over while its host was paused, spares taking
 * channels over, the acting cop killed, fenced channel processes restarted by the supervisor,
 * metadata outages and windows of lost metadata responses. Counted from each run's {@code
 * fault_counts:} line (what the sweep pools). And scale-out: the channel that joins mid-window
 * (its {@code scale_out:} line) is added to the cops' views and gets stream links.
 */
class DeploymentScenarioTest {
  @Test
  void theDeploymentFaultsHappenAndTheCellFailsOverUnderThem() {
    Scenario scenario = Scenarios.byName("deployment");
    Map<String, Long> totals = new TreeMap<>();
    long linksOnJoined = 0;
    long copsThatAddedIt = 0;
    for (long seed = 1; seed <= 12; seed++) {
      RunReport r = Runner.run(scenario, null, seed);
      assertTrue(r.passed(), r.failureDetails() + r.summaryLine());
      for (String line : r.description().split("\n")) {
        if (line.startsWith("scale_out:")) {
          linksOnJoined += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
          String added = line.substring(line.indexOf("added it to their view ") + "added it to their view ".length());
          copsThatAddedIt += Long.parseLong(added.substring(0, added.indexOf(';')));
        }
        if (line.startsWith("fault_counts:")) {
          for (String kv : line.substring("fault_counts:".length()).trim().split(" ")) {
            String[] p = kv.split("=");
            totals.merge(p[0], Long.parseLong(p[1]), Long::sum);
          }
        }
      }
    }
    for (String k : new String[] {"pauses_over_lease", "pauses_over_dead_after", "acting_cop_pauses", "cop_deposed_while_paused",
        "channel_pauses", "channel_taken_over_while_paused", "spare_replacements", "acting_cop_kills", "supervisor_restarts",
        "metadata_outages", "metadata_lost_response_windows"}) {
      assertTrue(totals.getOrDefault(k, 0L) > 0, k + " never happened in seeds 1-12: " + totals);
    }
    assertTrue(copsThatAddedIt >= 12, "cop incarnations that saw ch-4 join: " + copsThatAddedIt);
    assertTrue(linksOnJoined >= 12, "stream links on the joining channel in seeds 1-12: " + linksOnJoined);
    assertTrue(totals.get("cop_terms") > 12, "leader changes beyond each seed's first term: " + totals);
  }
}
