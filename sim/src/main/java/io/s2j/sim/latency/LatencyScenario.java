package io.s2j.sim.latency;

import com.google.protobuf.ByteString;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.channel.Channel;
import io.s2j.channel.ChannelKnobs;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.frontend.DataPlane;
import io.s2j.record.AppendRecord;
import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.sim.FaultPlan;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import io.s2j.sim.Scenario;
import io.s2j.storage.HedgedObjectStore;
import io.s2j.storage.QuorumObjectStore;
import io.s2j.storage.StorageClassRouter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Ack latency and object-store PUTs in virtual time (issue 7): one frontend appending steadily to
 * standard streams (channels whose log is in an S3-standard bucket) and to express streams
 * (channels whose log is on a quorum of three S3-Express zonal buckets), no faults. Reports, per
 * storage class, the ack latency percentiles of appends issued in the measurement window (from
 * the frontend's {@code append} call to its acknowledgement, so frontend → channel → store →
 * channel → frontend) and the chunk PUTs per channel-second, and checks them against S2's
 * published bounds: ack p99 ≤ 400 ms standard, ≤ 40 ms express, and at most one chunk PUT per
 * flush interval per channel. Deterministic per seed (latencies are drawn from the seed).
 */
public final class LatencyScenario implements Scenario {
  static final BasinName BASIN = new BasinName("latency-basin");
  static final int CHANNELS_PER_CLASS = 4;
  static final int STREAMS_PER_CLASS = 16;
  static final long APPEND_INTERVAL_MS = 20;
  static final int RECORD_BYTES = 1024;
  static final long WARMUP_NANOS = 5 * Simulator.SECOND;
  static final long MEASURE_NANOS = 60 * Simulator.SECOND;
  static final long DRAIN_NANOS = 15 * Simulator.SECOND;
  static final double STANDARD_ACK_P99_MS_MAX = 400;
  static final double EXPRESS_ACK_P99_MS_MAX = 40;

  private final long hedgeAfterNanos;

  public LatencyScenario() {
    this(HedgedObjectStore.STANDARD_HEDGE_AFTER_NANOS);
  }

  /** With regional creates hedged after {@code hedgeAfterNanos} (Long.MAX_VALUE / 4: never, in effect). */
  public LatencyScenario(long hedgeAfterNanos) {
    this.hedgeAfterNanos = hedgeAfterNanos;
  }

  private long zonalHedgeAfterNanos() {
    return Math.max(hedgeAfterNanos / 5, HedgedObjectStore.EXPRESS_HEDGE_AFTER_NANOS);
  }

  /** The same measurement without hedged creates and reads, to show what hedging buys. */
  public static LatencyScenario unhedged() {
    return new LatencyScenario(Long.MAX_VALUE / 4);
  }

  @Override
  public String name() {
    return hedgeAfterNanos >= Long.MAX_VALUE / 4 ? "latency-unhedged" : "latency";
  }

  @Override
  public List<String> bugs() {
    return List.of();
  }

  @Override
  public Scenario withBug(String bug) {
    throw new IllegalArgumentException("the latency scenario plants no bugs");
  }

  static ChannelKnobs knobsOf(StorageClass c) {
    return c == StorageClass.EXPRESS ? ChannelKnobs.EXPRESS : ChannelKnobs.STANDARD;
  }

  /** One append: which class, when issued and acknowledged (or -1 if it failed). */
  private record Sample(StorageClass storageClass, long invokeNanos, long ackNanos) {}

  @Override
  public Outcome run(long seed) {
    SimWorld world = new SimWorld(seed, FaultProfile.NONE);
    for (String z : List.of("a", "b", "c")) {
      world.addZonalBucket("zone-" + z, LatencyModel.S3_EXPRESS, z);
    }
    Map<String, List<NodeId>> hosts = new TreeMap<>();
    Map<String, StorageClass> classes = new TreeMap<>();
    for (StorageClass c : StorageClass.values()) {
      for (int i = 1; i <= CHANNELS_PER_CLASS; i++) {
        String id = (c == StorageClass.EXPRESS ? "xch-" : "ch-") + i;
        hosts.put(id, List.of(NodeId.of(id + "-a")));
        classes.put(id, c);
      }
    }
    ChannelDirectory directory = new ChannelDirectory(hosts, classes);
    // Counted twice: creates as the channels ask for them (an express chunk is one), and regional
    // PUTs as the bucket sees them (hedges included).
    Map<String, Long> puts = new TreeMap<>();
    Map<String, Long> regionalPuts = new TreeMap<>();
    List<HedgedObjectStore> hedged = new ArrayList<>();
    world.setStoreComposer((node, scheduler, bucket) -> {
      HedgedObjectStore regional = new HedgedObjectStore(scheduler,
          new CountingObjectStore(bucket.apply(SimWorld.DEFAULT_BUCKET), regionalPuts), hedgeAfterNanos);
      hedged.add(regional);
      return new CountingObjectStore(new StorageClassRouter(scheduler, regional,
          new QuorumObjectStore(scheduler, List.of("zone-a", "zone-b", "zone-c").stream()
              .map(z -> (io.s2j.runtime.objectstore.ObjectStore) new HedgedObjectStore(scheduler, bucket.apply(z),
                  zonalHedgeAfterNanos())).toList()),
          id -> directory.storageClasses().get(id) == StorageClass.EXPRESS), puts);
    });
    directory.channelIds().forEach(id -> world.addProcess(id + "-a",
        env -> new Channel(env, id, knobsOf(directory.storageClassOf(id)))));
    List<Sample> samples = new ArrayList<>();
    world.addProcess("fe-1", env -> new Client(env, directory, samples));
    world.processes().forEach(p -> p.start());

    Simulator sim = world.simulator();
    sim.runFor(WARMUP_NANOS);
    Map<String, Long> putsBefore = new TreeMap<>(puts);
    Map<String, Long> regionalBefore = new TreeMap<>(regionalPuts);
    long[] zonalBefore = zonalPuts(world);
    sim.runFor(MEASURE_NANOS);
    Map<String, Long> putsAfter = new TreeMap<>(puts);
    Map<String, Long> regionalAfter = new TreeMap<>(regionalPuts);
    long[] zonalAfter = zonalPuts(world);
    sim.runFor(DRAIN_NANOS);

    List<String> violations = new ArrayList<>();
    StringBuilder report = new StringBuilder();
    report.append(String.format(Locale.ROOT,
        "latency: %d channels and %d streams per class, one %d-byte record per stream every %d ms, %d s measured after %d s%n",
        CHANNELS_PER_CLASS, STREAMS_PER_CLASS, RECORD_BYTES, APPEND_INTERVAL_MS, MEASURE_NANOS / Simulator.SECOND,
        WARMUP_NANOS / Simulator.SECOND));
    for (StorageClass c : StorageClass.values()) {
      long[] acks = samples.stream().filter(s -> s.storageClass() == c && s.ackNanos() >= 0
          && s.invokeNanos() >= WARMUP_NANOS && s.invokeNanos() < WARMUP_NANOS + MEASURE_NANOS)
          .mapToLong(s -> s.ackNanos() - s.invokeNanos()).sorted().toArray();
      long failed = samples.stream().filter(s -> s.storageClass() == c && s.ackNanos() < 0).count();
      long chunkPuts = 0;
      long regionalChunkPuts = 0;
      int channels = 0;
      for (String id : directory.channelIds()) {
        if (directory.storageClassOf(id) == c) {
          channels++;
          chunkPuts += putsAfter.getOrDefault("wal/" + id, 0L) - putsBefore.getOrDefault("wal/" + id, 0L);
          regionalChunkPuts += regionalAfter.getOrDefault("wal/" + id, 0L) - regionalBefore.getOrDefault("wal/" + id, 0L);
        }
      }
      double seconds = (double) MEASURE_NANOS / Simulator.SECOND;
      // What the target bounds: PUTs a bucket sees per channel-second (hedges included) for
      // standard; for express each zonal bucket sees one PUT per chunk (reported per zone below).
      double chunkPutsPerChannelSecond = (c == StorageClass.EXPRESS ? chunkPuts : regionalChunkPuts) / (channels * seconds);
      ChannelKnobs knobs = knobsOf(c);
      double putsPerChannelSecondMax = 1000.0 / knobs.flushIntervalMs();
      double p99 = percentileMs(acks, 0.99);
      double p99Max = c == StorageClass.EXPRESS ? EXPRESS_ACK_P99_MS_MAX : STANDARD_ACK_P99_MS_MAX;
      String store = c == StorageClass.EXPRESS
          ? String.format(Locale.ROOT, " zonal_puts_per_channel_s={a=%.1f,b=%.1f,c=%.1f}",
              (zonalAfter[0] - zonalBefore[0]) / (channels * seconds), (zonalAfter[1] - zonalBefore[1]) / (channels * seconds),
              (zonalAfter[2] - zonalBefore[2]) / (channels * seconds))
          : String.format(Locale.ROOT, " chunk_creates_per_channel_s=%.1f", chunkPuts / (channels * seconds));
      report.append(String.format(Locale.ROOT,
          "%s: acks=%d failed=%d ack_ms{p50=%.1f p90=%.1f p99=%.1f max=%.1f} chunk_puts_per_channel_s=%.1f%s "
              + "(flush_interval_ms=%d, so at most %.1f) target_ack_p99_ms<=%.0f %s%n",
          c.wireName(), acks.length, failed, percentileMs(acks, 0.50), percentileMs(acks, 0.90), p99,
          acks.length == 0 ? 0.0 : acks[acks.length - 1] / 1e6, chunkPutsPerChannelSecond, store, knobs.flushIntervalMs(),
          putsPerChannelSecondMax, p99Max, p99 <= p99Max && chunkPutsPerChannelSecond <= putsPerChannelSecondMax ? "met" : "MISSED"));
      if (acks.length == 0) {
        violations.add(c.wireName() + ": no append was acknowledged");
      }
      if (failed > 0) {
        violations.add(c.wireName() + ": " + failed + " appends failed without any fault");
      }
      if (p99 > p99Max) {
        violations.add(String.format(Locale.ROOT, "%s: ack p99 %.1f ms is above the %.0f ms target", c.wireName(), p99, p99Max));
      }
      if (chunkPutsPerChannelSecond > putsPerChannelSecondMax) {
        violations.add(String.format(Locale.ROOT, "%s: %.1f chunk PUTs per channel-second, more than one per %d ms flush interval",
            c.wireName(), chunkPutsPerChannelSecond, knobs.flushIntervalMs()));
      }
    }
    report.append(String.format(Locale.ROOT, "segment and other PUTs in the window: %d; hedging: regional after %s, zonal after %s; regional creates and reads hedged: %d (creates answered first by the hedge: %d)%n",
        putsAfter.getOrDefault("other", 0L) - putsBefore.getOrDefault("other", 0L),
        hedgeAfterNanos >= Long.MAX_VALUE / 4 ? "never" : hedgeAfterNanos / Simulator.MS + " ms",
        hedgeAfterNanos >= Long.MAX_VALUE / 4 ? "never" : zonalHedgeAfterNanos() / Simulator.MS + " ms",
        hedged.stream().mapToLong(HedgedObjectStore::hedges).sum(), hedged.stream().mapToLong(HedgedObjectStore::hedgesWon).sum()));
    report.append("plan:\n").append(FaultPlan.NONE.describe());
    return new Outcome(world, violations, report.toString());
  }

  private static long[] zonalPuts(SimWorld world) {
    return new long[] {world.bucket("zone-a").putsApplied(), world.bucket("zone-b").putsApplied(),
        world.bucket("zone-c").putsApplied()};
  }

  /** Nearest-rank percentile of sorted nanoseconds, in milliseconds. */
  static double percentileMs(long[] sortedNanos, double q) {
    if (sortedNanos.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sortedNanos.length);
    return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, rank - 1))] / 1e6;
  }

  /** The frontend and its steady writers: one append per stream every {@link #APPEND_INTERVAL_MS}. */
  private static final class Client {
    private final Env env;
    private final Catalog catalog;
    private final DataPlane data;
    private final List<Sample> samples;
    private final List<StreamName> streams = new ArrayList<>();
    private final List<StorageClass> classes = new ArrayList<>();
    private final ByteString body;

    Client(Env env, ChannelDirectory directory, List<Sample> samples) {
      this.env = env;
      this.catalog = new Catalog(env, Simulator.SECOND);
      this.data = new DataPlane(env, catalog, directory);
      this.samples = samples;
      byte[] b = new byte[RECORD_BYTES];
      Arrays.fill(b, (byte) 'x');
      this.body = ByteString.copyFrom(b);
      for (StorageClass c : StorageClass.values()) {
        for (int i = 0; i < STREAMS_PER_CLASS; i++) {
          streams.add(new StreamName(c.wireName() + "-" + i));
          classes.add(c);
        }
      }
      env.scheduler().execute(this::setUp);
    }

    private void setUp() {
      catalog.createBasin(BASIN, BasinConfig.DEFAULT, "latency").onComplete((b, f) -> {
        if (f != null || !(b instanceof io.s2j.frontend.Outcome.Ok)) {
          env.scheduler().schedule(100 * Simulator.MS, this::setUp);
          return;
        }
        createStream(0);
      });
    }

    private void createStream(int i) {
      if (i == streams.size()) {
        RandomSource jitter = env.random().fork("start");
        for (int s = 0; s < streams.size(); s++) {
          int stream = s;
          env.scheduler().schedule(jitter.nextLong(0, APPEND_INTERVAL_MS * Simulator.MS), () -> append(stream));
        }
        return;
      }
      StreamConfigSpec spec = new StreamConfigSpec(classes.get(i), null, null, null, null);
      catalog.createStream(BASIN, streams.get(i), spec, "latency").onComplete((s, f) -> {
        if (f != null || !(s instanceof io.s2j.frontend.Outcome.Ok)) {
          env.scheduler().schedule(100 * Simulator.MS, () -> createStream(i));
          return;
        }
        createStream(i + 1);
      });
    }

    private void append(int stream) {
      env.scheduler().schedule(APPEND_INTERVAL_MS * Simulator.MS, () -> append(stream));
      long invoked = env.clock().nowNanos();
      AppendInput input = AppendInput.of(AppendBatch.validate(List.of(new AppendRecord(null, List.of(), body))).orThrow());
      data.append(BASIN, streams.get(stream), input).onComplete((outcome, failure) -> {
        boolean ok = failure == null && outcome instanceof io.s2j.frontend.Outcome.Ok<?> o && o.value() instanceof AppendAck;
        samples.add(new Sample(classes.get(stream), invoked, ok ? env.clock().nowNanos() : -1));
      });
    }
  }
}
