package io.s2j.sim.cell;

import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.StreamName;
import io.s2j.cachey.Cachey;
import io.s2j.cachey.CacheyClient;
import io.s2j.cachey.CacheyKnobs;
import io.s2j.cachey.CacheyNode;
import io.s2j.cachey.CacheyRing;
import io.s2j.channel.Channel;
import io.s2j.channel.PlantedBug;
import io.s2j.channel.ChannelKnobs;
import io.s2j.bgtask.BgTask;
import io.s2j.frontend.Catalog;
import io.s2j.metadata.proto.SegmentHeadMeta;
import io.s2j.metadata.proto.SegmentMeta;
import io.s2j.metadata.proto.TrimMeta;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.frontend.DataPlane;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.StreamMeta;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.sim.FaultPlan;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import io.s2j.sim.Phases;
import io.s2j.sim.Scenario;
import io.s2j.sim.channel.AppendHistory;
import io.s2j.sim.history.StreamHistories;
import io.s2j.sim.channel.ChannelScenario;
import io.s2j.sim.channel.WalAudit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A cell: 1–3 frontends (each running its clients' workload through the frontend's catalog and
 * data path), two channels on one or two hosts each, 0–3 cachey nodes in one or two zones (segment
 * reads go through them), the metadata store and a bucket, under swarm faults (frontend, channel
 * and cachey crashes, partitions, store and metadata errors, clock skew). At the
 * end every stream's log is audited from the bucket (through the streamlet the metadata assigned
 * it) and the checks of the channel scenario are applied per stream: acknowledged appends at their
 * positions, definite failures absent, no duplicates, real-time order, reads that match the log and
 * are never stale, and liveness after healing.
 */
public final class CellScenario implements Scenario {
  static final long LIVENESS_BOUND_NANOS = Phases.LIVENESS_BOUND_NANOS;
  static final long DRAIN_NANOS = 15 * Simulator.SECOND;
  static final long STREAM_CACHE_TTL_NANOS = Simulator.SECOND;
  /** How long a frontend waits for a cachey node before reading the bucket itself. */
  static final long CACHEY_RPC_TIMEOUT_NANOS = 5 * Simulator.SECOND;

  @Override
  public String name() {
    return "cell";
  }

  private final PlantedBug bug;

  public CellScenario() {
    this(PlantedBug.NONE);
  }

  private CellScenario(PlantedBug bug) {
    this.bug = bug;
  }

  @Override
  public List<String> bugs() {
    return java.util.Arrays.stream(PlantedBug.values()).filter(b -> b != PlantedBug.NONE)
        .map(b -> b.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
  }

  @Override
  public Scenario withBug(String name) {
    return new CellScenario(PlantedBug.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_')));
  }

  @Override
  public Outcome run(long seed) {
    RandomSource root = RandomSource.seeded(seed);
    RandomSource draw = root.fork("scenario");
    FaultProfile profile = FaultProfile.swarm(root.fork("fault-profile"));
    SimWorld world = new SimWorld(seed, profile);
    int frontendCount = 1 + draw.nextInt(3);
    int streamCount = 1 + draw.nextInt(4);
    boolean express = draw.chance(0.5);
    long windowNanos = (10 + draw.nextInt(41)) * Simulator.SECOND;
    if (express) {
      world.bucket().setLatency(LatencyModel.S3_EXPRESS);
    }
    world.bucket().setRequestTimeoutNanos(2 * Simulator.SECOND);
    world.metadata().setRequestTimeoutNanos(Simulator.SECOND);

    ChannelKnobs knobs = ChannelKnobs.randomized(root.fork("knobs"));
    Map<String, List<NodeId>> hosts = new TreeMap<>();
    List<Channel> channels = new ArrayList<>(); // every incarnation, for counters
    List<String> crashable = new ArrayList<>();
    List<String> everyone = new ArrayList<>();
    List<SimProcess> late = new ArrayList<>();
    for (int c = 1; c <= 2; c++) {
      String channelId = "ch-" + c;
      List<NodeId> ids = new ArrayList<>();
      int hostCount = draw.chance(0.5) ? 2 : 1;
      for (int h = 0; h < hostCount; h++) {
        String host = channelId + "-" + (char) ('a' + h);
        SimProcess p = world.addProcess(host, env -> channels.add(new Channel(env, channelId, knobs, bug)));
        ids.add(p.id());
        crashable.add(host);
        everyone.add(host);
        if (h > 0) {
          late.add(p);
        }
      }
      hosts.put(channelId, ids);
    }
    ChannelDirectory directory = new ChannelDirectory(hosts);
    List<StreamName> streams = new ArrayList<>();
    for (int i = 0; i < streamCount; i++) {
      streams.add(new StreamName("stream-" + i));
    }
    AppendHistory history = new AppendHistory();
    StreamHistories histories = new StreamHistories();
    long[] stopIssuingAtNanos = {Long.MAX_VALUE};
    List<String> clientNames = new ArrayList<>();
    List<String> storageErrors = new ArrayList<>();
    // Cachey: 0-3 nodes over 1-2 zones, drawn from their own forks so that seeds without cachey
    // nodes run exactly as before cachey existed.
    RandomSource cacheyDraw = root.fork("cachey");
    int cacheyCount = cacheyDraw.nextInt(4);
    int zoneCount = 1 + cacheyDraw.nextInt(2);
    CacheyKnobs cacheyKnobs = CacheyKnobs.randomized(root.fork("cachey-knobs"));
    List<CacheyNode> cacheyNodes = new ArrayList<>();
    for (int c = 1; c <= cacheyCount; c++) {
      cacheyNodes.add(CacheyNode.of("cachey-" + c, "z" + (1 + (c - 1) % zoneCount)));
    }
    CacheyRing ring = new CacheyRing(cacheyNodes);
    List<Cachey> caches = new ArrayList<>(); // every incarnation, for counters
    List<CacheyClient> cacheyClients = new ArrayList<>();
    List<String> frontendZones = new ArrayList<>();
    LifecycleLedger ledger = new LifecycleLedger();
    List<String> lifecycleStreams = new ArrayList<>();
    for (int f = 1; f <= frontendCount; f++) {
      lifecycleStreams.add("life-" + f);
    }
    for (int f = 1; f <= frontendCount; f++) {
      String n = "fe-" + f;
      String zone = "z" + (1 + cacheyDraw.nextInt(zoneCount));
      String ownLifecycleStream = "life-" + f;
      frontendZones.add(n + "@" + zone);
      world.addProcess(n, env -> {
        Catalog catalog = new Catalog(env, STREAM_CACHE_TTL_NANOS, bug);
        CacheyClient objects = new CacheyClient(env, ring, zone, CACHEY_RPC_TIMEOUT_NANOS);
        cacheyClients.add(objects);
        DataPlane data = new DataPlane(env, catalog, directory, bug, objects);
        clientNames.add(new CellClient(env, catalog, data, streams, history, histories, stopIssuingAtNanos, storageErrors).name());
        new LifecycleClient(env, catalog, data, ledger, ownLifecycleStream, lifecycleStreams, stopIssuingAtNanos, storageErrors);
      });
      crashable.add(n);
      everyone.add(n);
    }
    // bgtask: one node (crashable like the rest); it frees a deleted stream's name two stream
    // cache TTLs after it saw the deletion.
    List<BgTask> bgTasks = new ArrayList<>(); // every incarnation, for counters
    world.addProcess("bg-1", env -> bgTasks.add(new BgTask(env, new Catalog(env, STREAM_CACHE_TTL_NANOS, bug), directory,
        new BgTask.Knobs(Simulator.SECOND, 2 * STREAM_CACHE_TTL_NANOS), bug)));
    crashable.add("bg-1");
    everyone.add("bg-1");
    for (CacheyNode node : cacheyNodes) {
      world.addProcess(node.node().value(), env -> caches.add(new Cachey(env, cacheyKnobs, bug)));
      crashable.add(node.node().value());
      everyone.add(node.node().value());
    }
    FaultPlan plan = FaultPlan.swarm(root.fork("fault-plan"), profile, crashable, everyone,
        List.of(SimWorld.DEFAULT_BUCKET), windowNanos);
    long healedAtNanos = Phases.run(world, plan, late, p -> draw.nextLong(0, windowNanos), windowNanos,
        stopIssuingAtNanos, DRAIN_NANOS);
    Simulator sim = world.simulator();

    List<String> violations = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    if (sim.failure() == null) {
      check(world, streams, history, healedAtNanos, frontendCount, violations);
      histories.check(violations, unknown);
      violations.addAll(ledger.violations());
      auditCollection(world, violations);
      for (String e : storageErrors) {
        violations.add("storage error (nothing in the cell corrupts or loses objects): " + e);
      }
    }
    long ok = history.attempts().stream().filter(a -> a.outcome() == AppendHistory.Outcome.OK).count();
    String description = String.format(Locale.ROOT,
        "appends=%d ok=%d reads=%d metadata_ops=%d session_requests_held_early=%d%nlinearizability: %s operations per stream %s%n%s%n%s%nbgtask: %s%nknobs: %s%nscenario=cell frontends=%d streams=%d hosts=%s bucket=%s window_s=%d%nfaults: %s%nplan:%n%s",
        history.attempts().size(), ok, history.reads().size(), world.metadata().operations(),
        channels.stream().mapToLong(Channel::sessionRequestsHeldEarly).sum(),
        sim.failure() != null ? "not checked" : unknown.isEmpty() ? "checked" : "unknown (budget) for " + unknown,
        histories.operationCounts(), describeCachey(cacheyNodes, frontendZones, cacheyKnobs, caches, cacheyClients),
        ledger.describe(), describeBgTasks(bgTasks),
        knobs, frontendCount, streamCount, hosts,
        express ? "express" : "standard", windowNanos / Simulator.SECOND, profile.describe(), plan.describe());
    return new Outcome(world, violations, description, dir -> histories.write(dir, CellClient.BASIN.value()));
  }

  /**
   * One line of cachey counters, summed over every incarnation of every node: page hits, misses
   * (GETs started), coalesced lookups (joined a GET in flight) and the hit rate (hits over all
   * page lookups), then what the frontends' clients did.
   */
  static String describeCachey(List<CacheyNode> nodes, List<String> frontendZones, CacheyKnobs knobs, List<Cachey> caches,
      List<CacheyClient> clients) {
    if (nodes.isEmpty()) {
      return "cachey: none (segments read from the bucket directly)";
    }
    long hits = 0;
    long misses = 0;
    long coalesced = 0;
    long hedges = 0;
    long hedgesWon = 0;
    long evictions = 0;
    long requests = 0;
    long failures = 0;
    long throttled = 0;
    for (Cachey c : caches) {
      throttled += c.counters().throttled();
      hits += c.counters().pageHits();
      misses += c.counters().pageMisses();
      coalesced += c.counters().pageCoalesced();
      hedges += c.counters().hedges();
      hedgesWon += c.counters().hedgesWon();
      evictions += c.counters().evictions();
      requests += c.counters().requests();
      failures += c.counters().failures();
    }
    long lookups = hits + misses + coalesced;
    long viaCachey = clients.stream().mapToLong(CacheyClient::answeredByCachey).sum();
    long failovers = clients.stream().mapToLong(CacheyClient::failovers).sum();
    long direct = clients.stream().mapToLong(CacheyClient::direct).sum();
    long refusals = clients.stream().mapToLong(CacheyClient::refusals).sum();
    return String.format(Locale.ROOT,
        "cachey: nodes=%s frontends=%s requests=%d page_hits=%d page_misses=%d page_coalesced=%d hit_rate=%.3f "
            + "hedges=%d hedges_won=%d evictions=%d store_failures=%d throttled=%d; frontends: answered_by_cachey=%d failovers=%d refusals=%d direct=%d; %s",
        nodes.stream().map(n -> n.node() + "@" + n.zone()).toList(), frontendZones, requests, hits, misses, coalesced,
        lookups == 0 ? 0.0 : (double) hits / lookups, hedges, hedgesWon, evictions, failures, throttled, viaCachey, failovers,
        refusals, direct, knobs);
  }

  private static void check(SimWorld world, List<StreamName> streams, AppendHistory history, long healedAtNanos,
      int frontendCount, List<String> violations) {
    // Which streamlet (and channel) holds each stream, from the metadata the catalog wrote.
    Map<Long, String> channelOfKey = new TreeMap<>();
    Map<Long, StreamletMeta> streamletOfKey = new TreeMap<>();
    Map<String, List<Long>> streamletsOfChannel = new TreeMap<>();
    for (int i = 0; i < streams.size(); i++) {
      long key = i + 1;
      StreamletMeta streamlet = streamletOf(world, streams.get(i), violations);
      String channel = streamlet == null ? "none" : streamlet.getChannelId();
      channelOfKey.put(key, channel);
      if (streamlet != null) {
        streamletOfKey.put(key, streamlet);
        streamletsOfChannel.computeIfAbsent(channel, c -> new ArrayList<>()).add(streamlet.getStreamletId());
      }
    }
    Map<String, TreeMap<Long, List<SequencedRecord>>> audited = new TreeMap<>();
    streamletsOfChannel.forEach((channel, ids) -> audited.put(channel, WalAudit.read(world, channel, ids, false, violations)));
    Map<String, TreeMap<Long, List<SequencedRecord>>> byKey = new LinkedHashMap<>();
    for (Map.Entry<Long, String> e : channelOfKey.entrySet()) {
      TreeMap<Long, List<SequencedRecord>> logs = byKey.computeIfAbsent(e.getValue(), c -> new TreeMap<>());
      StreamletMeta streamlet = streamletOfKey.get(e.getKey());
      if (streamlet != null) {
        logs.put(e.getKey(), audited.get(e.getValue()).getOrDefault(streamlet.getStreamletId(), List.of()));
      }
    }
    List<String> perClient = new ArrayList<>();
    ChannelScenario.check(history, byKey, channelOfKey, new TreeMap<>(), healedAtNanos, 0, perClient);
    violations.addAll(perClient);
    // Liveness per frontend: some client on it got an append acknowledged after healing.
    for (int f = 1; f <= frontendCount; f++) {
      String prefix = "fe-" + f + "#";
      boolean progressed = history.attempts().stream().anyMatch(a -> a.client.startsWith(prefix)
          && a.outcome() == AppendHistory.Outcome.OK && a.invokeNanos >= healedAtNanos
          && a.completeNanos <= healedAtNanos + LIVENESS_BOUND_NANOS);
      if (!progressed) {
        violations.add("liveness: no append through fe-" + f + " was acknowledged within "
            + LIVENESS_BOUND_NANOS / Simulator.SECOND + "s after faults healed");
      }
    }
  }

  /** bgtask's counters summed over its incarnations. */
  static String describeBgTasks(List<BgTask> tasks) {
    long[] c = new long[9];
    for (BgTask t : tasks) {
      BgTask.Counters k = t.counters();
      c[0] += k.rounds();
      c[1] += k.retentionTrims();
      c[2] += k.segmentsCollected();
      c[3] += k.terminalTrims();
      c[4] += k.streamsFinalised();
      c[5] += k.streamsPurged();
      c[6] += k.deletesOnEmpty();
      c[7] += k.chunksCollected();
      c[8] += k.failures();
    }
    return String.format(Locale.ROOT, "incarnations=%d rounds=%d retention_trims=%d segments_collected=%d terminal_trims=%d "
        + "streams_finalised=%d streams_purged=%d deletes_on_empty=%d chunks_collected=%d failed_steps=%d",
        tasks.size(), c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
  }

  /**
   * Garbage collection never took what metadata still points to, checked from the bucket and the
   * metadata at the end of the run: every segment in metadata has its object; the segments of every
   * live streamlet tile its records without a gap from at most its trim point (the larger of the
   * segment head's and the stream's retention trim point) up to its segment head.
   */
  static void auditCollection(SimWorld world, List<String> violations) {
    TreeMap<Long, Long> streamOfStreamlet = new TreeMap<>();
    TreeMap<Long, Long> retention = new TreeMap<>();
    TreeMap<Long, List<SegmentMeta>> segments = new TreeMap<>();
    TreeMap<Long, SegmentHeadMeta> heads = new TreeMap<>();
    try {
      for (KeyValue kv : world.metadata().entries()) {
        switch (MetaKey.typeOf(kv.key())) {
          case STREAMLET -> streamOfStreamlet.put(StreamletMeta.parseFrom(kv.value()).getStreamletId(), MetaKey.u64At(kv.key(), 0));
          case TRIM -> retention.put(MetaKey.u64At(kv.key(), 0), TrimMeta.parseFrom(kv.value()).getTrimPoint());
          case SEGMENT -> {
            SegmentMeta seg = SegmentMeta.parseFrom(kv.value());
            segments.computeIfAbsent(MetaKey.u64At(kv.key(), 0), k -> new ArrayList<>()).add(seg);
            if (world.bucket().peek(ObjectKey.of(seg.getObjectKey())) == null) {
              violations.add("gc: segment " + seg.getObjectKey() + " is in metadata but its object is gone");
            }
          }
          case SEGMENT_HEAD -> heads.put(MetaKey.u64At(kv.key(), 0), SegmentHeadMeta.parseFrom(kv.value()));
          default -> { }
        }
      }
    } catch (InvalidProtocolBufferException e) {
      violations.add("gc audit: undecodable metadata: " + e.getMessage());
      return;
    }
    heads.forEach((streamlet, head) -> {
      if (head.getDeleted() || !streamOfStreamlet.containsKey(streamlet)) {
        return;
      }
      long floor = Math.max(head.getTrimPoint(), retention.getOrDefault(streamOfStreamlet.get(streamlet), 0L));
      long next = -1;
      for (SegmentMeta seg : segments.getOrDefault(streamlet, List.of())) {
        if (next >= 0 && seg.getFirstSeqNum() != next) {
          violations.add("gc: streamlet " + streamlet + " has no segment for records " + next + ".." + seg.getFirstSeqNum());
        } else if (next < 0 && seg.getFirstSeqNum() > floor) {
          violations.add("gc: streamlet " + streamlet + " has no segment for records " + floor + ".." + seg.getFirstSeqNum()
              + " (at or above its trim point " + floor + ")");
        }
        next = seg.getFirstSeqNum() + seg.getRecordCount();
      }
      if (next < 0 && head.getNextSeqNum() > floor) {
        violations.add("gc: streamlet " + streamlet + " has no segment for records " + floor + ".." + head.getNextSeqNum());
      } else if (next >= 0 && next != head.getNextSeqNum()) {
        violations.add("gc: streamlet " + streamlet + "'s segments end at " + next + " but its head is at " + head.getNextSeqNum());
      }
    });
  }

  private static StreamletMeta streamletOf(SimWorld world, StreamName stream, List<String> violations) {
    var kv = world.metadata().peek(MetaKey.stream(CellClient.BASIN.value(), stream.value()));
    if (kv.isEmpty()) {
      return null;
    }
    try {
      long streamId = StreamMeta.parseFrom(kv.get().value()).getStreamId();
      StreamletMeta found = null;
      for (KeyValue e : world.metadata().entries()) {
        if (e.key().startsWith(MetaKey.streamletsPrefix(streamId))) {
          if (found != null) {
            violations.add(stream + " has more than one streamlet");
          }
          found = StreamletMeta.parseFrom(e.value());
        }
      }
      return found;
    } catch (InvalidProtocolBufferException e) {
      violations.add("undecodable metadata for " + stream);
      return null;
    }
  }
}
