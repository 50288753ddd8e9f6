package io.s2j.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.s2j.channel.ChannelKnobs;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.frontend.DataPlane;
import io.s2j.runtime.Env;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.real.InMemoryMetadataStore;
import io.s2j.runtime.real.InMemoryObjectStore;
import io.s2j.runtime.real.LocalDirObjectStore;
import io.s2j.runtime.real.ObjectStoreMetadataStore;
import io.s2j.runtime.real.RealRuntime;
import io.s2j.runtime.real.S3ObjectStore;
import io.s2j.runtime.real.SharedObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An s2j server: one cell on the {@link RealRuntime} — a frontend node ({@link Catalog} +
 * {@link DataPlane}) and {@link ServerConfig#channels()} channel nodes, on the in-process network,
 * sharing one object store and one metadata store — behind S2's HTTP API on Netty: HTTP/1.1 and
 * cleartext HTTP/2 (prior knowledge) on the same port.
 */
public final class Server implements AutoCloseable {
  /** The server's cachey node: S3-sized 1 MiB pages, at most 256 MiB of them. */
  static final io.s2j.cachey.CacheyKnobs CACHEY_KNOBS = new io.s2j.cachey.CacheyKnobs(1 << 20, 256L << 20, 100_000,
      io.s2j.cachey.CacheyKnobs.STANDARD.requestBytesMax(), 4096, 200, 300_000).conclude();
  static final long CACHEY_RPC_TIMEOUT_NANOS = 5_000_000_000L;

  private static final Logger log = LoggerFactory.getLogger(Server.class);
  static final long STARTUP_TIMEOUT_SECONDS = 120;

  private final ServerConfig config;
  private final RealRuntime runtime;
  private final Frontend frontend;
  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;
  private final Channel serverChannel;
  private final ChannelKnobs knobs;
  private final Services services;

  private Server(ServerConfig config, RealRuntime runtime, Services services, ChannelKnobs knobs,
      EventLoopGroup boss, EventLoopGroup workers, Channel serverChannel) {
    this.config = config;
    this.services = services;
    Frontend frontend = services.fe();
    this.runtime = runtime;
    this.frontend = frontend;
    this.knobs = knobs;
    this.bossGroup = boss;
    this.workerGroup = workers;
    this.serverChannel = serverChannel;
  }

  /** The live batches encoded once for all tailing read sessions (tests read its counts). */
  LiveFrames liveFrames() {
    return services.liveFrames();
  }

  /** Starts a server: the cell first, then the listener. */
  public static Server start(ServerConfig config) {
    return start(config, objectStore(config.storage()));
  }

  /**
   * Starts a server over an object store made elsewhere (for embedding and tests), which it owns
   * from now on; {@code config.storage()} then only names it and picks the channel knobs.
   */
  public static Server start(ServerConfig config, SharedObjectStore store) {
    ServerMetrics metrics = new ServerMetrics(System::currentTimeMillis);
    SharedObjectStore observed = new ObservedObjectStore(store, metrics);
    // Durable storage gets durable metadata, in the same store; the in-memory emulator keeps it in memory.
    Metadata metadata = config.storage() instanceof ServerConfig.Storage.Memory ? Metadata.inMemory() : Metadata.onObjectStore(observed);
    return start(config, observed, metadata, metrics);
  }

  /** The process's metadata store: each node's view of it, and how to close it (before the object store). */
  record Metadata(Function<Scheduler, MetadataStore> views, AutoCloseable closer, String description) {
    static Metadata inMemory() {
      InMemoryMetadataStore m = new InMemoryMetadataStore();
      return new Metadata(m::view, () -> {}, "in memory");
    }

    /** {@link ObjectStoreMetadataStore} on {@code store}: recovers what is there, then takes over as its writer. */
    static Metadata onObjectStore(SharedObjectStore store) {
      try {
        ObjectStoreMetadataStore m = ObjectStoreMetadataStore.open(store, ObjectStoreMetadataStore.Options.defaults()
            .withOnFenced(f -> log.error("another server took over this storage's metadata: {}", f.getMessage())));
        return new Metadata(m::view, m::close, "durable, in the object store");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while recovering the metadata store", e);
      }
    }
  }

  /** Over {@code store} with {@code metadata} already opened on it (its own requests are then not counted). */
  static Server start(ServerConfig config, SharedObjectStore store, Metadata metadata) {
    return start(config, store, metadata, (BiFunction<NodeId, Scheduler, Network>) null);
  }

  /**
   * As above, with each node's network from {@code networks} (null: the in-process network), e.g.
   * every node on its own {@link io.s2j.runtime.real.NettyNetwork}: the cell's components then
   * talk over TCP as they will between processes.
   */
  static Server start(ServerConfig config, SharedObjectStore store, Metadata metadata,
      BiFunction<NodeId, Scheduler, Network> networks) {
    ServerMetrics metrics = new ServerMetrics(System::currentTimeMillis);
    return start(config, new ObservedObjectStore(store, metrics), metadata, metrics, networks);
  }

  private static Server start(ServerConfig config, SharedObjectStore store, Metadata metadata, ServerMetrics metrics) {
    return start(config, store, metadata, metrics, null);
  }

  private static Server start(ServerConfig config, SharedObjectStore store, Metadata metadata, ServerMetrics metrics,
      BiFunction<NodeId, Scheduler, Network> networks) {
    ChannelKnobs base = config.storage() instanceof ServerConfig.Storage.S3 ? ChannelKnobs.STANDARD : ChannelKnobs.CHEAP_STORE;
    ChannelKnobs knobs = config.flushIntervalMs() == null ? base : withFlushInterval(base, config.flushIntervalMs());
    RealRuntime runtime = new RealRuntime(store, new SecureRandom().nextLong(), metadata.views(), metadata.closer(), networks);
    Frontend frontend;
    try {
      Map<String, List<NodeId>> hosts = new LinkedHashMap<>();
      Map<Env, io.s2j.channel.Channel> channels = new LinkedHashMap<>();
      for (int c = 1; c <= config.channels(); c++) {
        String channelId = "ch-" + c;
        NodeId node = NodeId.of(channelId + "-a");
        Env env = runtime.env(node);
        channels.put(env, onExecutor(env, () -> new io.s2j.channel.Channel(env, channelId, knobs)));
        hosts.put(channelId, List.of(node));
      }
      awaitServing(channels);
      ChannelDirectory directory = new ChannelDirectory(hosts);
      // The cop: activates dormant streams by power of two choices on load and rebalances by
      // migration (docs/design.md, "The cop"); alone in this binary, so it acts at once.
      NodeId copNode = NodeId.of("cop-1");
      Env copEnv = runtime.env(copNode);
      onExecutor(copEnv, () -> new io.s2j.cop.Cop(copEnv, io.s2j.cop.CopKnobs.DEFAULTS, directory));
      // Cachey: one node caching segment pages read by the frontend (docs/design.md, "Cachey").
      NodeId cacheyNode = NodeId.of("cachey-1");
      Env cacheyEnv = runtime.env(cacheyNode);
      onExecutor(cacheyEnv, () -> new io.s2j.cachey.Cachey(cacheyEnv, CACHEY_KNOBS));
      io.s2j.cachey.CacheyRing ring = new io.s2j.cachey.CacheyRing(List.of(new io.s2j.cachey.CacheyNode(cacheyNode, "local")));
      Env fe = runtime.env(NodeId.of("fe-1"));
      long cacheNanos = TimeUnit.MILLISECONDS.toNanos(config.streamCacheMs());
      frontend = onExecutor(fe, () -> {
        Catalog catalog = new Catalog(fe, cacheNanos);
        io.s2j.cachey.CacheyClient objects = new io.s2j.cachey.CacheyClient(fe, ring, "local", CACHEY_RPC_TIMEOUT_NANOS);
        DataPlane data = new DataPlane(fe, catalog, directory, io.s2j.channel.PlantedBug.NONE, objects)
            .withActivator(new io.s2j.cop.CopClient(fe, List.of(copNode)));
        SecureRandom nonces = new SecureRandom();
        data.useNonces(nonces::nextBytes);
        return new Frontend(fe, catalog, data);
      });
      // Background work (retention, delete-on-empty, deletion, garbage collection) on its own node.
      Env bg = runtime.env(NodeId.of("bg-1"));
      onExecutor(bg, () -> new io.s2j.bgtask.BgTask(bg, new Catalog(bg, cacheNanos), directory,
          io.s2j.bgtask.BgTask.Knobs.standard(cacheNanos)).withActivator(new io.s2j.cop.CopClient(bg, List.of(copNode))));
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }

    return serve(config, runtime, metrics, frontend, knobs,
        "storage " + config.storage() + ", metadata " + metadata.description() + ", " + config.channels() + " channel(s)");
  }

  /**
   * A frontend-only process of a distributed cell ({@code --role frontend}): the frontend node
   * {@code feNode} on {@code runtime} (whose nodes talk to the cell's other processes over the
   * network), with the channels, cachey nodes and cops that process found in etcd, behind the HTTP
   * API. The returned server owns {@code runtime}. The views belong to the frontend node's executor:
   * the caller replaces their snapshots there as the cell changes.
   */
  static Server startFrontend(ServerConfig config, RealRuntime runtime, ServerMetrics metrics, NodeId feNode,
      io.s2j.runtime.View<ChannelDirectory> directory, io.s2j.runtime.View<io.s2j.cachey.CacheyRing> ring, String zone,
      io.s2j.runtime.View<List<NodeId>> cops, String description) {
    ChannelKnobs base = config.storage() instanceof ServerConfig.Storage.S3 ? ChannelKnobs.STANDARD : ChannelKnobs.CHEAP_STORE;
    ChannelKnobs knobs = config.flushIntervalMs() == null ? base : withFlushInterval(base, config.flushIntervalMs());
    Frontend frontend;
    try {
      Env fe = runtime.env(feNode);
      long cacheNanos = TimeUnit.MILLISECONDS.toNanos(config.streamCacheMs());
      frontend = onExecutor(fe, () -> {
        Catalog catalog = new Catalog(fe, cacheNanos);
        io.s2j.cachey.CacheyClient objects = new io.s2j.cachey.CacheyClient(fe, ring, zone, CACHEY_RPC_TIMEOUT_NANOS);
        DataPlane data = new DataPlane(fe, catalog, directory, io.s2j.channel.PlantedBug.NONE, objects)
            .withActivator(new io.s2j.cop.CopClient(fe, cops));
        SecureRandom nonces = new SecureRandom();
        data.useNonces(nonces::nextBytes);
        return new Frontend(fe, catalog, data);
      });
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
    return serve(config, runtime, metrics, frontend, knobs, description);
  }

  private static Server serve(ServerConfig config, RealRuntime runtime, ServerMetrics metrics, Frontend frontend,
      ChannelKnobs knobs, String description) {
    String adminToken = config.adminToken();
    if (config.auth() && adminToken == null) {
      adminToken = AccessTokens.newAdminToken();
      log.warn("auth is on and no admin token was given: this one has every permission and is shown only now: {}", adminToken);
    } else if (!config.auth() && adminToken != null) {
      log.warn("an admin token was given but auth is off (--auth): every request is allowed");
    }
    Services services = new Services(frontend, new AccessTokens(frontend, config.auth(), adminToken), metrics, config);

    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("s2j-http-accept", true),
        NioIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(Math.max(2, Runtime.getRuntime().availableProcessors()),
        new DefaultThreadFactory("s2j-http", true), NioIoHandler.newFactory());
    try {
      ServerBootstrap b = new ServerBootstrap()
          .group(boss, workers)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast("detect", new ProtocolDetector(services));
            }
          });
      Channel ch = b.bind(new InetSocketAddress(config.host(), config.port())).syncUninterruptibly().channel();
      Server server = new Server(config, runtime, services, knobs, boss, workers, ch);
      log.info("s2j server listening on {}:{} (HTTP/1.1 and h2c), {}, chunk flush interval {} ms, stream cache {} ms, auth {}",
          config.host(), server.port(), description, knobs.flushIntervalMs(),
          config.streamCacheMs(), config.auth() ? "on (access tokens required)" : "off (every request allowed)");
      return server;
    } catch (RuntimeException e) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      runtime.close();
      throw e;
    }
  }

  static ChannelKnobs withFlushInterval(ChannelKnobs k, long flushIntervalMs) {
    return k.withFlushIntervalMs(flushIntervalMs).conclude();
  }

  static SharedObjectStore objectStore(ServerConfig.Storage storage) {
    return switch (storage) {
      case ServerConfig.Storage.Memory m -> new InMemoryObjectStore();
      case ServerConfig.Storage.LocalDir d -> {
        try {
          yield new LocalDirObjectStore(d.root());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot open " + d.root(), e);
        }
      }
      case ServerConfig.Storage.S3 s -> S3ObjectStore.fromEnvironment(s.bucket(), s.prefix());
    };
  }

  /**
   * Waits until every channel has taken over its log (recovery reads the WAL, which takes a while
   * on S3), so the first requests are not refused as {@code unavailable}.
   */
  static void awaitServing(Map<Env, io.s2j.channel.Channel> channels) {
    long deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_TIMEOUT_SECONDS);
    for (Map.Entry<Env, io.s2j.channel.Channel> e : channels.entrySet()) {
      while (true) {
        io.s2j.channel.Channel.State state = onExecutor(e.getKey(), e.getValue()::state);
        if (state == io.s2j.channel.Channel.State.SERVING) {
          break;
        }
        if (state == io.s2j.channel.Channel.State.FENCED || System.nanoTime() - deadlineNanos > 0) {
          throw new IllegalStateException("channel on " + e.getKey().node() + " is " + state + " after "
              + STARTUP_TIMEOUT_SECONDS + " s: another server may own this storage, or it is unreachable");
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while starting", ie);
        }
      }
    }
  }

  /** Runs {@code make} on {@code env}'s executor (components are built where they live) and waits. */
  static <T> T onExecutor(Env env, java.util.function.Supplier<T> make) {
    CompletableFuture<T> f = new CompletableFuture<>();
    env.scheduler().execute(() -> {
      try {
        f.complete(make.get());
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    });
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot start a node", e);
    }
  }

  /** The port the server listens on. */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  public ServerConfig config() {
    return config;
  }

  public ChannelKnobs knobs() {
    return knobs;
  }

  /** The first exception a task threw on a node, if any (a bug). */
  public java.util.Optional<Throwable> firstTaskFailure() {
    return runtime.firstTaskFailure();
  }

  /** Blocks until the listener closes. */
  public void awaitClose() {
    serverChannel.closeFuture().syncUninterruptibly();
  }

  @Override
  public void close() {
    List<io.netty.util.concurrent.Future<?>> stops = new ArrayList<>();
    serverChannel.close().syncUninterruptibly();
    stops.add(bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS));
    stops.add(workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS));
    stops.forEach(f -> f.awaitUninterruptibly(10, TimeUnit.SECONDS));
    // The encodings kept for tailing sessions are released on the frontend's executor, their owner.
    java.util.concurrent.CompletableFuture<Void> released = new java.util.concurrent.CompletableFuture<>();
    frontend.run(() -> {
      services.liveFrames().releaseAll();
      released.complete(null);
    });
    try {
      released.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("kept encodings not released before close", e);
    }
    runtime.close();
    log.info("s2j server stopped");
  }

  Frontend frontend() {
    return frontend;
  }

  Services services() {
    return services;
  }
}
