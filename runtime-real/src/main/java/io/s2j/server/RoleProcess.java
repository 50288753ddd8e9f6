package io.s2j.server;

import com.google.protobuf.ByteString;
import io.s2j.channel.ChannelHost;
import io.s2j.channel.ChannelKnobs;
import io.s2j.channel.PlantedBug;
import io.s2j.cop.Cop;
import io.s2j.cop.CopKnobs;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.real.EtcdCellRegistry;
import io.s2j.runtime.real.EtcdLease;
import io.s2j.runtime.real.EtcdMetadataStore;
import io.s2j.runtime.real.EtcdPeerDirectory;
import io.s2j.runtime.real.NettyNetwork;
import io.s2j.runtime.real.RealRuntime;
import io.s2j.runtime.real.S3ObjectStore;
import io.s2j.runtime.real.SharedObjectStore;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process of a distributed cell: a single role ({@code --role frontend|channel|cachey|cop|bgtask})
 * on a {@link NettyNetwork}, with metadata in etcd ({@link EtcdMetadataStore}) and records in the
 * cell's S3 bucket (docs/deploy.md).
 *
 * <p><b>Discovery.</b> Every process holds an etcd lease ({@link EtcdLease}) and announces its node
 * under it ({@code live/<node>} = {@code host:port}, read by every process's {@link
 * EtcdPeerDirectory}): a process that dies or is cut off from etcd leaves everyone's directory
 * within the lease TTL plus one refresh. It also registers itself permanently in the cell registry
 * ({@link EtcdCellRegistry}, {@code members/<role>/<name>}): channels by channel id (value: the
 * node that hosts it), spare channel hosts, cachey nodes and cops by node (value: their zone).
 * Frontends, cops and bgtask workers build their channel directory (every channel's hosts: its own
 * node, then every spare), cachey ring (live cachey nodes with zones: in-zone first) and cop list
 * from the registry at startup and follow it while they run ({@link CellViews}: re-read every
 * {@link CellViews#REFRESH_MS}, new snapshots handed to the components' views): a channel, spare,
 * cachey node or cop started later is used without restarting anyone; addresses stay current
 * through the peer directory.
 *
 * <p><b>Crash-only.</b> A process whose lease is lost (it was paused or cut off from etcd for longer
 * than the TTL), or whose channel was taken over by another host, stops ({@link #fatal()}; the main
 * exits with status 75): its supervisor restarts it. A restarted channel process takes its channel
 * over (epoch compare-and-set, WAL replay, fence) unless a live spare serves it; then it stands by
 * and takes over once that spare has left the peer directory.
 */
final class RoleProcess implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoleProcess.class);
  static final long STARTUP_TIMEOUT_SECONDS = 120;

  enum Role {
    FRONTEND,
    CHANNEL,
    CACHEY,
    COP,
    BGTASK,
    ALL;

    static Role parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--role expects frontend, channel, cachey, cop, bgtask or all, got `" + s + "`");
      }
    }

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * The role flags (docs/deploy.md).
   *
   * @param etcd the etcd cluster's client URLs (empty: no etcd; only with role {@code all})
   * @param node this process's node id (unique in the cell)
   * @param zone its zone label (cachey selection prefers the caller's zone)
   * @param listen the address the {@link NettyNetwork} binds (port 0: any)
   * @param advertise the host others reach it at (null: the listen host, or this machine's address
   *     when that is a wildcard)
   * @param cell the cell's name: every etcd key of the cell is under {@code /s2j/<cell>/}
   * @param endpoint the S3 endpoint (null: from the AWS environment)
   * @param spare a channel process that is an idle spare host, not a channel of its own
   * @param channelId the channel a channel process runs (null: its node id)
   * @param minChannels frontends, cops and bgtask wait until this many channels are registered
   * @param leaseTtlSeconds the etcd lease TTL of announcements
   * @param copLeaseMs a standby cop takes over after the acting cop's lease stood still this long
   * @param channelDeadAfterMs the cop hands a channel to a spare after no host served it this long
   */
  record Options(Role role, List<URI> etcd, String node, String zone, InetSocketAddress listen, String advertise, String cell,
      URI endpoint, boolean spare, String channelId, int minChannels, long leaseTtlSeconds, long copLeaseMs,
      long channelDeadAfterMs) {
    static final long LEASE_TTL_SECONDS_DEFAULT = 2;

    Options {
      etcd = List.copyOf(etcd);
      if (role != Role.ALL) {
        if (etcd.isEmpty()) {
          throw new IllegalArgumentException("--role " + role.label() + " needs --etcd");
        }
        if (node == null || node.isBlank() || node.contains("/")) {
          throw new IllegalArgumentException("--role " + role.label() + " needs --node ID (no '/')");
        }
      }
      if (spare && role != Role.CHANNEL) {
        throw new IllegalArgumentException("--spare is for --role channel");
      }
      if (minChannels < 1 || leaseTtlSeconds < 1 || copLeaseMs < 2 || channelDeadAfterMs < 1) {
        throw new IllegalArgumentException("invalid role options");
      }
    }

    CopKnobs copKnobs() {
      long probe = Math.max(1, Math.min(1_000, channelDeadAfterMs / 3));
      return new CopKnobs(copLeaseMs, Math.max(1, copLeaseMs / 5), probe, channelDeadAfterMs,
          CopKnobs.DEFAULTS.balanceIntervalMs(), CopKnobs.DEFAULTS.imbalanceMin(), 0.0).conclude();
    }

    ByteString namespace(String part) {
      return ByteString.copyFromUtf8("/s2j/" + cell + "/" + part + "/");
    }
  }

  private final Options options;
  private final RealRuntime runtime;
  private final Server server;
  private final CompletableFuture<String> fatal = new CompletableFuture<>();
  private final ScheduledExecutorService watcher;
  /** The views this process's component follows the cell through (null for channel and cachey processes). */
  private CellViews.Views views;
  /** The cell's metadata, for the channel watch (closed by the runtime). */
  private EtcdMetadataStore meta;
  private EtcdCellRegistry registry;

  private RoleProcess(Options options, RealRuntime runtime, Server server, ScheduledExecutorService watcher) {
    this.options = options;
    this.runtime = runtime;
    this.server = server;
    this.watcher = watcher;
  }

  /** The S3 bucket of {@code config}, at {@code endpoint} if given (else as the AWS environment says). */
  static SharedObjectStore objectStore(ServerConfig.Storage storage, URI endpoint) {
    if (!(storage instanceof ServerConfig.Storage.S3 s)) {
      throw new IllegalArgumentException("a distributed cell keeps its records in S3: give --bucket");
    }
    S3ObjectStore.Settings env = S3ObjectStore.Settings.fromEnvironment(s.bucket(), s.prefix());
    if (endpoint == null) {
      return new S3ObjectStore(env);
    }
    return new S3ObjectStore(new S3ObjectStore.Settings(env.bucket(), env.keyPrefix(), Optional.of(endpoint), env.region(),
        env.credentials(), true, env.callTimeout(), env.connectTimeout()));
  }

  /** The metadata of a single-binary server ({@code --role all --etcd …}) in etcd. */
  static Server.Metadata etcdMetadata(Options o) {
    EtcdMetadataStore meta = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(o.etcd(), o.namespace("meta")));
    return new Server.Metadata(meta::view, meta::close, "in etcd " + o.etcd());
  }

  /** Starts the role; returns once it serves (a channel has taken its log over, a frontend listens). */
  static RoleProcess start(Options o, ServerConfig config) throws Exception {
    if (o.role() == Role.ALL) {
      throw new IllegalArgumentException("role all is the single binary (ServerMain)");
    }
    return start(o, config, objectStore(config.storage(), o.endpoint()));
  }

  /** Starts the role on {@code bucket} (tests run several roles in one JVM on one in-memory bucket). */
  static RoleProcess start(Options o, ServerConfig config, SharedObjectStore bucket) throws Exception {
    if (o.role() == Role.ALL) {
      throw new IllegalArgumentException("role all is the single binary (ServerMain)");
    }
    ServerMetrics metrics = new ServerMetrics(System::currentTimeMillis);
    SharedObjectStore store = new ObservedObjectStore(bucket, metrics);
    List<AutoCloseable> opened = new ArrayList<>();
    boolean runtimeOwnsStore = false;
    try {
      EtcdMetadataStore meta = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(o.etcd(), o.namespace("meta")));
      opened.add(meta);
      EtcdMetadataStore cell = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(o.etcd(), o.namespace("cell")));
      opened.add(cell);
      EtcdPeerDirectory peers = EtcdPeerDirectory.open(cell, ByteString.copyFromUtf8("live/"), Duration.ofMillis(200));
      opened.add(0, peers);
      NettyNetwork net = NettyNetwork.start(o.listen(), peers, NettyNetwork.Options.defaults());
      opened.add(0, net);
      EtcdLease lease = EtcdLease.grant(cell, Duration.ofSeconds(o.leaseTtlSeconds())).get(30, TimeUnit.SECONDS);
      opened.add(0, lease);
      NodeId node = NodeId.of(o.node());
      InetSocketAddress announced = advertised(o, net.localAddress());
      announce(peers, lease, node, announced, o.leaseTtlSeconds());
      EtcdCellRegistry registry = new EtcdCellRegistry(cell, ByteString.copyFromUtf8("members/"));

      List<AutoCloseable> closers = List.copyOf(opened);
      RealRuntime runtime = new RealRuntime(store, new SecureRandom().nextLong(), meta::view, () -> closeAll(closers),
          net::attach);
      opened.clear(); // the runtime closes them now
      runtimeOwnsStore = true;
      ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "s2j-role-watch");
        t.setDaemon(true);
        return t;
      });
      RoleProcess p;
      try {
        p = startRole(o, config, runtime, metrics, registry, meta, peers, node, watcher);
      } catch (Exception e) {
        watcher.shutdownNow();
        runtime.close();
        throw e;
      }
      lease.lost().thenRun(() -> p.fatal.complete("the etcd lease was lost (this process was paused or cut off from etcd"
          + " for longer than its TTL): others may have taken over what it ran"));
      log.info("s2j role {} ready: node {} zone {} at {} (cell {}, etcd {})", o.role().label(), o.node(), o.zone(), announced,
          o.cell(), o.etcd());
      return p;
    } catch (Exception e) {
      closeAll(opened);
      if (!runtimeOwnsStore) {
        store.close();
      }
      throw e;
    }
  }

  private static RoleProcess startRole(Options o, ServerConfig config, RealRuntime runtime, ServerMetrics metrics,
      EtcdCellRegistry registry, EtcdMetadataStore meta, EtcdPeerDirectory peers, NodeId node, ScheduledExecutorService watcher)
      throws Exception {
    ChannelKnobs base = ChannelKnobs.STANDARD;
    ChannelKnobs knobs = config.flushIntervalMs() == null ? base : Server.withFlushInterval(base, config.flushIntervalMs());
    long cacheNanos = TimeUnit.MILLISECONDS.toNanos(config.streamCacheMs());
    switch (o.role()) {
      case CHANNEL -> {
        Env env = runtime.env(node);
        if (o.spare()) {
          registry.register("spare", o.node(), o.zone()).get(30, TimeUnit.SECONDS);
          AtomicReference<io.s2j.channel.Channel> hosted = new AtomicReference<>();
          Server.onExecutor(env, () -> new ChannelHost(env, knobs, PlantedBug.NONE, c -> {
            hosted.set(c);
            log.info("spare {} was asked to run a channel (by the cop: its hosts were dead)", o.node());
          }));
          RoleProcess p = new RoleProcess(o, runtime, null, watcher);
          p.meta = meta;
          p.registry = registry;
          p.watchChannel(env, hosted::get, null);
          return p;
        }
        String channelId = o.channelId() == null ? o.node() : o.channelId();
        registry.register("channel", channelId, o.node()).get(30, TimeUnit.SECONDS);
        RoleProcess p = new RoleProcess(o, runtime, null, watcher);
        p.meta = meta;
        p.registry = registry;
        String holder = p.ownerOf(channelId);
        if (holder == null || holder.equals(o.node()) || peers.resolve(NodeId.of(holder)).isEmpty()) {
          io.s2j.channel.Channel channel = Server.onExecutor(env, () -> new io.s2j.channel.Channel(env, channelId, knobs));
          Server.awaitServing(Map.of(env, channel));
          p.watchChannel(env, () -> channel, channelId);
          return p;
        }
        // Another live host (a spare) serves the channel: stand by and take it over once that host
        // leaves the peer directory (its lease expired). Taking it from a live host would make the
        // new incarnation chase the chunks the old one keeps landing until it is fenced.
        log.info("channel {} is served by live node {}: {} stands by until that node is gone", channelId, holder, o.node());
        AtomicReference<io.s2j.channel.Channel> started = new AtomicReference<>();
        watcher.scheduleWithFixedDelay(() -> {
          if (started.get() != null) {
            return;
          }
          try {
            String now = p.ownerOf(channelId);
            if (now == null || now.equals(o.node()) || peers.resolve(NodeId.of(now)).isEmpty()) {
              log.info("channel {}: its host {} is gone; {} takes it over", channelId, now, o.node());
              started.set(Server.onExecutor(env, () -> new io.s2j.channel.Channel(env, channelId, knobs)));
            }
          } catch (Exception e) {
            log.warn("stand-by watch: {}", e.toString());
          }
        }, 200, 200, TimeUnit.MILLISECONDS);
        p.watchChannel(env, started::get, channelId);
        return p;
      }
      case CACHEY -> {
        registry.register("cachey", o.node(), o.zone()).get(30, TimeUnit.SECONDS);
        Env env = runtime.env(node);
        Server.onExecutor(env, () -> new io.s2j.cachey.Cachey(env, Server.CACHEY_KNOBS));
        return new RoleProcess(o, runtime, null, watcher);
      }
      case COP -> {
        registry.register("cop", o.node(), o.zone()).get(30, TimeUnit.SECONDS);
        CellViews.Snapshot cell = initialCell(registry, peers, o.minChannels());
        Env env = runtime.env(node);
        CellViews.Views views = CellViews.Views.of(env, cell, true, true, false, false);
        Cop cop = Server.onExecutor(env, () -> new Cop(env, o.copKnobs(), views.directory(), views.spares(), PlantedBug.NONE));
        log.info("cop {}: channels {}, spares {}", o.node(), cell.directory().hosts(), cell.spares());
        RoleProcess p = new RoleProcess(o, runtime, null, watcher);
        p.follow(registry, peers, cell, views);
        AtomicReference<Cop.Role> last = new AtomicReference<>(Cop.Role.STANDBY);
        watcher.scheduleWithFixedDelay(() -> {
          try {
            Cop.Role now = Server.onExecutor(env, cop::role);
            if (last.getAndSet(now) != now) {
              long epoch = Server.onExecutor(env, cop::epoch);
              log.info("cop {} is now {} (epoch {})", o.node(), now, epoch);
            }
          } catch (RuntimeException e) {
            log.warn("cop watch: {}", e.toString());
          }
        }, 100, 100, TimeUnit.MILLISECONDS);
        return p;
      }
      case BGTASK -> {
        registry.register("bgtask", o.node(), o.zone()).get(30, TimeUnit.SECONDS);
        CellViews.Snapshot cell = initialCell(registry, peers, o.minChannels());
        Env env = runtime.env(node);
        CellViews.Views views = CellViews.Views.of(env, cell, true, false, false, true);
        Server.onExecutor(env, () -> new io.s2j.bgtask.BgTask(env, new Catalog(env, cacheNanos), views.directory(),
            io.s2j.bgtask.BgTask.Knobs.standard(cacheNanos), PlantedBug.NONE).withActivator(new io.s2j.cop.CopClient(env, views.cops())));
        log.info("bgtask {}: channels {}, cops {}", o.node(), cell.directory().hosts(), cell.cops());
        RoleProcess p = new RoleProcess(o, runtime, null, watcher);
        p.follow(registry, peers, cell, views);
        return p;
      }
      case FRONTEND -> {
        registry.register("frontend", o.node(), o.zone()).get(30, TimeUnit.SECONDS);
        CellViews.Snapshot cell = initialCell(registry, peers, o.minChannels());
        Env env = runtime.env(node);
        CellViews.Views views = CellViews.Views.of(env, cell, true, false, true, true);
        String description = "role frontend " + o.node() + " in zone " + o.zone() + ", channels " + cell.directory().hosts()
            + ", cachey " + cell.ring().nodes() + ", cops " + cell.cops() + " (followed: the registry is re-read every "
            + CellViews.REFRESH_MS + " ms)";
        Server server = Server.startFrontend(config, runtime, metrics, node, views.directory(), views.ring(), o.zone(), views.cops(),
            description);
        RoleProcess p = new RoleProcess(o, null, server, watcher);
        p.follow(registry, peers, cell, views);
        return p;
      }
      default -> throw new IllegalArgumentException("role " + o.role());
    }
  }

  /**
   * Stops the process (fatal) once the channel it runs is fenced, or — while it serves — once the
   * channel's metadata names another node: a new incarnation took it over (a restarted host taking
   * its channel back from a spare, a spare replacing a host that only seemed dead). Without the
   * second rule the superseded incarnation keeps accepting appends and landing chunks until one is
   * refused by the new incarnation's fence, and the new one, replaying every chunk it lands before
   * it can fence the next number, chases it for as long as its clients keep appending (measured:
   * more than two minutes on a loaded machine). Stopping is always safe: whatever it had not made
   * durable was not acknowledged.
   *
   * @param knownChannelId the channel's id, or null for a spare (found from metadata once it serves)
   */
  private void watchChannel(Env env, java.util.function.Supplier<io.s2j.channel.Channel> channel, String knownChannelId) {
    AtomicReference<io.s2j.channel.Channel.State> last = new AtomicReference<>();
    AtomicReference<String> channelId = new AtomicReference<>(knownChannelId);
    watcher.scheduleWithFixedDelay(() -> {
      try {
        io.s2j.channel.Channel c = channel.get();
        if (c == null) {
          return;
        }
        io.s2j.channel.Channel.State state = Server.onExecutor(env, c::state);
        if (last.getAndSet(state) != state) {
          log.info("channel on {} is {}", options.node(), state);
        }
        if (state == io.s2j.channel.Channel.State.FENCED) {
          fatal.complete("the channel this process ran was taken over by another host (fenced)");
          return;
        }
        if (state != io.s2j.channel.Channel.State.SERVING) {
          return;
        }
        if (channelId.get() == null) {
          for (String id : registry.members("channel").get(10, TimeUnit.SECONDS).keySet()) {
            if (options.node().equals(ownerOf(id))) {
              channelId.set(id);
              log.info("spare {} serves channel {}", options.node(), id);
              break;
            }
          }
          return;
        }
        String owner = ownerOf(channelId.get());
        if (owner != null && !owner.equals(options.node())) {
          fatal.complete("channel " + channelId.get() + " was taken over by node " + owner);
        }
      } catch (Exception e) {
        log.warn("channel watch: {}", e.toString());
      }
    }, 200, 200, TimeUnit.MILLISECONDS);
  }

  /** The node the channel's metadata names as its current incarnation's host (null if none). */
  private String ownerOf(String channelId) throws Exception {
    Optional<io.s2j.runtime.metadata.KeyValue> kv = meta.read(io.s2j.metadata.MetaKey.channel(channelId)).get(10, TimeUnit.SECONDS);
    if (kv.isEmpty()) {
      return null;
    }
    return io.s2j.metadata.proto.ChannelMeta.parseFrom(kv.get().value()).getNode();
  }

  /**
   * Keeps {@code views} current: re-reads the registry every {@link CellViews#REFRESH_MS} on the
   * watcher thread and hands each snapshot to the views' executor (a read that fails keeps the last
   * snapshot).
   */
  private void follow(EtcdCellRegistry registry, EtcdPeerDirectory peers, CellViews.Snapshot initial, CellViews.Views views) {
    this.views = views;
    AtomicReference<CellViews.Snapshot> last = new AtomicReference<>(initial);
    watcher.scheduleWithFixedDelay(() -> {
      try {
        CellViews.Snapshot now = CellViews.read(registry, peers, last.get());
        if (!now.equals(last.get())) {
          last.set(now);
          views.push(options.node(), now);
        }
      } catch (Exception e) {
        log.warn("reading the cell registry: {}", e.toString());
      }
    }, CellViews.REFRESH_MS, CellViews.REFRESH_MS, TimeUnit.MILLISECONDS);
  }

  /** The cell as the registry says at startup; waits for {@code minChannels} channels and a cop. */
  static CellViews.Snapshot initialCell(EtcdCellRegistry registry, EtcdPeerDirectory peers, int minChannels) throws Exception {
    directory(registry, minChannels);
    cops(registry);
    return CellViews.read(registry, peers, null);
  }

  /** The channel directory from the registry: each channel's own node, then every spare; waits for {@code min} channels. */
  static ChannelDirectory directory(EtcdCellRegistry registry, int min) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_TIMEOUT_SECONDS);
    while (true) {
      Map<String, String> channels = registry.members("channel").get(30, TimeUnit.SECONDS);
      if (channels.size() >= min) {
        List<NodeId> spares = registry.members("spare").get(30, TimeUnit.SECONDS).keySet().stream().map(NodeId::of).toList();
        return CellViews.directoryOf(channels, spares);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(channels.size() + " channel(s) registered after " + STARTUP_TIMEOUT_SECONDS
            + " s, waiting for " + min + " (--min-channels)");
      }
      log.info("waiting for channels to register: {} of {}", channels.size(), min);
      Thread.sleep(500);
    }
  }

  static List<NodeId> cops(EtcdCellRegistry registry) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_TIMEOUT_SECONDS);
    while (true) {
      Map<String, String> cops = registry.members("cop").get(30, TimeUnit.SECONDS);
      if (!cops.isEmpty()) {
        return cops.keySet().stream().map(NodeId::of).toList();
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("no cop registered after " + STARTUP_TIMEOUT_SECONDS + " s");
      }
      log.info("waiting for a cop to register");
      Thread.sleep(500);
    }
  }

  private static InetSocketAddress advertised(Options o, InetSocketAddress bound) throws UnknownHostException {
    if (o.advertise() != null) {
      return new InetSocketAddress(InetAddress.getByName(o.advertise()), bound.getPort());
    }
    if (bound.getAddress() != null && bound.getAddress().isAnyLocalAddress()) {
      return new InetSocketAddress(InetAddress.getLocalHost(), bound.getPort());
    }
    return bound;
  }

  /**
   * Announces {@code node}; while an earlier incarnation's lease still holds the name (a restart
   * right after {@code kill -9}), waits for it to expire.
   */
  private static void announce(EtcdPeerDirectory peers, EtcdLease lease, NodeId node, InetSocketAddress at, long ttlSeconds)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ttlSeconds * 3 + 30);
    boolean waited = false;
    while (!peers.announce(lease, node, at).get(30, TimeUnit.SECONDS)) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("node " + node + " is announced by another live process");
      }
      if (!waited) {
        log.info("node {} is still announced by an earlier lease; waiting for it to expire", node);
        waited = true;
      }
      Thread.sleep(200);
    }
  }

  private static void closeAll(List<AutoCloseable> closers) {
    for (AutoCloseable c : closers) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("closing {}: {}", c, e.toString());
      }
    }
  }

  Options options() {
    return options;
  }

  /** Completes with the reason when this process must stop (and be restarted by its supervisor). */
  CompletableFuture<String> fatal() {
    return fatal;
  }

  /** What this process's component sees of the cell now, read on its executor (empty for channel and cachey processes). */
  Optional<CellViews.Seen> seen() {
    CellViews.Views v = views;
    return v == null ? Optional.empty() : Optional.of(Server.onExecutor(v.env(), v::seen));
  }

  /** The frontend's server (frontend role only). */
  Optional<Server> server() {
    return Optional.ofNullable(server);
  }

  @Override
  public void close() {
    watcher.shutdownNow();
    if (server != null) {
      server.close();
    } else {
      runtime.close();
    }
  }
}
