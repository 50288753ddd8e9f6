package io.s2j.sim.channel;

import io.s2j.channel.Channel;
import io.s2j.channel.ChannelKnobs;
import io.s2j.channel.PlantedBug;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.sim.FaultPlan;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import io.s2j.sim.Phases;
import io.s2j.sim.Scenario;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Channels under swarm faults, with clients appending straight to them, and two hosts per channel
 * some of the time (each start takes the channel over, so the other becomes a zombie that must be
 * fenced). At the end the write-ahead logs are audited from the bucket, independently of the
 * channels, and every client outcome is checked against what the logs hold:
 *
 * <ol>
 *   <li>each streamlet's records are contiguous from 0 (the audit reports gaps and epochs going
 *       back inside a chain);
 *   <li>every acknowledged batch is in the log, at exactly the acknowledged positions, in order
 *       (nothing acknowledged is lost, and no zombie acknowledged a voided write); its ack's tail is
 *       at least its end;
 *   <li>no batch that failed definitely is in the log; no record is in the log twice;
 *   <li>real-time order per streamlet: a batch acknowledged before another was invoked precedes it;
 *   <li>a serving channel's durable tail equals the audited log;
 *   <li>liveness: after faults heal, every client gets an append acknowledged within 30 s.
 * </ol>
 */
public final class ChannelScenario implements Scenario {
  static final long LIVENESS_BOUND_NANOS = Phases.LIVENESS_BOUND_NANOS;
  static final long DRAIN_NANOS = 10 * Simulator.SECOND;

  private final PlantedBug bug;

  /** True for the targeted take-over regression: explicit topology, fault rates and plan. */
  private final boolean takeover;

  public ChannelScenario() {
    this(PlantedBug.NONE, false);
  }

  private ChannelScenario(PlantedBug bug, boolean takeover) {
    this.bug = bug;
    this.takeover = takeover;
  }

  /**
   * The hard case "a channel dies with chunk writes in flight; a new incarnation takes over; the
   * old one must never acknowledge again", written out: one channel on two hosts, the second
   * starting 3 s in while the first is busy, the first crashing at 6 s and taking the channel back
   * at 7 s, while the bucket loses responses (writes that time out but succeeded), applies slow
   * writes after their callers gave up, and throttles. Only latencies vary with the seed.
   */
  public static ChannelScenario takeover() {
    return new ChannelScenario(PlantedBug.NONE, true);
  }

  @Override
  public String name() {
    return takeover ? "channel-takeover" : "channel";
  }

  @Override
  public List<String> bugs() {
    // Its clients append straight to channels without sessions, tokens or cachey: frontend,
    // session, fencing, cachey, cop and express bugs have nothing to act on here (the cell scenario
    // plants them), and neither have trim, bgtask and catalog bugs (no trims, no bgtask, no catalog).
    java.util.Set<PlantedBug> inert = java.util.EnumSet.of(PlantedBug.NONE, PlantedBug.READ_SKIPS_AT_SEGMENT_BOUNDARY,
        PlantedBug.SESSION_UNORDERED, PlantedBug.SKIP_FENCING_CHECK, PlantedBug.CACHEY_WRONG_PAGE,
        PlantedBug.TRIM_EXPOSES_TRIMMED_RECORD, PlantedBug.GC_DELETES_REFERENCED_SEGMENT, PlantedBug.RECREATE_SEES_OLD_INCARNATION,
        PlantedBug.MIGRATION_LOSES_INFLIGHT_APPEND, PlantedBug.MIGRATION_READ_GAP, PlantedBug.TWO_COPS_ACT,
        PlantedBug.EXPRESS_ACK_ON_ONE_ZONE, PlantedBug.SPECULATION_ACKS_BEFORE_CONFIRM);
    return java.util.Arrays.stream(PlantedBug.values()).filter(b -> !inert.contains(b))
        .map(b -> b.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
  }

  @Override
  public Scenario withBug(String name) {
    return new ChannelScenario(PlantedBug.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_')), takeover);
  }

  @Override
  public Outcome run(long seed) {
    RandomSource root = RandomSource.seeded(seed);
    RandomSource draw = root.fork("scenario");
    FaultProfile profile = takeover
        ? new FaultProfile(0, 0, 0.02, 0, 0.05, 0, 0.05, 0, 0, 0, true, false, false, false)
        : FaultProfile.swarm(root.fork("fault-profile"));
    SimWorld world = new SimWorld(seed, profile);
    int channelCount = takeover ? 1 : 1 + draw.nextInt(2);
    int streamletCount = channelCount + draw.nextInt(5);
    int clientCount = 1 + draw.nextInt(4);
    boolean express = draw.chance(0.5);
    long windowNanos = takeover ? 12 * Simulator.SECOND : (10 + draw.nextInt(41)) * Simulator.SECOND;
    if (express) {
      world.bucket().setLatency(LatencyModel.S3_EXPRESS);
    }
    world.bucket().setRequestTimeoutNanos(2 * Simulator.SECOND);
    world.metadata().setRequestTimeoutNanos(Simulator.SECOND);
    // The explicit-plan regression keeps fixed knobs; the swarm scenario draws them per seed.
    ChannelKnobs knobs = takeover ? ChannelKnobs.SMALL : ChannelKnobs.randomized(root.fork("knobs"));

    Map<String, Channel> latest = new LinkedHashMap<>();
    Map<Long, List<NodeId>> hostsOf = new TreeMap<>();
    Map<Long, String> channelOf = new TreeMap<>();
    List<String> hostNames = new ArrayList<>();
    List<String> everyone = new ArrayList<>();
    List<SimProcess> late = new ArrayList<>();
    for (int c = 1; c <= channelCount; c++) {
      String channelId = "ch-" + c;
      int hosts = takeover || draw.chance(0.5) ? 2 : 1;
      List<NodeId> ids = new ArrayList<>();
      for (int h = 0; h < hosts; h++) {
        String host = channelId + "-" + (char) ('a' + h);
        SimProcess p = world.addProcess(host, env -> latest.put(host, new Channel(env, channelId, knobs, bug)));
        ids.add(p.id());
        hostNames.add(host);
        everyone.add(host);
        if (h > 0) {
          late.add(p);
        }
      }
      for (long s = c; s <= streamletCount; s += channelCount) {
        hostsOf.put(s, ids);
        channelOf.put(s, channelId);
      }
    }
    AppendHistory history = new AppendHistory();
    long[] stopIssuingAtNanos = {Long.MAX_VALUE};
    List<Long> streamletIds = new ArrayList<>(hostsOf.keySet());
    for (int i = 1; i <= clientCount; i++) {
      String n = "client-" + i;
      world.addProcess(n, env -> new ChannelClient(env, streamletIds, hostsOf, history, stopIssuingAtNanos));
      everyone.add(n);
    }
    FaultPlan plan = takeover
        ? new FaultPlan(List.of(new FaultPlan.Crash(6 * Simulator.SECOND, "ch-1-a"), new FaultPlan.Restart(7 * Simulator.SECOND, "ch-1-a")))
        : FaultPlan.swarm(root.fork("fault-plan"), profile, hostNames, everyone, List.of(SimWorld.DEFAULT_BUCKET), windowNanos);
    // Second hosts start a while in: a take-over of a channel that is busy serving.
    long healedAtNanos = Phases.run(world, plan, late,
        p -> takeover ? 3 * Simulator.SECOND : draw.nextLong(0, windowNanos), windowNanos, stopIssuingAtNanos, DRAIN_NANOS);
    Simulator sim = world.simulator();

    List<String> violations = new ArrayList<>();
    if (sim.failure() == null) {
      Map<String, TreeMap<Long, List<SequencedRecord>>> logs = new TreeMap<>();
      for (int c = 1; c <= channelCount; c++) {
        String channelId = "ch-" + c;
        List<Long> mine = new ArrayList<>();
        channelOf.forEach((sid, ch) -> {
          if (ch.equals(channelId)) {
            mine.add(sid);
          }
        });
        logs.put(channelId, WalAudit.read(world, channelId, mine, violations));
      }
      check(history, logs, channelOf, latest, healedAtNanos, clientCount, violations);
      checkSegments(world, logs, channelOf, violations);
    }
    long segments = world.metadata().entries().stream()
        .filter(kv -> io.s2j.metadata.MetaKey.typeOf(kv.key()) == io.s2j.metadata.MetaKey.Type.SEGMENT).count();
    long ok = history.attempts().stream().filter(a -> a.outcome() == AppendHistory.Outcome.OK).count();
    long info = history.attempts().stream().filter(a -> a.outcome() == AppendHistory.Outcome.INFO).count();
    String description = String.format(Locale.ROOT,
        "appends=%d ok=%d indefinite=%d reads=%d segments=%d%nknobs: %s%n"
        + "scenario=%s bug=%s channels=%d streamlets=%d clients=%d hosts=%s bucket=%s window_s=%d%nfaults: %s%nplan:%n%s",
        history.attempts().size(), ok, info, history.reads().size(), segments, knobs, name(),
        bug.name().toLowerCase(Locale.ROOT).replace('_', '-'), channelCount, streamletCount, clientCount, hostNames, express ? "express" : "standard",
        windowNanos / Simulator.SECOND, profile.describe(), plan.describe());
    return new Outcome(world, violations, description);
  }

  public static void check(AppendHistory history, Map<String, TreeMap<Long, List<SequencedRecord>>> logs,
      Map<Long, String> channelOf, Map<String, Channel> latest, long healedAtNanos, int clientCount, List<String> violations) {
    TreeMap<String, String> placeOfBody = new TreeMap<>();
    for (Map.Entry<String, TreeMap<Long, List<SequencedRecord>>> log : logs.entrySet()) {
      for (Map.Entry<Long, List<SequencedRecord>> s : log.getValue().entrySet()) {
        for (SequencedRecord r : s.getValue()) {
          String where = "streamlet " + s.getKey() + " seq " + r.seqNum();
          String previous = placeOfBody.put(r.body().toStringUtf8(), where);
          if (previous != null) {
            violations.add("record " + r.body().toStringUtf8() + " is in the log twice: " + previous + " and " + where);
          }
        }
      }
    }
    // Per streamlet log: timestamps never go backwards, and the fencing token in effect before each seq.
    TreeMap<Long, List<String>> tokenBefore = new TreeMap<>();
    for (Map.Entry<String, TreeMap<Long, List<SequencedRecord>>> log : logs.entrySet()) {
      for (Map.Entry<Long, List<SequencedRecord>> s : log.getValue().entrySet()) {
        List<String> tokens = new ArrayList<>();
        String token = "";
        long lastTimestamp = 0;
        for (SequencedRecord r : s.getValue()) {
          tokens.add(token);
          if (r.timestamp() < lastTimestamp) {
            violations.add("streamlet " + s.getKey() + " seq " + r.seqNum() + ": timestamp " + r.timestamp()
                + " is below the previous record's " + lastTimestamp);
          }
          lastTimestamp = Math.max(lastTimestamp, r.timestamp());
          if (io.s2j.record.Command.isCommand(r.headers()) && r.headers().get(0).value().equals(io.s2j.record.Command.FENCE)) {
            token = r.body().toStringUtf8();
          }
        }
        tokens.add(token);
        tokenBefore.put(s.getKey(), tokens);
      }
    }
    TreeMap<Long, List<AppendHistory.Attempt>> acked = new TreeMap<>();
    for (AppendHistory.Attempt a : history.attempts()) {
      List<SequencedRecord> log = logs.get(channelOf.get(a.streamlet)).getOrDefault(a.streamlet, List.of());
      switch (a.outcome()) {
        case OK -> {
          acked.computeIfAbsent(a.streamlet, k -> new ArrayList<>()).add(a);
          long start = a.ack.getStart().getSeqNum();
          long end = a.ack.getEnd().getSeqNum();
          if (end - start != a.bodies.size() || a.ack.getTail().getSeqNum() < end) {
            violations.add("malformed ack: " + a);
          }
          if (a.matchSeqNum != null && start != a.matchSeqNum) {
            violations.add("append with match_seq_num " + a.matchSeqNum + " was acknowledged at " + start + ": " + a);
          }
          List<String> tokens = tokenBefore.getOrDefault(a.streamlet, List.of(""));
          if (a.fencingToken != null && start < tokens.size() && !tokens.get((int) start).equals(a.fencingToken)) {
            violations.add("append with fencing token '" + a.fencingToken + "' was acknowledged at " + start
                + " where the token was '" + tokens.get((int) start) + "': " + a);
          }
          for (int i = 0; i < a.bodies.size(); i++) {
            long seq = start + i;
            if (seq >= log.size() || !log.get((int) seq).body().toStringUtf8().equals(a.bodies.get(i))) {
              violations.add("acknowledged record " + a.bodies.get(i) + " is not at seq " + seq + " of the log: " + a);
              break;
            }
          }
        }
        case FAIL -> {
          for (String body : a.bodies) {
            if (placeOfBody.containsKey(body)) {
              violations.add("definitely failed append is in the log (" + placeOfBody.get(body) + "): " + a);
              break;
            }
          }
        }
        default -> { }
      }
    }
    for (List<AppendHistory.Attempt> list : acked.values()) {
      List<AppendHistory.Attempt> byComplete = new ArrayList<>(list);
      byComplete.sort(Comparator.comparingLong(a -> a.completeNanos));
      List<AppendHistory.Attempt> byInvoke = new ArrayList<>(list);
      byInvoke.sort(Comparator.comparingLong(a -> a.invokeNanos));
      int c = 0;
      AppendHistory.Attempt maxEnd = null;
      for (AppendHistory.Attempt a : byInvoke) {
        while (c < byComplete.size() && byComplete.get(c).completeNanos < a.invokeNanos) {
          AppendHistory.Attempt done = byComplete.get(c++);
          if (maxEnd == null || done.ack.getEnd().getSeqNum() > maxEnd.ack.getEnd().getSeqNum()) {
            maxEnd = done;
          }
        }
        if (maxEnd != null && a.ack.getStart().getSeqNum() < maxEnd.ack.getEnd().getSeqNum()) {
          violations.add("real-time order: " + a + " starts before the end of " + maxEnd + ", acknowledged before it began");
        }
      }
    }
    checkReads(history, logs, channelOf, acked, violations);
    // The newest incarnation of each channel (highest epoch) must hold exactly the audited log; an
    // older one may still be serving unawares, as a zombie that nobody has sent an append to.
    TreeMap<String, Channel> newest = new TreeMap<>();
    for (Map.Entry<String, Channel> e : latest.entrySet()) {
      String channelId = e.getKey().substring(0, e.getKey().lastIndexOf('-'));
      Channel ch = e.getValue();
      if (ch.state() == Channel.State.SERVING && (!newest.containsKey(channelId) || newest.get(channelId).epoch() < ch.epoch())) {
        newest.put(channelId, ch);
      }
    }
    for (Map.Entry<Long, String> s : channelOf.entrySet()) {
      Channel ch = newest.get(s.getValue());
      if (ch == null) {
        continue;
      }
      var tail = ch.durableTail(s.getKey());
      long audited = logs.get(s.getValue()).getOrDefault(s.getKey(), List.of()).size();
      if ((tail == null ? 0 : tail.seqNum()) != audited) {
        violations.add("newest serving incarnation of " + s.getValue() + " has streamlet " + s.getKey() + " at tail "
            + (tail == null ? "unknown" : tail.seqNum()) + " but its log holds " + audited + " records");
      }
    }
    for (int i = 1; i <= clientCount; i++) {
      String client = "client-" + i;
      boolean progressed = history.attempts().stream().anyMatch(a -> a.client.equals(client) && a.outcome() == AppendHistory.Outcome.OK
          && a.invokeNanos >= healedAtNanos && a.completeNanos <= healedAtNanos + LIVENESS_BOUND_NANOS);
      if (!progressed) {
        violations.add("liveness: " + client + " had no append acknowledged within "
            + LIVENESS_BOUND_NANOS / Simulator.SECOND + "s after faults healed");
      }
    }
  }

  /** Reads return the log's records at their positions, and never a tail older than an ack that completed before them. */
  public static void checkReads(AppendHistory history, Map<String, TreeMap<Long, List<SequencedRecord>>> logs,
      Map<Long, String> channelOf, TreeMap<Long, List<AppendHistory.Attempt>> acked, List<String> violations) {
    for (AppendHistory.Read r : history.reads()) {
      List<SequencedRecord> log = logs.get(channelOf.get(r.streamlet())).getOrDefault(r.streamlet(), List.of());
      boolean tailKnown = r.tail() >= 0;
      if (tailKnown && r.tail() > log.size()) {
        violations.add("read reports tail " + r.tail() + " beyond the log's " + log.size() + ": " + r);
      }
      if (!r.bodies().isEmpty()) {
        if (r.firstSeqNum() != r.start() || (tailKnown && r.start() + r.bodies().size() > r.tail())) {
          violations.add("read returned records not starting at its start or past its tail: " + r);
        }
        for (int i = 0; i < r.bodies().size(); i++) {
          long seq = r.firstSeqNum() + i;
          if (seq >= log.size() || !log.get((int) seq).body().toStringUtf8().equals(r.bodies().get(i))) {
            violations.add("read returned " + r.bodies().get(i) + " at seq " + seq + " which the log does not hold there: " + r);
            break;
          }
        }
      } else if (tailKnown && r.recordsMax() > 0 && r.start() >= r.firstHeld() && r.start() < r.tail()) {
        violations.add("read returned nothing although records were held between its start and the tail: " + r);
      }
      long ackedBefore = 0;
      for (AppendHistory.Attempt a : acked.getOrDefault(r.streamlet(), List.of())) {
        if (a.completeNanos < r.invokeNanos()) {
          ackedBefore = Math.max(ackedBefore, a.ack.getEnd().getSeqNum());
        }
      }
      if (tailKnown && r.tail() < ackedBefore) {
        violations.add("stale read: tail " + r.tail() + " although records up to " + ackedBefore
            + " were acknowledged before the read began: " + r);
      }
    }
  }

  /** Every segment in metadata holds exactly the log's records of its range; a streamlet's segments tile it from 0. */
  static void checkSegments(SimWorld world, Map<String, TreeMap<Long, List<SequencedRecord>>> logs,
      Map<Long, String> channelOf, List<String> violations) {
    TreeMap<Long, Long> nextExpected = new TreeMap<>();
    for (io.s2j.runtime.metadata.KeyValue kv : world.metadata().entries()) {
      if (io.s2j.metadata.MetaKey.typeOf(kv.key()) != io.s2j.metadata.MetaKey.Type.SEGMENT) {
        continue;
      }
      long streamlet = io.s2j.metadata.MetaKey.u64At(kv.key(), 0);
      io.s2j.metadata.proto.SegmentMeta meta;
      try {
        meta = io.s2j.metadata.proto.SegmentMeta.parseFrom(kv.value());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        violations.add("undecodable segment metadata for streamlet " + streamlet);
        continue;
      }
      long expected = nextExpected.getOrDefault(streamlet, 0L);
      if (meta.getFirstSeqNum() != expected) {
        violations.add("streamlet " + streamlet + ": segment starts at " + meta.getFirstSeqNum() + ", expected " + expected);
      }
      nextExpected.put(streamlet, meta.getFirstSeqNum() + meta.getRecordCount());
      var bytes = world.bucket().peek(io.s2j.runtime.objectstore.ObjectKey.of(meta.getObjectKey()));
      if (bytes == null) {
        violations.add("segment object " + meta.getObjectKey() + " recorded in metadata is missing");
        continue;
      }
      List<SequencedRecord> records = io.s2j.format.Segment.parse(bytes).records();
      List<SequencedRecord> log = logs.get(channelOf.get(streamlet)).getOrDefault(streamlet, List.of());
      long end = meta.getFirstSeqNum() + meta.getRecordCount();
      if (records.size() != meta.getRecordCount() || end > log.size()
          || !records.equals(log.subList((int) meta.getFirstSeqNum(), (int) end))) {
        violations.add("segment " + meta.getObjectKey() + " does not hold the log's records of its range");
      }
    }
  }
}
