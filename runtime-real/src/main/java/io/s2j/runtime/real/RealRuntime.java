package io.s2j.runtime.real;

import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.s2j.runtime.Env;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.MetadataStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime on real resources for the nodes of one process: each node gets its own Netty event
 * loop thread as its executor, the host clock, the in-process network, and views of one shared
 * object store and one shared in-memory metadata store.
 *
 * <p>Closing it stops every node's executor (dropping pending tasks), then closes a metadata store
 * it was given, then the object store.
 */
public final class RealRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RealRuntime.class);

  private record Node(Env env, EventLoopScheduler scheduler, IoEventLoopGroup group) {}

  private final SharedObjectStore objectStore;
  private final InMemoryMetadataStore metadataStore = new InMemoryMetadataStore();
  /** Each node's view of the metadata store: the in-memory one unless another was given. */
  private final Function<Scheduler, MetadataStore> metadataViews;
  /** Closes the metadata store given with {@link #metadataViews} (after the nodes, before the object store). */
  private final AutoCloseable metadataCloser;
  private final InProcessNetwork network = new InProcessNetwork();
  /** Each node's network: the in-process one unless another was given (e.g. {@link NettyNetwork}). */
  private final BiFunction<NodeId, Scheduler, Network> networks;
  private final RandomSource random;
  private final Map<NodeId, Node> nodes = new LinkedHashMap<>();
  private volatile Throwable firstTaskFailure;
  private boolean closed;

  /** A runtime over {@code objectStore} (which it now owns) with a root seed from SecureRandom. */
  public RealRuntime(SharedObjectStore objectStore) {
    this(objectStore, new SecureRandom().nextLong());
  }

  /** A runtime over {@code objectStore} (which it now owns) whose node sources fork {@code rootSeed}. */
  public RealRuntime(SharedObjectStore objectStore, long rootSeed) {
    this.objectStore = Objects.requireNonNull(objectStore, "objectStore");
    this.random = RandomSource.seeded(rootSeed);
    this.metadataViews = metadataStore::view;
    this.metadataCloser = () -> {};
    this.networks = network::attach;
  }

  /**
   * A runtime whose nodes see the metadata store that {@code metadataViews} gives for their
   * executor (e.g. a durable one on the object store) instead of the in-memory one; closing the
   * runtime calls {@code metadataCloser} after stopping the nodes and before closing the object store.
   */
  public RealRuntime(SharedObjectStore objectStore, long rootSeed, Function<Scheduler, MetadataStore> metadataViews,
      AutoCloseable metadataCloser) {
    this(objectStore, rootSeed, metadataViews, metadataCloser, null);
  }

  /**
   * As above, with each node's {@link Network} from {@code networks} (given the node and its
   * executor) instead of the in-process network; null keeps the in-process one. Whoever made the
   * networks closes them, after this runtime.
   */
  public RealRuntime(SharedObjectStore objectStore, long rootSeed, Function<Scheduler, MetadataStore> metadataViews,
      AutoCloseable metadataCloser, BiFunction<NodeId, Scheduler, Network> networks) {
    this.objectStore = Objects.requireNonNull(objectStore, "objectStore");
    this.random = RandomSource.seeded(rootSeed);
    this.metadataViews = Objects.requireNonNull(metadataViews, "metadataViews");
    this.metadataCloser = Objects.requireNonNull(metadataCloser, "metadataCloser");
    this.networks = networks != null ? networks : network::attach;
  }

  /**
   * The environment of {@code node}, created with its own executor thread on first use; later calls
   * return the same one.
   */
  public synchronized Env env(NodeId node) {
    Objects.requireNonNull(node, "node");
    if (closed) {
      throw new IllegalStateException("runtime is closed");
    }
    Node existing = nodes.get(node);
    if (existing != null) {
      return existing.env();
    }
    IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(
        1, new DefaultThreadFactory("s2j-" + node.value(), true), LocalIoHandler.newFactory());
    EventLoop loop = (EventLoop) group.next();
    EventLoopScheduler scheduler = new EventLoopScheduler(loop, failure -> onTaskFailure(node, failure));
    Env env = new Env(
        node,
        RealClock.INSTANCE,
        scheduler,
        networks.apply(node, scheduler),
        objectStore.view(scheduler),
        metadataViews.apply(scheduler),
        random.fork(node.value()));
    nodes.put(node, new Node(env, scheduler, group));
    return env;
  }

  /** The root seed, to log so a run's per-node random choices can be replayed. */
  public long rootSeed() {
    return random.seed();
  }

  /** The shared in-memory metadata store (unused if other metadata views were given), for inspection by tests and tools. */
  public InMemoryMetadataStore metadataStore() {
    return metadataStore;
  }

  /** The first exception a task threw on any node, if any: a bug, which tests turn into a failure. */
  public Optional<Throwable> firstTaskFailure() {
    return Optional.ofNullable(firstTaskFailure);
  }

  private void onTaskFailure(NodeId node, Throwable failure) {
    log.error("task on node {} threw", node, failure);
    synchronized (this) {
      if (firstTaskFailure == null) {
        firstTaskFailure = failure;
      }
    }
  }

  @Override
  public void close() {
    List<Node> toStop;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toStop = new ArrayList<>(nodes.values());
    }
    for (Node n : toStop) {
      n.scheduler().shutdown();
      network.detach(n.env().node());
    }
    for (Node n : toStop) {
      n.group().shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
    try {
      metadataCloser.close();
    } catch (Exception e) {
      log.warn("closing the metadata store failed", e);
    }
    objectStore.close();
  }
}
