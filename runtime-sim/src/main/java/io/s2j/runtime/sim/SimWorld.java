package io.s2j.runtime.sim;

import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.objectstore.ObjectStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A whole simulated deployment: the event loop, processes, the network, buckets and the metadata
 * store, all driven by one seed.
 *
 * <p>Randomness is forked by name per subsystem ({@code network}, {@code bucket/<name>}, {@code
 * metadata}, {@code process/<node>/<generation>}), so a change in how one subsystem draws does not
 * reshuffle the others.
 */
public final class SimWorld {
  /** The name of the default bucket every process's {@link Env#objectStore()} points at. */
  public static final String DEFAULT_BUCKET = "bucket";

  private final long seed;
  private final Simulator simulator;
  private final SimNetwork network;
  private final SimMetadataStore metadata;
  private final Map<String, SimObjectStore> buckets = new LinkedHashMap<>();
  private final Map<NodeId, SimProcess> processes = new LinkedHashMap<>();
  /** Zone → the zonal buckets in it (express storage), for zone outages. */
  private final Map<String, List<String>> zones = new LinkedHashMap<>();
  private StoreComposer storeComposer;
  private FaultProfile faults;

  /**
   * Builds the object store a process sees from clients of the world's buckets, e.g. a router that
   * puts express channels' logs on a quorum of zonal buckets. Without one, every process sees the
   * default bucket.
   */
  @FunctionalInterface
  public interface StoreComposer {
    ObjectStore compose(NodeId node, Scheduler scheduler, Function<String, ObjectStore> bucketClient);
  }

  public SimWorld(long seed, FaultProfile faults) {
    this.seed = seed;
    this.simulator = new Simulator(seed);
    this.faults = faults;
    this.network = new SimNetwork(this, simulator.random().fork("network"));
    this.metadata = new SimMetadataStore(this, simulator.random().fork("metadata"));
    addBucket(DEFAULT_BUCKET, LatencyModel.S3_STANDARD);
  }

  public long seed() {
    return seed;
  }

  public Simulator simulator() {
    return simulator;
  }

  public FaultProfile faults() {
    return faults;
  }

  /** Replaces the fault rates, e.g. with {@link FaultProfile#NONE} once the fault window ends. */
  public void setFaults(FaultProfile faults) {
    this.faults = faults;
  }

  public SimNetwork network() {
    return network;
  }

  public SimMetadataStore metadata() {
    return metadata;
  }

  public SimObjectStore bucket() {
    return buckets.get(DEFAULT_BUCKET);
  }

  public SimObjectStore bucket(String name) {
    SimObjectStore b = buckets.get(name);
    Invariants.check(b != null, "no bucket %s", name);
    return b;
  }

  public List<SimObjectStore> buckets() {
    return new ArrayList<>(buckets.values());
  }

  /** Adds a bucket (an express zonal bucket, say) with its own latency and outages. */
  public SimObjectStore addBucket(String name, LatencyModel latency) {
    Invariants.check(!buckets.containsKey(name), "bucket %s exists", name);
    SimObjectStore b = new SimObjectStore(this, name, latency, simulator.random().fork("bucket/" + name));
    buckets.put(name, b);
    return b;
  }

  /** Adds a zonal bucket in {@code zone}: a zone outage ({@link #setZoneOutage}) takes it down. */
  public SimObjectStore addZonalBucket(String name, LatencyModel latency, String zone) {
    SimObjectStore b = addBucket(name, latency);
    zones.computeIfAbsent(zone, z -> new ArrayList<>()).add(name);
    return b;
  }

  /** The zones that have zonal buckets, in the order they were added. */
  public List<String> zones() {
    return new ArrayList<>(zones.keySet());
  }

  /** The zonal buckets of {@code zone}. */
  public List<SimObjectStore> zonalBuckets(String zone) {
    List<String> names = zones.get(zone);
    Invariants.check(names != null, "no zone %s", zone);
    return names.stream().map(this::bucket).toList();
  }

  /** Starts or ends an outage of every zonal bucket in {@code zone}. */
  public void setZoneOutage(String zone, boolean down) {
    zonalBuckets(zone).forEach(b -> b.setOutage(down));
  }

  /** Sets how processes started from now on compose their object store (see {@link StoreComposer}). */
  public void setStoreComposer(StoreComposer composer) {
    this.storeComposer = composer;
  }

  /** Adds a process that is not started yet; {@code boot} builds its component from a fresh env. */
  public SimProcess addProcess(String name, Consumer<Env> boot) {
    NodeId id = NodeId.of(name);
    Invariants.check(!processes.containsKey(id), "process %s exists", name);
    SimProcess p = new SimProcess(this, id, processes.size(), boot);
    processes.put(id, p);
    simulator.register(p);
    return p;
  }

  /** The process named {@code id}, or null. */
  public SimProcess process(NodeId id) {
    return processes.get(id);
  }

  public SimProcess process(String name) {
    SimProcess p = processes.get(NodeId.of(name));
    Invariants.check(p != null, "no process %s", name);
    return p;
  }

  public List<SimProcess> processes() {
    return new ArrayList<>(processes.values());
  }

  Env envFor(SimProcess.Incarnation inc) {
    SimProcess p = inc.process();
    ObjectStore store = storeComposer == null
        ? bucket().client(inc)
        : storeComposer.compose(p.id(), inc.scheduler(), name -> bucket(name).client(inc));
    return new Env(
        p.id(),
        inc.clock(),
        inc.scheduler(),
        network.endpoint(inc),
        store,
        metadata.client(inc),
        simulator.random().fork("process/" + p.id() + "/" + inc.generation()));
  }

  /** Ends every fault: rates to zero, partitions and outages healed, paused processes resumed, downed ones restarted. */
  public void healAll() {
    faults = FaultProfile.NONE;
    network.healAll();
    metadata.setUnavailable(false);
    for (SimObjectStore b : buckets.values()) {
      b.setOutage(false);
    }
    metadata.setLosingResponses(false);
    for (SimProcess p : processes.values()) {
      p.resume();
      if (!p.up()) {
        p.start();
      }
    }
  }
}
