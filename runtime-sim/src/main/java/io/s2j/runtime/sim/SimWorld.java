package io.s2j.runtime.sim;

import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.NodeId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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
  private FaultProfile faults;

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
    return new Env(
        p.id(),
        inc.clock(),
        inc.scheduler(),
        network.endpoint(inc),
        bucket().client(inc),
        metadata.client(inc),
        simulator.random().fork("process/" + p.id() + "/" + inc.generation()));
  }

  /** Ends every fault: rates to zero, partitions and outages healed, downed processes restarted. */
  public void healAll() {
    faults = FaultProfile.NONE;
    network.healAll();
    metadata.setUnavailable(false);
    for (SimObjectStore b : buckets.values()) {
      b.setOutage(false);
    }
    for (SimProcess p : processes.values()) {
      if (!p.up()) {
        p.start();
      }
    }
  }
}
