package io.s2j.sim.cell;

import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamName;
import io.s2j.cachey.Cachey;
import io.s2j.cachey.CacheyClient;
import io.s2j.cachey.CacheyKnobs;
import io.s2j.cachey.CacheyNode;
import io.s2j.cachey.CacheyRing;
import io.s2j.channel.Channel;
import io.s2j.channel.PlantedBug;
import io.s2j.channel.ChannelHost;
import io.s2j.channel.ChannelKnobs;
import io.s2j.bgtask.BgTask;
import io.s2j.cop.Cop;
import io.s2j.cop.CopClient;
import io.s2j.cop.CopKnobs;
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
import io.s2j.storage.HedgedObjectStore;
import io.s2j.storage.QuorumObjectStore;
import io.s2j.storage.StorageClassRouter;
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
 * and cachey crashes, partitions, store and metadata errors, clock skew, zone outages). In half the
 * seeds the cell is an express cell: three zonal buckets, an express channel whose log is on a
 * quorum of them, and streams of both storage classes. At the
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

  /** The zones of an express cell, one zonal bucket each ({@code zone-a} …). */
  static final List<String> ZONES = List.of("a", "b", "c");

  @Override
  public String name() {
    return deployment ? "deployment" : zoneOutage ? "zone-outage" : "cell";
  }

  private final PlantedBug bug;
  /** The zone-outage variant (see {@link #zoneOutage()}). */
  private final boolean zoneOutage;
  /** The deployment variant (see {@link #deployment()}). */
  private final boolean deployment;

  /** Speculative migration (channel knob), on unless measuring without it. */
  private final boolean speculative;

  public CellScenario() {
    this(PlantedBug.NONE, false, false, true);
  }

  private CellScenario(PlantedBug bug, boolean zoneOutage, boolean deployment, boolean speculative) {
    this.bug = bug;
    this.zoneOutage = zoneOutage;
    this.deployment = deployment;
    this.speculative = speculative;
  }

  @Override
  public Scenario withSpeculation(boolean on) {
    return new CellScenario(bug, zoneOutage, deployment, on);
  }

  /**
   * The cell in the shape of the multi-process deployment test (2 frontends, 3 channels on one
   * process each, 1–2 spare channel hosts, 2 cachey nodes, 2 cops contending for the epoch, bgtask;
   * standard storage) under the faults of a deployment on several machines, on top of the cell's
   * swarm: process pauses (SIGSTOP/SIGCONT, GC, VM stalls) with lengths drawn around the cop's
   * lease and the channels' dead-after time, the acting cop killed or paused (found from the
   * epoch key when the fault fires), a channel process killed or paused past its dead-after time
   * (so a spare takes it over while the paused one later resumes as a zombie), metadata outages
   * of seconds and windows of lost metadata responses (etcd electing a leader). As the role
   * processes do, a channel process whose channel was taken over (fenced) exits and its
   * supervisor restarts it (see {@link DeploymentFaults#superviseChannels}). 30–60 s windows; the
   * cell's checks, and a line of fault counts the sweep pools.
   */
  public static CellScenario deployment() {
    return new CellScenario(PlantedBug.NONE, false, true, true);
  }

  /**
   * The cell with express streams only, under two zone outages of different zones, one after the
   * other, in a 60 s window; the express channel's one host is crashed and restarted during each
   * and between them, so its log is recovered with a zone down, with every zone back, and with another
   * zone down. Store and metadata error rates and clock skew are swarmed, but no network fault, no
   * other crash, partition or outage, so that progress during each outage can be required: some append must be
   * acknowledged while the zone is still down, after the recovery.
   */
  public static CellScenario zoneOutage() {
    return new CellScenario(PlantedBug.NONE, true, false, true);
  }

  @Override
  public List<String> bugs() {
    return java.util.Arrays.stream(PlantedBug.values()).filter(b -> b != PlantedBug.NONE)
        .map(b -> b.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
  }

  @Override
  public Scenario withBug(String name) {
    return new CellScenario(PlantedBug.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_')), zoneOutage, deployment, speculative);
  }

  @Override
  public Outcome run(long seed) {
    RandomSource root = RandomSource.seeded(seed);
    RandomSource draw = root.fork("scenario");
    FaultProfile profile = FaultProfile.swarm(root.fork("fault-profile"));
    if (zoneOutage) {
      // Store and metadata error rates stay swarmed; network drops do not: a dropped RPC holds a
      // client (one operation at a time) for the frontends' 10 s timeout, and two in a row would
      // fail the progress check for reasons that have nothing to do with storage (seed 175 did).
      profile = new FaultProfile(0, 0, profile.storeThrottleRate(),
          profile.storeServerErrorRate(), profile.storeLostResponseRate(), profile.storeLostRequestRate(),
          profile.storeSlowRate(), profile.metaUnavailableRate(), profile.metaLostResponseRate(), profile.clockSkewMaxMs(),
          false, false, false, false, false);
    }
    SimWorld world = new SimWorld(seed, profile);
    int frontendCount = deployment ? 2 : 1 + draw.nextInt(3);
    int streamCount = (deployment ? 2 : 1) + draw.nextInt(deployment ? 3 : 4);
    // Express cells (half the seeds): three zonal buckets, an express channel whose log is written
    // to a quorum of them, and streams of both classes. Drawn from their own fork, so that other
    // seeds run as they did before express storage existed.
    boolean express = !deployment && (draw.chance(0.5) || zoneOutage);
    long windowNanos = zoneOutage ? 60 * Simulator.SECOND
        : deployment ? (30 + draw.nextInt(31)) * Simulator.SECOND : (10 + draw.nextInt(41)) * Simulator.SECOND;
    RandomSource expressDraw = root.fork("express");
    List<String> zones = express ? ZONES : List.of();
    for (String z : zones) {
      world.addZonalBucket("zone-" + z, LatencyModel.S3_EXPRESS, z).setRequestTimeoutNanos(2 * Simulator.SECOND);
    }
    world.bucket().setRequestTimeoutNanos(2 * Simulator.SECOND);
    world.metadata().setRequestTimeoutNanos(Simulator.SECOND);

    ChannelKnobs knobs = ChannelKnobs.randomized(root.fork("knobs")).withSpeculativeMigration(speculative);
    Map<String, List<NodeId>> hosts = new TreeMap<>();
    List<Channel> channels = new ArrayList<>(); // every incarnation, for counters
    List<String> crashable = new ArrayList<>();
    List<String> everyone = new ArrayList<>();
    List<SimProcess> late = new ArrayList<>();
    // In the deployment variant, which incarnation of which process runs each channel instance (for
    // the supervisor that restarts a process whose channel was taken over).
    Map<Channel, SimProcess.Incarnation> runBy = new LinkedHashMap<>();
    java.util.function.Consumer<Channel> started = c -> {
      channels.add(c);
      if (deployment) {
        runBy.put(c, world.simulator().running());
      }
    };
    for (int c = 1; c <= (deployment ? 3 : 2); c++) {
      String channelId = "ch-" + c;
      List<NodeId> ids = new ArrayList<>();
      int hostCount = deployment ? 1 : draw.chance(0.5) ? 2 : 1;
      for (int h = 0; h < hostCount; h++) {
        String host = channelId + "-" + (char) ('a' + h);
        SimProcess p = world.addProcess(host, env -> started.accept(new Channel(env, channelId, knobs, bug)));
        ids.add(p.id());
        crashable.add(host);
        everyone.add(host);
        if (h > 0) {
          late.add(p);
        }
      }
      hosts.put(channelId, ids);
    }
    Map<String, StorageClass> classes = new TreeMap<>();
    List<String> expressHosts = new ArrayList<>();
    if (express) {
      String channelId = "xch-1";
      List<NodeId> ids = new ArrayList<>();
      // One host in zone-outage: its crashes test recovery with a zone down; two incarnations
      // fencing at once while a zone is down can block (see the design's limits), and the cell's
      // swarm covers take-over races.
      int hostCount = expressDraw.chance(0.5) && !zoneOutage ? 2 : 1;
      for (int h = 0; h < hostCount; h++) {
        String host = channelId + "-" + (char) ('a' + h);
        SimProcess p = world.addProcess(host, env -> channels.add(new Channel(env, channelId, knobs, bug)));
        ids.add(p.id());
        expressHosts.add(host);
        if (!zoneOutage) {
          crashable.add(host);
        }
        everyone.add(host);
        if (h > 0) {
          late.add(p);
        }
      }
      hosts.put(channelId, ids);
      classes.put(channelId, StorageClass.EXPRESS);
    }
    // Cops: 1-2 instances contending for the epoch, and 0-1 spare channel hosts the acting cop
    // starts a dead channel on (drawn from their own forks).
    RandomSource copDraw = root.fork("cop");
    int copCount = deployment ? 2 : 1 + copDraw.nextInt(2);
    List<NodeId> spares = new ArrayList<>();
    int spareCount = deployment ? 1 + draw.nextInt(2) : copDraw.chance(0.5) ? 1 : 0;
    for (int sp = 1; sp <= spareCount; sp++) {
      String n = "spare-" + sp;
      SimProcess p = world.addProcess(n, env -> new ChannelHost(env, knobs, bug, started));
      spares.add(p.id());
      crashable.add(n);
      everyone.add(n);
      hosts.replaceAll((c, ids) -> {
        List<NodeId> withSpare = new ArrayList<>(ids);
        withSpare.add(p.id());
        return withSpare;
      });
    }
    ChannelDirectory directory = new ChannelDirectory(hosts, classes);
    // Scale-out (deployment only): channel ch-4 starts mid-window and registers itself; every cop,
    // frontend and bgtask incarnation re-reads the "registry" every REGISTRY_REFRESH_NANOS, as role
    // processes do (its own fork: the other draws stay as they were).
    ChannelDirectory[] registry = {directory};
    SimProcess joining = null;
    long joinAtNanos = -1;
    if (deployment) {
      RandomSource scaleDraw = root.fork("scale-out");
      joinAtNanos = scaleDraw.nextLong(windowNanos / 4, windowNanos * 3 / 4);
      Map<String, List<NodeId>> grownHosts = new TreeMap<>(hosts);
      List<NodeId> ids = new ArrayList<>();
      ids.add(NodeId.of(JOINING_CHANNEL + "-a"));
      ids.addAll(spares);
      grownHosts.put(JOINING_CHANNEL, ids);
      ChannelDirectory grown = new ChannelDirectory(grownHosts, classes);
      joining = world.addProcess(JOINING_CHANNEL + "-a", env -> {
        started.accept(new Channel(env, JOINING_CHANNEL, knobs, bug));
        registry[0] = grown; // registered (permanently) as it starts
      });
      late.add(joining);
    }
    java.util.function.Function<io.s2j.runtime.Env, io.s2j.runtime.View<ChannelDirectory>> directoryView =
        env -> deployment ? followed(env, registry) : io.s2j.runtime.View.of(directory);
    CopKnobs copKnobs = CopKnobs.randomized(root.fork("cop-knobs"));
    List<Cop> cops = new ArrayList<>(); // every incarnation, for counters
    List<NodeId> copIds = new ArrayList<>();
    for (int c = 1; c <= copCount; c++) {
      String n = "cop-" + c;
      SimProcess p = world.addProcess(n, env -> cops.add(new Cop(env, copKnobs, directoryView.apply(env),
          io.s2j.runtime.View.of(List.copyOf(spares)), bug)));
      copIds.add(p.id());
      crashable.add(n);
      everyone.add(n);
    }
    List<QuorumObjectStore> quorums = new ArrayList<>(); // every incarnation's, for counters
    List<HedgedObjectStore> hedged = new ArrayList<>();
    // Every process sees the regional bucket with hedged creates, and, in an express cell, express
    // channels' logs on the quorum of zonal buckets.
    world.setStoreComposer((node, scheduler, bucket) -> {
      HedgedObjectStore regional = new HedgedObjectStore(scheduler, bucket.apply(SimWorld.DEFAULT_BUCKET),
          HedgedObjectStore.STANDARD_HEDGE_AFTER_NANOS);
      hedged.add(regional);
      if (!express) {
        return regional;
      }
      List<io.s2j.runtime.objectstore.ObjectStore> zonal = new ArrayList<>();
      for (String z : zones) {
        HedgedObjectStore replica = new HedgedObjectStore(scheduler, bucket.apply("zone-" + z),
            HedgedObjectStore.EXPRESS_HEDGE_AFTER_NANOS);
        hedged.add(replica);
        zonal.add(replica);
      }
      QuorumObjectStore quorum = new QuorumObjectStore(scheduler, zonal, bug == PlantedBug.EXPRESS_ACK_ON_ONE_ZONE);
      quorums.add(quorum);
      return new StorageClassRouter(scheduler, regional, quorum, id -> directory.storageClasses().get(id) == StorageClass.EXPRESS);
    });
    List<StreamName> streams = new ArrayList<>();
    List<StorageClass> streamClasses = new ArrayList<>();
    for (int i = 0; i < streamCount; i++) {
      streams.add(new StreamName("stream-" + i));
      if (express) {
        streamClasses.add(zoneOutage || expressDraw.chance(0.6) ? StorageClass.EXPRESS : StorageClass.STANDARD);
      }
    }
    AppendHistory history = new AppendHistory();
    StreamHistories histories = new StreamHistories();
    long[] stopIssuingAtNanos = {Long.MAX_VALUE};
    List<String> clientNames = new ArrayList<>();
    List<String> storageErrors = new ArrayList<>();
    // Cachey: 0-3 nodes over 1-2 zones, drawn from their own forks so that seeds without cachey
    // nodes run exactly as before cachey existed.
    RandomSource cacheyDraw = root.fork("cachey");
    int cacheyCount = deployment ? 2 : cacheyDraw.nextInt(4);
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
    List<DataPlane> dataPlanes = new ArrayList<>();
    for (int f = 1; f <= frontendCount; f++) {
      String n = "fe-" + f;
      String zone = "z" + (1 + cacheyDraw.nextInt(zoneCount));
      String ownLifecycleStream = "life-" + f;
      frontendZones.add(n + "@" + zone);
      world.addProcess(n, env -> {
        Catalog catalog = new Catalog(env, STREAM_CACHE_TTL_NANOS, bug);
        CacheyClient objects = new CacheyClient(env, ring, zone, CACHEY_RPC_TIMEOUT_NANOS);
        cacheyClients.add(objects);
        DataPlane data = new DataPlane(env, catalog, directoryView.apply(env), bug, objects).withActivator(new CopClient(env, copIds));
        dataPlanes.add(data);
        clientNames.add(new CellClient(env, catalog, data, streams, streamClasses, history, histories, stopIssuingAtNanos,
            storageErrors).name());
        new LifecycleClient(env, catalog, data, ledger, ownLifecycleStream, lifecycleStreams, stopIssuingAtNanos, storageErrors);
      });
      crashable.add(n);
      everyone.add(n);
    }
    // bgtask: one node (crashable like the rest); it frees a deleted stream's name two stream
    // cache TTLs after it saw the deletion.
    List<BgTask> bgTasks = new ArrayList<>(); // every incarnation, for counters
    world.addProcess("bg-1", env -> bgTasks.add(new BgTask(env, new Catalog(env, STREAM_CACHE_TTL_NANOS, bug), directoryView.apply(env),
        new BgTask.Knobs(Simulator.SECOND, 2 * STREAM_CACHE_TTL_NANOS), bug).withActivator(new CopClient(env, copIds))));
    crashable.add("bg-1");
    everyone.add("bg-1");
    for (CacheyNode node : cacheyNodes) {
      world.addProcess(node.node().value(), env -> caches.add(new Cachey(env, cacheyKnobs, bug)));
      crashable.add(node.node().value());
      everyone.add(node.node().value());
    }
    FaultPlan plan = FaultPlan.swarm(root.fork("fault-plan"), profile, crashable, everyone,
        List.of(SimWorld.DEFAULT_BUCKET), zones, windowNanos);
    // The zone-outage plan (60 s window): zone A down 6–30 s, zone B down 33–55 s; the express
    // host crashed 1 s into each outage and 1 s after the first (restarted 1 s later), so the log is
    // recovered with A down, with all zones back (A lacking what was written without it), and with
    // B down (what was written without A now on one reachable zone plus A after roll-forward).
    long s = Simulator.SECOND;
    // (Outages outlast the frontends' 10 s RPC timeout: an append in flight to a crashed host holds
    // its client that long.)
    long[][] outages = {{6 * s, 30 * s}, {33 * s, 55 * s}};
    long[] crashes = {7 * s, 31 * s, 34 * s};
    if (zoneOutage) {
      String first = expressDraw.pick(zones);
      String second = zones.get((zones.indexOf(first) + 1 + expressDraw.nextInt(zones.size() - 1)) % zones.size());
      List<FaultPlan.FaultAction> actions = new ArrayList<>(plan.actions());
      actions.add(new FaultPlan.ZoneOutage(outages[0][0], first, true));
      actions.add(new FaultPlan.ZoneOutage(outages[0][1], first, false));
      actions.add(new FaultPlan.ZoneOutage(outages[1][0], second, true));
      actions.add(new FaultPlan.ZoneOutage(outages[1][1], second, false));
      for (long at : crashes) {
        actions.add(new FaultPlan.Crash(at, expressHosts.get(0)));
        actions.add(new FaultPlan.Restart(at + s, expressHosts.get(0)));
      }
      plan = new FaultPlan(actions);
    }
    DeploymentFaults deploymentFaults = null;
    if (deployment) {
      deploymentFaults = new DeploymentFaults(world, root.fork("deployment-faults"), copKnobs, copIds, hosts, windowNanos);
      plan = plan.with(deploymentFaults.actions(everyone));
      deploymentFaults.scheduleTargeted();
      deploymentFaults.superviseChannels(runBy);
    }
    SimProcess joiningProcess = joining;
    long joinAt = joinAtNanos;
    long healedAtNanos = Phases.run(world, plan, late, p -> p == joiningProcess ? joinAt : draw.nextLong(0, windowNanos), windowNanos,
        stopIssuingAtNanos, DRAIN_NANOS);
    Simulator sim = world.simulator();

    List<String> violations = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    Map<Long, List<StreamletMeta>> chains = new TreeMap<>();
    for (int i = 0; i < streams.size(); i++) {
      chains.put((long) i + 1, chainOf(world, streams.get(i), violations));
    }
    List<Long> pausesNanos = migrationPauses(chains, channels, history);
    List<Long> handoverNanos = handoverAppendLatencies(chains, channels, history);
    if (sim.failure() == null) {
      check(world, chains, zones, classes, history, healedAtNanos, frontendCount, violations);
      if (zoneOutage) {
        // Survives one zone down: after the express host recovered (reading the log with a zone
        // down), appends were acknowledged while that zone was still down.
        for (int o = 0; o < outages.length; o++) {
          long from = crashes[o == 0 ? 0 : 2] + s;
          long to = outages[o][1];
          boolean progressed = history.attempts().stream().anyMatch(a -> a.outcome() == AppendHistory.Outcome.OK
              && a.invokeNanos >= from && a.completeNanos < to);
          if (!progressed) {
            violations.add("zone outage " + (o + 1) + ": no append was acknowledged between the express host's restart ("
                + from / Simulator.MS + " ms) and the end of the outage (" + to / Simulator.MS + " ms)");
          }
        }
      }
      histories.check(violations, unknown);
      violations.addAll(ledger.violations());
      auditCollection(world, violations);
      for (String e : storageErrors) {
        violations.add("storage error (nothing in the cell corrupts or loses objects): " + e);
      }
    }
    long ok = history.attempts().stream().filter(a -> a.outcome() == AppendHistory.Outcome.OK).count();
    String description = String.format(Locale.ROOT,
        "appends=%d ok=%d reads=%d metadata_ops=%d session_requests_held_early=%d%nlinearizability: %s operations per stream %s%n%s%n%s%nbgtask: %s%n%s%n%s%nknobs: %s%nscenario=%s frontends=%d streams=%d hosts=%s storage=%s window_s=%d%nfaults: %s%nplan:%n%s",
        history.attempts().size(), ok, history.reads().size(), world.metadata().operations(),
        channels.stream().mapToLong(Channel::sessionRequestsHeldEarly).sum(),
        sim.failure() != null ? "not checked" : unknown.isEmpty() ? "checked" : "unknown (budget) for " + unknown,
        histories.operationCounts(), describeCachey(cacheyNodes, frontendZones, cacheyKnobs, caches, cacheyClients),
        ledger.describe(), describeBgTasks(bgTasks),
        describeCop(copCount, copKnobs, cops, chains, pausesNanos, handoverNanos, dataPlanes),
        describeExpress(world, zones, streamClasses, quorums, hedged), knobs, name(), frontendCount, streamCount, hosts,
        express ? "express" : "standard", windowNanos / Simulator.SECOND, profile.describe(), plan.describe());
    if (deploymentFaults != null) {
      long linksOnJoined = chains.values().stream().flatMap(List::stream).filter(l -> l.getChannelId().equals(JOINING_CHANNEL)).count();
      long added = cops.stream().mapToLong(Cop::channelsAdded).sum();
      description = deploymentFaults.describe(cops, channels, world) + "\n" + String.format(Locale.ROOT,
          "scale_out: %s joined at %d ms; cop incarnations that added it to their view %d; stream links on it %d",
          JOINING_CHANNEL, joinAtNanos / Simulator.MS, added, linksOnJoined) + "\n" + description;
    }
    return new Outcome(world, violations, description, dir -> histories.write(dir, CellClient.BASIN.value()));
  }

  /** The channel that joins the deployment scenario's cell mid-window. */
  static final String JOINING_CHANNEL = "ch-4";
  /** How often a deployment process re-reads the cell registry (the role processes' period). */
  static final long REGISTRY_REFRESH_NANOS = 500 * Simulator.MS;

  /**
   * A view of the channel directory that follows {@code registry[0]}: re-read on {@code env}'s own
   * scheduler every {@link #REGISTRY_REFRESH_NANOS} for as long as this incarnation lives.
   */
  static io.s2j.runtime.View<ChannelDirectory> followed(io.s2j.runtime.Env env, ChannelDirectory[] registry) {
    io.s2j.runtime.View<ChannelDirectory> view = io.s2j.runtime.View.of(registry[0]);
    Runnable[] tick = new Runnable[1];
    tick[0] = () -> {
      view.update(registry[0]);
      env.scheduler().schedule(REGISTRY_REFRESH_NANOS, tick[0]);
    };
    env.scheduler().schedule(REGISTRY_REFRESH_NANOS, tick[0]);
    return view;
  }

  /** One line on express storage: stream classes, replica PUTs per zone, what the quorums had to decide. */
  static String describeExpress(SimWorld world, List<String> zones, List<StorageClass> classes, List<QuorumObjectStore> quorums,
      List<HedgedObjectStore> hedged) {
    String hedges = String.format(Locale.ROOT, "hedged creates and reads=%d (creates answered first %d)",
        hedged.stream().mapToLong(HedgedObjectStore::hedges).sum(), hedged.stream().mapToLong(HedgedObjectStore::hedgesWon).sum());
    if (zones.isEmpty()) {
      return "express: none (every log in the regional bucket); " + hedges;
    }
    StringBuilder puts = new StringBuilder();
    for (String z : zones) {
      puts.append(puts.length() == 0 ? "" : ",").append(z).append('=').append(world.bucket("zone-" + z).putsApplied());
    }
    long contended = quorums.stream().mapToLong(q -> q.counters().contendedPuts()).sum();
    long decided = quorums.stream().mapToLong(q -> q.counters().rollForwards()).sum();
    long repairs = quorums.stream().mapToLong(q -> q.counters().repairs()).sum();
    long completions = quorums.stream().mapToLong(q -> q.counters().completions()).sum();
    long undecided = quorums.stream().mapToLong(q -> q.counters().undecidedReads()).sum();
    return String.format(Locale.ROOT,
        "express: streams=%s zonal_puts_applied={%s} regional_puts_applied=%d quorum_puts=%d contended_puts=%d "
            + "undecided_reads=%d decisions=%d repairs=%d completions=%d; %s",
        classes, puts, world.bucket().putsApplied(), quorums.stream().mapToLong(q -> q.counters().puts()).sum(),
        contended, undecided, decided, repairs, completions, hedges);
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

  /**
   * One line about the cops: instances, take-overs, activations, migrations (started, committed,
   * abandoned), chain lengths, calls that met a sealed link, and the migration pauses measured.
   */
  static String describeCop(int copCount, CopKnobs knobs, List<Cop> cops, Map<Long, List<StreamletMeta>> chains, List<Long> pausesNanos,
      List<Long> handoverNanos,
      List<DataPlane> dataPlanes) {
    long takeovers = 0;
    long activations = 0;
    long started = 0;
    long committed = 0;
    long abandoned = 0;
    long replacements = 0;
    for (Cop c : cops) {
      replacements += c.counters().replacements();
      takeovers += c.counters().takeovers();
      activations += c.counters().activations();
      started += c.counters().migrationsStarted();
      committed += c.counters().migrationsCommitted();
      abandoned += c.counters().migrationsAbandoned();
    }
    List<Integer> lengths = new ArrayList<>();
    chains.values().forEach(c -> lengths.add(c.size()));
    long sealedRetries = dataPlanes.stream().mapToLong(DataPlane::sealedRetries).sum();
    long speculativeAppends = dataPlanes.stream().mapToLong(DataPlane::speculativeAppends).sum();
    long sessionResends = dataPlanes.stream().mapToLong(DataPlane::sessionResends).sum();
    StringBuilder pauses = new StringBuilder();
    for (long p : pausesNanos) {
      pauses.append(pauses.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.1f", p / 1e6));
    }
    return String.format(Locale.ROOT,
        "cop: instances=%d takeovers=%d activations=%d migrations_started=%d committed=%d abandoned=%d replacements=%d chain_lengths=%s "
            + "sealed_retries=%d speculative_appends=%d session_resends=%d %s%nmigration_pauses_ms: %s%nhandover_append_latencies_ms: %s",
        copCount, takeovers, activations, started, committed, abandoned, replacements, lengths, sealedRetries, speculativeAppends, sessionResends, knobs,
        pauses, millis(handoverNanos));
  }

  private static String millis(List<Long> nanos) {
    StringBuilder out = new StringBuilder();
    for (long p : nanos) {
      out.append(out.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.1f", p / 1e6));
    }
    return out.toString();
  }

  /**
   * What a hand-over costs the appends caught in it, in virtual time: for each committed migration,
   * every append to the stream invoked between the seal and the first append acknowledged on the new
   * link, and itself acknowledged on the new link — its latency, invocation to acknowledgement.
   */
  static List<Long> handoverAppendLatencies(Map<Long, List<StreamletMeta>> chains, List<Channel> channels, AppendHistory history) {
    TreeMap<Long, Long> sealed = new TreeMap<>();
    TreeMap<Long, Long> firstAck = new TreeMap<>();
    for (Channel c : channels) {
      c.migrationsSealedNanos().forEach((id, t) -> sealed.merge(id, t, Math::min));
      c.firstAckNanos().forEach((id, t) -> firstAck.merge(id, t, Math::min));
    }
    List<Long> latencies = new ArrayList<>();
    chains.forEach((key, chain) -> {
      for (int i = 1; i < chain.size(); i++) {
        StreamletMeta link = chain.get(i);
        Long from = sealed.get(link.getStreamletId());
        Long to = firstAck.get(link.getStreamletId());
        if (from == null || to == null || to < from) {
          continue;
        }
        for (AppendHistory.Attempt a : history.attempts()) {
          if (a.streamlet == key && a.invokeNanos >= from && a.invokeNanos <= to && a.ack != null && a.completeNanos >= 0
              && a.ack.getStart().getSeqNum() >= link.getStartSeqNum()
              && (!link.hasEndSeqNum() || a.ack.getStart().getSeqNum() < link.getEndSeqNum())) {
            latencies.add(a.completeNanos - a.invokeNanos);
          }
        }
      }
    });
    return latencies;
  }

  /**
   * Migration pauses in virtual time: for each committed migration, from the instant the source
   * stopped accepting the stream's appends (the seal) to the first append acknowledged on the new
   * link — counted when some client appended to the stream in between, i.e. was kept waiting.
   */
  static List<Long> migrationPauses(Map<Long, List<StreamletMeta>> chains, List<Channel> channels, AppendHistory history) {
    TreeMap<Long, Long> sealed = new TreeMap<>();
    TreeMap<Long, Long> firstAck = new TreeMap<>();
    for (Channel c : channels) {
      c.migrationsSealedNanos().forEach((id, t) -> sealed.merge(id, t, Math::min));
      c.firstAckNanos().forEach((id, t) -> firstAck.merge(id, t, Math::min));
    }
    List<Long> pauses = new ArrayList<>();
    chains.forEach((key, chain) -> {
      for (int i = 1; i < chain.size(); i++) {
        long id = chain.get(i).getStreamletId();
        Long from = sealed.get(id);
        Long to = firstAck.get(id);
        if (from == null || to == null || to < from) {
          continue;
        }
        boolean waited = history.attempts().stream().anyMatch(a -> a.streamlet == key && a.invokeNanos >= from && a.invokeNanos <= to);
        if (waited) {
          pauses.add(to - from);
        }
      }
    });
    return pauses;
  }

  private static void check(SimWorld world, Map<Long, List<StreamletMeta>> chains, List<String> zones, Map<String, StorageClass> classes,
      AppendHistory history, long healedAtNanos, int frontendCount, List<String> violations) {
    // Every stream's log, walked along its chain: each link's records from the WAL and segments of
    // the channel the link names, from the link's start up to its seal.
    Map<String, List<Long>> idsOfChannel = new TreeMap<>();
    Map<Long, Long> startOf = new TreeMap<>();
    chains.values().forEach(chain -> chain.forEach(link -> {
      idsOfChannel.computeIfAbsent(link.getChannelId(), c -> new ArrayList<>()).add(link.getStreamletId());
      startOf.put(link.getStreamletId(), link.getStartSeqNum());
    }));
    Map<String, TreeMap<Long, List<SequencedRecord>>> audited = new TreeMap<>();
    // An express channel's log is audited from the zonal buckets (two of three must hold a chunk).
    List<String> zonal = zones.stream().map(z -> "zone-" + z).toList();
    idsOfChannel.forEach((channel, ids) -> audited.put(channel,
        WalAudit.read(world, channel, ids, startOf, false, classes.get(channel) == StorageClass.EXPRESS ? zonal : List.of(), violations)));
    TreeMap<Long, List<SequencedRecord>> logs = new TreeMap<>();
    Map<Long, String> channelOfKey = new TreeMap<>();
    chains.forEach((key, chain) -> {
      channelOfKey.put(key, "chain");
      List<SequencedRecord> log = new ArrayList<>();
      for (int i = 0; i < chain.size(); i++) {
        StreamletMeta link = chain.get(i);
        if (link.getStartSeqNum() != log.size()) {
          violations.add("stream key " + key + ": link " + i + " starts at " + link.getStartSeqNum() + " but the chain before it ends at "
              + log.size());
          break;
        }
        if (i < chain.size() - 1 && !link.hasEndSeqNum()) {
          violations.add("stream key " + key + ": link " + i + " is followed by another but not sealed");
        }
        List<SequencedRecord> part = audited.get(link.getChannelId()).getOrDefault(link.getStreamletId(), List.of());
        for (SequencedRecord r : part) {
          if (link.hasEndSeqNum() && r.seqNum() >= link.getEndSeqNum()) {
            violations.add("stream key " + key + ": link " + i + " (streamlet " + link.getStreamletId() + ") holds seq " + r.seqNum()
                + " past its seal at " + link.getEndSeqNum());
            break;
          }
          log.add(r);
        }
        if (link.hasEndSeqNum() && log.size() != link.getEndSeqNum()) {
          violations.add("stream key " + key + ": link " + i + " is sealed at " + link.getEndSeqNum() + " but holds records up to "
              + log.size());
          break;
        }
      }
      logs.put(key, log);
    });
    Map<String, TreeMap<Long, List<SequencedRecord>>> byKey = new LinkedHashMap<>();
    byKey.put("chain", logs);
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
    // A link after a migration starts past 0: its segments tile from its start.
    TreeMap<Long, Long> startOfStreamlet = new TreeMap<>();
    TreeMap<Long, Long> retention = new TreeMap<>();
    TreeMap<Long, List<SegmentMeta>> segments = new TreeMap<>();
    TreeMap<Long, SegmentHeadMeta> heads = new TreeMap<>();
    try {
      for (KeyValue kv : world.metadata().entries()) {
        switch (MetaKey.typeOf(kv.key())) {
          case STREAMLET -> {
            StreamletMeta link = StreamletMeta.parseFrom(kv.value());
            streamOfStreamlet.put(link.getStreamletId(), MetaKey.u64At(kv.key(), 0));
            startOfStreamlet.put(link.getStreamletId(), link.getStartSeqNum());
          }
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
    // A stream's trim point is its newest link's: an older (sealed) link's head keeps the trim point
    // it had when sealed, while bgtask collects by the stream's.
    TreeMap<Long, Long> streamTrim = new TreeMap<>();
    heads.forEach((streamlet, head) -> {
      Long stream = streamOfStreamlet.get(streamlet);
      if (stream != null) {
        streamTrim.merge(stream, head.getTrimPoint(), Math::max);
      }
    });
    heads.forEach((streamlet, head) -> {
      if (head.getDeleted() || !streamOfStreamlet.containsKey(streamlet)) {
        return;
      }
      long stream = streamOfStreamlet.get(streamlet);
      long floor = Math.max(Math.max(streamTrim.getOrDefault(stream, 0L), retention.getOrDefault(stream, 0L)),
          startOfStreamlet.getOrDefault(streamlet, 0L));
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

  /** A stream's chain of links from metadata, in index order (empty if it was never activated). */
  private static List<StreamletMeta> chainOf(SimWorld world, StreamName stream, List<String> violations) {
    var kv = world.metadata().peek(MetaKey.stream(CellClient.BASIN.value(), stream.value()));
    List<StreamletMeta> chain = new ArrayList<>();
    if (kv.isEmpty()) {
      return chain;
    }
    try {
      long streamId = StreamMeta.parseFrom(kv.get().value()).getStreamId();
      for (KeyValue e : world.metadata().entries()) {
        if (e.key().startsWith(MetaKey.streamletsPrefix(streamId))) {
          if (MetaKey.u64At(e.key(), 1) != chain.size()) {
            violations.add(stream + ": chain link " + MetaKey.u64At(e.key(), 1) + " where link " + chain.size() + " was due");
          }
          chain.add(StreamletMeta.parseFrom(e.value()));
        }
      }
      return chain;
    } catch (InvalidProtocolBufferException e) {
      violations.add("undecodable metadata for " + stream);
      return chain;
    }
  }
}
