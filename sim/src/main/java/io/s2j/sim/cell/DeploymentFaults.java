package io.s2j.sim.cell;

import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.channel.Channel;
import io.s2j.cop.Cop;
import io.s2j.cop.CopKnobs;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.ChannelMeta;
import io.s2j.metadata.proto.CopMeta;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.sim.FaultPlan;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The faults of the {@code deployment} scenario beyond the cell's swarm — those of a cell on
 * several machines with metadata in etcd — and what they led to, counted for the run's summary.
 *
 * <p>Drawn from one fork of the seed: process pauses of any node, half of them around the cop's
 * {@code leaseMs} or the channels' {@code channelDeadAfterMs}; a channel process killed (kill -9)
 * and restarted; a channel process paused past its dead-after time (the acting cop asks the spare
 * to take it over, and the paused one resumes believing it still serves); metadata outages of
 * 1–15 s and windows of lost metadata responses; and, resolved from the epoch key when the fault
 * fires, the acting cop killed or paused past its lease (a standby takes over; the paused one
 * resumes believing it still acts). Each pause is observed as it starts and just before it ends:
 * whether the node then held the cop epoch or hosted a channel, and whether that moved while it
 * was stopped.
 */
final class DeploymentFaults {
  private final SimWorld world;
  private final RandomSource random;
  private final CopKnobs copKnobs;
  private final List<NodeId> copIds;
  private final List<String> channelHosts = new ArrayList<>();
  private final long windowNanos;
  private final TreeMap<String, Long> counts = new TreeMap<>();

  DeploymentFaults(SimWorld world, RandomSource random, CopKnobs copKnobs, List<NodeId> copIds, Map<String, List<NodeId>> hosts,
      long windowNanos) {
    this.world = world;
    this.random = random;
    this.copKnobs = copKnobs;
    this.copIds = List.copyOf(copIds);
    hosts.values().forEach(ids -> ids.forEach(id -> {
      if (!channelHosts.contains(id.value()) && !id.value().startsWith("spare")) {
        channelHosts.add(id.value());
      }
    }));
    this.windowNanos = windowNanos;
    for (String k : List.of("pauses", "pauses_over_lease", "pauses_over_dead_after", "acting_cop_pauses", "cop_deposed_while_paused",
        "channel_pauses", "channel_taken_over_while_paused", "acting_cop_kills", "channel_kills", "metadata_outages",
        "metadata_outage_ms", "metadata_lost_response_windows", "metadata_lost_response_ms", "supervisor_restarts")) {
      counts.put(k, 0L);
    }
  }

  /** The plan's extra timed faults (static targets); observers of the pauses are scheduled too. */
  List<FaultPlan.FaultAction> actions(List<String> everyone) {
    long ms = Simulator.MS;
    List<FaultPlan.FaultAction> actions = new ArrayList<>(FaultPlan.swarmPauses(random, everyone,
        List.of(copKnobs.leaseMs(), copKnobs.channelDeadAfterMs()), 1 + random.nextInt(6), windowNanos));
    if (random.chance(0.75)) {
      actions.addAll(FaultPlan.swarmMetadata(random, 1_000, 15_000, windowNanos));
    }
    if (random.chance(0.5)) {
      String host = random.pick(channelHosts);
      long at = random.nextLong(2_000 * ms, windowNanos * 3 / 4);
      actions.add(new FaultPlan.Crash(at, host));
      actions.add(new FaultPlan.Restart(Math.min(at + random.nextLong(1_000 * ms, 10_000 * ms), windowNanos - 1), host));
      counts.merge("channel_kills", 1L, Long::sum);
    }
    if (random.chance(0.5)) {
      String host = random.pick(channelHosts);
      long at = random.nextLong(2_000 * ms, windowNanos * 3 / 4);
      long length = (long) (copKnobs.channelDeadAfterMs() * ms * (1.2 + 1.8 * random.nextDouble()));
      actions.add(new FaultPlan.Pause(at, host, Math.min(at + length, windowNanos - 1)));
    }
    long outageOn = -1;
    long lostOn = -1;
    for (FaultPlan.FaultAction a : new FaultPlan(actions).actions()) {
      switch (a) {
        case FaultPlan.Pause p -> observe(p.atNanos(), p.resumeAtNanos(), () -> p.node());
        case FaultPlan.MetadataOutage o when o.down() -> outageOn = o.atNanos();
        case FaultPlan.MetadataOutage o -> {
          counts.merge("metadata_outages", 1L, Long::sum);
          counts.merge("metadata_outage_ms", (o.atNanos() - outageOn) / ms, Long::sum);
        }
        case FaultPlan.MetadataLostResponses w when w.on() -> lostOn = w.atNanos();
        case FaultPlan.MetadataLostResponses w -> {
          counts.merge("metadata_lost_response_windows", 1L, Long::sum);
          counts.merge("metadata_lost_response_ms", (w.atNanos() - lostOn) / ms, Long::sum);
        }
        default -> { }
      }
    }
    return actions;
  }

  /** The faults aimed at whichever cop acts when they fire (it is read from the epoch key then). */
  void scheduleTargeted() {
    long ms = Simulator.MS;
    Simulator sim = world.simulator();
    if (random.chance(0.5)) {
      long at = random.nextLong(2_000 * ms, windowNanos * 3 / 4);
      long down = random.nextLong(1_000 * ms, 10_000 * ms);
      sim.after(at, () -> actingCop().ifPresent(node -> {
        SimProcess p = world.process(node);
        if (p.up()) {
          p.crash();
          counts.merge("acting_cop_kills", 1L, Long::sum);
          sim.after(Math.max(1, Math.min(down, windowNanos - 1 - sim.nowNanos())), () -> {
            if (!p.up()) {
              p.start();
            }
          });
        }
      }));
    }
    if (random.chance(0.5)) {
      long at = random.nextLong(2_000 * ms, windowNanos * 3 / 4);
      long length = Math.min((long) (copKnobs.leaseMs() * ms * (1.2 + 1.8 * random.nextDouble())), windowNanos - 1 - at);
      String[] target = {null};
      sim.after(at, () -> actingCop().ifPresent(node -> {
        target[0] = node;
        new FaultPlan(List.of(new FaultPlan.Pause(0, node, length))).schedule(world);
      }));
      observe(at, at + length, () -> target[0]);
    }
  }

  /**
   * The role processes' supervisor: a channel process (a channel's own host or a spare) whose
   * channel instance was taken over by another host — fenced — exits, as a role process does, and
   * is restarted 0.5–3 s later; a primary host then takes its channel back, a spare comes back
   * idle. Checked every 200 ms, only while the process runs (a paused one cannot notice). Without
   * it a fenced instance never serves again: a channel whose host resumed fenced after a pause,
   * while its spare was taken by another dead channel, was served by nobody (deployment seed 966).
   */
  void superviseChannels(Map<Channel, SimProcess.Incarnation> runBy) {
    Simulator sim = world.simulator();
    long ms = Simulator.MS;
    Runnable[] check = {null};
    check[0] = () -> {
      for (Map.Entry<Channel, SimProcess.Incarnation> e : runBy.entrySet()) {
        SimProcess.Incarnation inc = e.getValue();
        SimProcess p = inc.process();
        if (e.getKey().state() == Channel.State.FENCED && inc.alive() && !inc.paused() && p.up() && p.incarnation() == inc) {
          p.crash();
          counts.merge("supervisor_restarts", 1L, Long::sum);
          sim.after(random.nextLong(500 * ms, 3_000 * ms), () -> {
            if (!p.up()) {
              p.start();
            }
          });
        }
      }
      sim.after(200 * ms, check[0]);
    };
    sim.after(200 * ms, check[0]);
  }

  /**
   * Watches one pause: just before it starts (same instant, scheduled earlier so it runs first) and
   * just before it ends, what the node was and what moved meanwhile.
   */
  private void observe(long atNanos, long resumeAtNanos, java.util.function.Supplier<String> node) {
    Simulator sim = world.simulator();
    long lengthMs = (resumeAtNanos - atNanos) / Simulator.MS;
    long[] copEpochBefore = {-1};
    String[] channelOf = {null};
    long[] channelEpochBefore = {-1};
    boolean[] counted = {false};
    // The targeted pause's node is known only when it fires: observe one nanosecond later.
    long startAt = node.get() == null ? atNanos + 1 : atNanos;
    sim.after(startAt, () -> {
      String n = node.get();
      if (n == null) {
        return;
      }
      SimProcess p = world.process(n);
      if (!p.up() || (p.paused() && startAt == atNanos)) {
        return; // down, or already stopped: this pause does nothing
      }
      counted[0] = true;
      counts.merge("pauses", 1L, Long::sum);
      if (lengthMs >= copKnobs.leaseMs()) {
        counts.merge("pauses_over_lease", 1L, Long::sum);
      }
      if (lengthMs >= copKnobs.channelDeadAfterMs()) {
        counts.merge("pauses_over_dead_after", 1L, Long::sum);
      }
      Optional<CopMeta> cop = copMeta();
      if (cop.isPresent() && cop.get().getNode().equals(n)) {
        counts.merge("acting_cop_pauses", 1L, Long::sum);
        copEpochBefore[0] = cop.get().getEpoch();
      }
      for (String channel : channelIdsHostedBy(n)) {
        counts.merge("channel_pauses", 1L, Long::sum);
        channelOf[0] = channel;
        channelEpochBefore[0] = channelMeta(channel).map(ChannelMeta::getEpoch).orElse(-1L);
      }
    });
    sim.after(resumeAtNanos, () -> {
      if (!counted[0]) {
        return;
      }
      if (copEpochBefore[0] >= 0 && copMeta().map(CopMeta::getEpoch).orElse(-1L) != copEpochBefore[0]) {
        counts.merge("cop_deposed_while_paused", 1L, Long::sum);
      }
      if (channelOf[0] != null && channelMeta(channelOf[0]).map(ChannelMeta::getEpoch).orElse(-1L) != channelEpochBefore[0]) {
        counts.merge("channel_taken_over_while_paused", 1L, Long::sum);
      }
    });
  }

  private Optional<String> actingCop() {
    return copMeta().map(CopMeta::getNode).filter(n -> copIds.contains(NodeId.of(n)));
  }

  private Optional<CopMeta> copMeta() {
    Optional<KeyValue> kv = world.metadata().peek(MetaKey.cop());
    try {
      return kv.isEmpty() ? Optional.empty() : Optional.of(CopMeta.parseFrom(kv.get().value()));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("undecodable cop epoch", e);
    }
  }

  private Optional<ChannelMeta> channelMeta(String channel) {
    Optional<KeyValue> kv = world.metadata().peek(MetaKey.channel(channel));
    try {
      return kv.isEmpty() ? Optional.empty() : Optional.of(ChannelMeta.parseFrom(kv.get().value()));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("undecodable channel key", e);
    }
  }

  /** The channels whose key names {@code node} as their host (a spare may host one). */
  private List<String> channelIdsHostedBy(String node) {
    List<String> ids = new ArrayList<>();
    for (String h : channelHosts) {
      String channel = h.substring(0, h.lastIndexOf('-'));
      if (!ids.contains(channel) && channelMeta(channel).map(m -> m.getNode().equals(node)).orElse(false)) {
        ids.add(channel);
      }
    }
    return ids;
  }

  /**
   * The {@code fault_counts:} line (the sweep sums it over seeds) with what the cell did about
   * them: cop terms (the epoch at the end), take-overs by cops, spare replacements, channel
   * incarnations that ended fenced, channel take-overs (the channel epochs at the end, summed).
   */
  String describe(List<Cop> cops, List<Channel> channels, SimWorld world) {
    TreeMap<String, Long> all = new TreeMap<>(counts);
    all.put("cop_terms", copMeta().map(CopMeta::getEpoch).orElse(0L));
    all.put("cop_takeovers", cops.stream().mapToLong(c -> c.counters().takeovers()).sum());
    all.put("spare_replacements", cops.stream().mapToLong(c -> c.counters().replacements()).sum());
    all.put("fenced_channel_incarnations", channels.stream().filter(c -> c.state() == Channel.State.FENCED).count());
    long channelEpochs = 0;
    List<String> seen = new ArrayList<>();
    for (String h : channelHosts) {
      String channel = h.substring(0, h.lastIndexOf('-'));
      if (!seen.contains(channel)) {
        seen.add(channel);
        channelEpochs += channelMeta(channel).map(ChannelMeta::getEpoch).orElse(0L);
      }
    }
    all.put("channel_takeovers", channelEpochs);
    StringBuilder sb = new StringBuilder("fault_counts:");
    all.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
    sb.append(String.format(Locale.ROOT, "%ndeployment: cop lease_ms=%d renew_ms=%d channel_dead_after_ms=%d", copKnobs.leaseMs(),
        copKnobs.renewMs(), copKnobs.channelDeadAfterMs()));
    return sb.toString();
  }
}
