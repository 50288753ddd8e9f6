package io.s2j.cop;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.channel.ChannelRpc;
import io.s2j.channel.PlantedBug;
import io.s2j.channel.proto.MigrateRequest;
import io.s2j.channel.proto.MigrateResponse;
import io.s2j.channel.proto.StatusRequest;
import io.s2j.channel.proto.StatusResponse;
import io.s2j.channel.proto.StreamletRef;
import io.s2j.cop.proto.ActivateRequest;
import io.s2j.cop.proto.ActivateResponse;
import io.s2j.cop.proto.Link;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.CopMeta;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.runtime.Env;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.View;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The cop: the control plane's one acting instance per cell. It tracks channel liveness and load
 * (probing every channel host's status), activates dormant streams on a channel chosen by power of
 * two choices on load, and migrates streams between live channels for balance (docs/design.md,
 * "The cop").
 *
 * <p><b>Exactly one acts.</b> A cop acts only after raising the cop epoch in metadata (a
 * compare-and-set, {@link MetaKey#cop()}), and every write it makes — or asks a channel to make — is
 * conditioned on that epoch key still holding its value, so once another cop has taken over,
 * nothing the deposed one does lands. Liveness comes from a lease ({@link MetaKey#copLease()}) that
 * the acting cop renews; a standby takes over when it sees the lease stand still for
 * {@link CopKnobs#leaseMs()} on its own clock. Leases only decide when to try; the epoch decides
 * who can write.
 */
public final class Cop {
  /** Whether this instance acts. */
  public enum Role {
    STANDBY,
    ACTING
  }

  static final long CHANNEL_RPC_TIMEOUT_NANOS = 10_000_000_000L;
  static final int ACTIVATE_WRITE_ATTEMPTS_MAX = 5;
  static final int DECIDED_MAX = 100_000;

  private final Env env;
  private final CopKnobs knobs;
  /** The cell's channels; replaced by the runtime when a channel joins (channel ids are never removed). */
  private final View<ChannelDirectory> directory;
  private final PlantedBug bug;
  private final RandomSource random;
  private Role role = Role.STANDBY;
  /** The epoch key's value while acting (every write is conditioned on it). */
  private ByteString mine;
  private long epoch;
  private long heartbeat;
  private long lastRenewedNanos;
  private long seenLeaseRevision = Long.MIN_VALUE;
  private long seenLeaseAtNanos;

  /** What the cop knows of each channel from its probes. */
  private static final class ChannelView {
    /** When this cop first heard of the channel (its start, or the view change that listed it). */
    final long knownSinceNanos;
    long lastServingNanos = Long.MIN_VALUE;
    long activeStreamlets;
    /** Streams activated on it since its last status answer. */
    long addedSinceStatus;

    ChannelView(long knownSinceNanos) {
      this.knownSinceNanos = knownSinceNanos;
    }
  }

  private final TreeMap<String, ChannelView> channels = new TreeMap<>();
  /** Activations in progress, by stream id (concurrent requests for one stream join). */
  private final TreeMap<Long, Promise<ActivateResponse>> activating = new TreeMap<>();
  /**
   * Streamlet 0 decided per stream until seen in metadata: a write with an unknown outcome is
   * retried with the same value, so a late landing of the first one changes nothing.
   */
  private final TreeMap<Long, StreamletMeta> decided = new TreeMap<>();
  private boolean migrating;
  /** Idle channel hosts a dead channel may be handed to; replaced by the runtime when a spare joins. */
  private final View<List<NodeId>> spares;
  private final long startedNanos;
  /** Spares this cop has seen running a channel (or asked to): spare → channel. */
  private final TreeMap<String, String> spareRuns = new TreeMap<>();
  private long replacements;
  /** The channel each spare was last seen to have started (for counting replacements once). */
  private final TreeMap<String, String> replacedOn = new TreeMap<>();

  private long channelsAdded;
  private long takeovers;
  private long activations;
  private long migrationsStarted;
  private long migrationsCommitted;
  private long migrationsAbandoned;

  public Cop(Env env, CopKnobs knobs, ChannelDirectory directory) {
    this(env, knobs, directory, List.of(), PlantedBug.NONE);
  }

  /**
   * A cop that replaces dead channels on {@code spares} (idle {@link io.s2j.channel.ChannelHost}s,
   * which the directory must also list as hosts of every channel); with a planted bug for the
   * simulator's planted-bug runs only.
   */
  public Cop(Env env, CopKnobs knobs, ChannelDirectory directory, List<NodeId> spares, PlantedBug bug) {
    this(env, knobs, View.of(directory), View.of(List.copyOf(spares)), bug);
  }

  /**
   * A cop following {@code directory} and {@code spares} as they change: a channel the directory
   * lists later is probed from then on, may be picked for activations and migrations once it answers
   * as serving, and is handed to a spare only after it went unserved for the dead-after bound since
   * it was listed. A channel id, once listed, must stay listed (channel ids are permanent: streams
   * keep links on it).
   */
  public Cop(Env env, CopKnobs knobs, View<ChannelDirectory> directory, View<List<NodeId>> spares, PlantedBug bug) {
    this.spares = spares;
    this.startedNanos = env.clock().nowNanos();
    this.env = env;
    this.knobs = knobs.conclude();
    this.directory = directory;
    this.bug = bug;
    this.random = env.random().fork("cop");
    for (String c : directory.current().channelIds()) {
      channels.put(c, new ChannelView(startedNanos));
    }
    directory.onChange(this::onDirectory);
    env.network().serve(CopRpc.ACTIVATE, this::onActivate);
    if (bug == PlantedBug.TWO_COPS_ACT) {
      // The bug: act at once, holding no epoch; writes go unguarded.
      role = Role.ACTING;
      mine = ByteString.EMPTY;
    }
    env.scheduler().execute(this::leaseTick);
    env.scheduler().execute(this::probe);
    env.scheduler().schedule(knobs.balanceIntervalMs() * 1_000_000L, this::balance);
  }

  private void onDirectory(ChannelDirectory now) {
    for (String known : channels.keySet()) {
      Invariants.check(now.has(known), "channel %s left the cop's directory (channel ids are permanent)", known);
    }
    long nowNanos = env.clock().nowNanos();
    for (String c : now.channelIds()) {
      if (!channels.containsKey(c)) {
        channels.put(c, new ChannelView(nowNanos));
        channelsAdded++;
      }
    }
  }

  /** Channels this cop was told of after it started (by a change of its directory view). */
  public long channelsAdded() {
    return channelsAdded;
  }

  public Role role() {
    return role;
  }

  public long epoch() {
    return epoch;
  }

  /** Counters for the scenario's description. */
  public record Counters(long takeovers, long activations, long migrationsStarted, long migrationsCommitted, long migrationsAbandoned,
      long replacements) {}

  public Counters counters() {
    return new Counters(takeovers, activations, migrationsStarted, migrationsCommitted, migrationsAbandoned, replacements);
  }

  private boolean unguarded() {
    return bug == PlantedBug.TWO_COPS_ACT;
  }

  /** A transaction builder carrying the cop's fencing condition. */
  private Txn.Builder guarded() {
    Txn.Builder txn = Txn.builder();
    if (!unguarded()) {
      txn.ifValue(MetaKey.cop(), mine);
    }
    return txn;
  }

  private void stepDown() {
    if (unguarded()) {
      return;
    }
    role = Role.STANDBY;
    mine = null;
    seenLeaseRevision = Long.MIN_VALUE;
  }

  // ---------------------------------------------------------------- the lease and the epoch

  private void leaseTick() {
    env.scheduler().schedule(knobs.renewMs() * 1_000_000L, this::leaseTick);
    if (unguarded()) {
      return;
    }
    if (role == Role.ACTING) {
      renew();
    } else {
      watch();
    }
  }

  private void renew() {
    ByteString value = mine;
    CopMeta lease = CopMeta.newBuilder().setEpoch(epoch).setNode(env.node().value()).setHeartbeat(++heartbeat).build();
    env.metadataStore().commit(guarded().put(MetaKey.copLease(), lease.toByteString()).build()).onComplete((result, failure) -> {
      if (value != mine) {
        return;
      }
      long now = env.clock().nowNanos();
      if (failure == null && result instanceof TxnResult.Committed) {
        lastRenewedNanos = now;
      } else if (failure == null) {
        stepDown(); // the epoch moved: another cop took over
      } else if (now - lastRenewedNanos >= knobs.leaseMs() * 1_000_000L) {
        stepDown(); // could not renew for a lease: a standby may be taking over
      }
    });
  }

  private void watch() {
    env.metadataStore().get(MetaKey.copLease()).onComplete((lease, failure) -> {
      if (failure != null || role != Role.STANDBY) {
        return;
      }
      long now = env.clock().nowNanos();
      long revision = lease.map(KeyValue::modRevision).orElse(-1L);
      if (seenLeaseRevision == Long.MIN_VALUE && lease.isPresent()
          && parse(lease.get().value()).getNode().equals(env.node().value())) {
        // The lease is this node's own, from before it restarted: no need to wait it out (the
        // epoch, not the lease, fences whatever an earlier incarnation might still send).
        seenLeaseRevision = revision;
        takeOver(lease);
        return;
      }
      if (revision != seenLeaseRevision) {
        boolean firstLook = seenLeaseRevision == Long.MIN_VALUE;
        seenLeaseRevision = revision;
        seenLeaseAtNanos = now;
        if (!(firstLook && lease.isEmpty())) {
          return; // the lease moved (or this is the first look at one): someone acts
        }
      } else if (now - seenLeaseAtNanos < knobs.leaseMs() * 1_000_000L) {
        return;
      }
      takeOver(lease);
    });
  }

  /** Raises the epoch over the lease this cop saw standing still (both guarded by revision). */
  private void takeOver(Optional<KeyValue> lease) {
    env.metadataStore().get(MetaKey.cop()).onComplete((current, failure) -> {
      if (failure != null || role != Role.STANDBY) {
        return;
      }
      long old = current.map(kv -> parse(kv.value()).getEpoch()).orElse(0L);
      CopMeta meta = CopMeta.newBuilder().setEpoch(old + 1).setNode(env.node().value()).build();
      Txn.Builder txn = Txn.builder();
      if (current.isPresent()) {
        txn.ifRevision(MetaKey.cop(), current.get().modRevision());
      } else {
        txn.ifAbsent(MetaKey.cop());
      }
      if (lease.isPresent()) {
        txn.ifRevision(MetaKey.copLease(), lease.get().modRevision());
      } else {
        txn.ifAbsent(MetaKey.copLease());
      }
      txn.put(MetaKey.cop(), meta.toByteString()).put(MetaKey.copLease(), meta.toByteString());
      env.metadataStore().commit(txn.build()).onComplete((result, commitFailure) -> {
        if (commitFailure == null && result instanceof TxnResult.Committed) {
          acting(meta);
        } else if (commitFailure != null) {
          // Unknown outcome: it is ours only if our value is there.
          env.metadataStore().get(MetaKey.cop()).onComplete((now, readFailure) -> {
            if (readFailure == null && now.isPresent() && now.get().value().equals(meta.toByteString())) {
              acting(meta);
            }
          });
        }
      });
    });
  }

  private void acting(CopMeta meta) {
    if (role == Role.ACTING) {
      return;
    }
    role = Role.ACTING;
    mine = meta.toByteString();
    epoch = meta.getEpoch();
    heartbeat = meta.getHeartbeat();
    lastRenewedNanos = env.clock().nowNanos();
    takeovers++;
    // Decisions of an earlier term were never written under this epoch: decide again from metadata.
    decided.clear();
  }

  private static CopMeta parse(ByteString bytes) {
    try {
      return CopMeta.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt cop metadata: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- channel liveness and load

  private void probe() {
    env.scheduler().schedule(knobs.probeIntervalMs() * 1_000_000L, this::probe);
    if (role == Role.ACTING) {
      replaceDead();
    }
    ChannelDirectory dir = directory.current();
    for (String channelId : dir.channelIds()) {
      for (NodeId host : dir.hostsOf(channelId)) {
        env.network().call(host, ChannelRpc.STATUS, StatusRequest.getDefaultInstance(), knobs.probeIntervalMs() * 1_000_000L)
            .onComplete((status, failure) -> {
              if (failure == null && status.getServing() && status.getChannelId().equals(channelId)) {
                ChannelView view = channels.get(channelId);
                view.lastServingNanos = env.clock().nowNanos();
                view.activeStreamlets = status.getActiveStreamlets();
                view.addedSinceStatus = 0;
              }
            });
      }
    }
  }

  /**
   * Replaces each channel that no host has served for the dead-after bound (and that this cop has
   * watched for at least that long) on an idle spare: the spare starts the channel, which takes it
   * over (epoch, fence) like any new incarnation. One replacement per channel per probe round.
   */
  private void replaceDead() {
    if (spares.current().isEmpty()) {
      return;
    }
    long now = env.clock().nowNanos();
    long deadNanos = knobs.channelDeadAfterMs() * 1_000_000L;
    if (now - startedNanos < deadNanos) {
      return;
    }
    for (String channelId : directory.current().channelIds()) {
      ChannelView view = channels.get(channelId);
      if (now - view.knownSinceNanos < deadNanos) {
        continue; // not watched long enough (listed by a recent view change)
      }
      boolean dead = view.lastServingNanos == Long.MIN_VALUE ? now - view.knownSinceNanos >= 2 * deadNanos
          : now - view.lastServingNanos > deadNanos;
      if (!dead) {
        continue;
      }
      NodeId already = null;
      NodeId free = null;
      for (NodeId spare : spares.current()) {
        String runs = spareRuns.getOrDefault(spare.value(), "");
        if (runs.equals(channelId)) {
          already = spare;
        } else if (runs.isEmpty() && free == null) {
          free = spare;
        }
      }
      // A spare already given the channel is asked again (idempotent; a restarted spare is idle
      // and starts it anew; one that is down is forgotten and another is tried next round).
      NodeId chosen = already != null ? already : free;
      if (chosen != null) {
        spareRuns.put(chosen.value(), channelId);
        host(chosen, channelId);
      }
    }
  }

  private void host(NodeId spare, String channelId) {
    env.network().call(spare, ChannelRpc.HOST, io.s2j.channel.proto.HostRequest.newBuilder().setChannelId(channelId).build(),
        knobs.probeIntervalMs() * 1_000_000L).onComplete((resp, failure) -> {
          if (failure != null) {
            spareRuns.remove(spare.value()); // try again next round (perhaps on another spare)
          } else {
            spareRuns.put(spare.value(), resp.getChannelId());
            if (resp.getChannelId().equals(channelId) && !channelId.equals(replacedOn.put(spare.value(), channelId))) {
              replacements++;
            }
          }
        });
  }

  /** Channels with a serving host seen within the dead-after bound, in id order. */
  public List<String> liveChannels() {
    long now = env.clock().nowNanos();
    List<String> live = new ArrayList<>();
    channels.forEach((id, view) -> {
      if (view.lastServingNanos != Long.MIN_VALUE && now - view.lastServingNanos <= knobs.channelDeadAfterMs() * 1_000_000L) {
        live.add(id);
      }
    });
    return live;
  }

  private long load(String channelId) {
    ChannelView view = channels.get(channelId);
    return view.activeStreamlets + view.addedSinceStatus;
  }

  /** Power of two choices: two distinct random candidates, the less loaded (one candidate: it). */
  private String pick(List<String> candidates) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    int a = random.nextInt(candidates.size());
    int b = random.nextInt(candidates.size() - 1);
    if (b >= a) {
      b++;
    }
    return load(candidates.get(b)) < load(candidates.get(a)) ? candidates.get(b) : candidates.get(a);
  }

  // ---------------------------------------------------------------- activation

  private Promise<ActivateResponse> onActivate(NodeId caller, ActivateRequest request) {
    if (role != Role.ACTING) {
      return Promise.completed(env.scheduler(), notActing());
    }
    Promise<ActivateResponse> joined = activating.get(request.getStreamId());
    if (joined != null) {
      return joined;
    }
    Promise<ActivateResponse> response = env.promise();
    activating.put(request.getStreamId(), response);
    response.onComplete((r, f) -> activating.remove(request.getStreamId()));
    io.s2j.api.StorageClass storageClass = io.s2j.api.StorageClass.fromWireName(request.getStorageClass());
    activate(request.getStreamId(), storageClass == null ? io.s2j.api.StorageClass.STANDARD : storageClass, response, 0);
    return response;
  }

  private static ActivateResponse notActing() {
    return ActivateResponse.newBuilder().setNotActing(true).setError("this cop is not the acting one").build();
  }

  private static ActivateResponse error(String message) {
    return ActivateResponse.newBuilder().setError(message).build();
  }

  private void activate(long streamId, io.s2j.api.StorageClass storageClass, Promise<ActivateResponse> response, int attempt) {
    ByteString value = mine;
    ByteString prefix = MetaKey.streamletsPrefix(streamId);
    env.metadataStore().scan(prefix, MetadataStore.prefixEnd(prefix), MetadataStore.SCAN_LIMIT_MAX).onComplete((page, failure) -> {
      if (value != mine) {
        response.complete(notActing());
        return;
      }
      if (failure != null) {
        response.complete(error("metadata unavailable: " + failure.getMessage()));
        return;
      }
      if (!page.entries().isEmpty()) {
        decided.remove(streamId);
        ActivateResponse.Builder chain = ActivateResponse.newBuilder();
        for (KeyValue kv : page.entries()) {
          chain.addLinks(Link.newBuilder().setIndex(MetaKey.u64At(kv.key(), 1)).setMeta(parseLink(kv.value())));
        }
        response.complete(chain.build());
        return;
      }
      if (attempt >= ACTIVATE_WRITE_ATTEMPTS_MAX) {
        response.complete(error("could not activate the stream (metadata writes failed)"));
        return;
      }
      activateChecked(streamId, storageClass, response, attempt);
    });
  }

  /**
   * Activation of a dormant stream once its chain was found empty: refused for an incarnation that
   * was deleted (its purge marker is there: a frontend whose lookup predates the deletion asked
   * late — found by the sweep, cell seed 5300), else the first link is written, guarded by the cop's
   * epoch, the link's absence and the marker's state as read.
   */
  private void activateChecked(long streamId, io.s2j.api.StorageClass storageClass, Promise<ActivateResponse> response, int attempt) {
    ByteString trimKey = MetaKey.trim(streamId);
    env.metadataStore().get(trimKey).onComplete((trim, trimFailure) -> {
      if (trimFailure != null) {
        response.complete(error("metadata unavailable: " + trimFailure.getMessage()));
        return;
      }
      boolean deleted;
      try {
        deleted = trim.isPresent() && io.s2j.metadata.proto.TrimMeta.parseFrom(trim.get().value()).getPurge();
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new Invariants.InvariantViolation("corrupt trim metadata of stream " + streamId);
      }
      if (deleted) {
        response.complete(error("stream " + streamId + " was deleted"));
        return;
      }
      StreamletMeta meta = decided.get(streamId);
      if (meta == null) {
        // Channels of the stream's storage class (all when the cell has none), live ones first.
        List<String> ofClass = directory.current().channelIdsFor(storageClass);
        List<String> live = new ArrayList<>(liveChannels());
        live.retainAll(ofClass);
        String channel = pick(live.isEmpty() ? ofClass : live);
        meta = StreamletMeta.newBuilder().setStreamletId(random.nextLong(1, Long.MAX_VALUE)).setChannelId(channel)
            .setStartSeqNum(0).setStartTimestamp(0).setCopEpoch(epoch).build();
        if (decided.size() >= DECIDED_MAX) {
          decided.pollFirstEntry();
        }
        decided.put(streamId, meta);
        channels.get(channel).addedSinceStatus++;
      }
      StreamletMeta chosen = meta;
      // Guarded by the epoch (a deposed cop's write fails; this one retries only the value it
      // decided), by the first link's absence (it is never overwritten, whoever wrote it) and by
      // the trim marker as read (a deletion committed meanwhile makes the write fail).
      ByteString first = MetaKey.streamlet(streamId, 0);
      Txn.Builder guard = guarded();
      if (!unguarded()) { // the planted bug trusts what it read, as it trusts being the acting cop
        guard.ifAbsent(first);
        if (trim.isPresent()) {
          guard.ifRevision(trimKey, trim.get().modRevision());
        } else {
          guard.ifAbsent(trimKey);
        }
      }
      Txn txn = guard.put(first, chosen.toByteString()).build();
      env.metadataStore().commit(txn).onComplete((result, commitFailure) -> {
        if (commitFailure == null && result instanceof TxnResult.Committed) {
          decided.remove(streamId);
          activations++;
          response.complete(ActivateResponse.newBuilder().addLinks(Link.newBuilder().setIndex(0).setMeta(chosen)).build());
        } else if (commitFailure == null) {
          // The epoch moved on (deposed), or the first link or the trim marker changed: look again.
          decided.remove(streamId);
          env.metadataStore().get(MetaKey.cop()).onComplete((cop, getFailure) -> {
            if (getFailure == null && !unguarded() && (cop.isEmpty() || !cop.get().value().equals(mine))) {
              stepDown();
              response.complete(notActing());
            } else {
              activate(streamId, storageClass, response, attempt + 1);
            }
          });
        } else {
          env.scheduler().schedule(20_000_000L * (attempt + 1), () -> activate(streamId, storageClass, response, attempt + 1));
        }
      });
    });
  }

  private static StreamletMeta parseLink(ByteString bytes) {
    try {
      return StreamletMeta.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new Invariants.InvariantViolation("corrupt streamlet link: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- balance and migration

  /** One stream's current (last) link as the cop read it. */
  private record Current(long streamId, long index, StreamletMeta meta, long revision) {}

  private void balance() {
    env.scheduler().schedule(knobs.balanceIntervalMs() * 1_000_000L, this::balance);
    if (role != Role.ACTING || migrating) {
      return;
    }
    migrating = true;
    scanLinks(MetaKey.allStreamletsPrefix(), new TreeMap<>());
  }

  private void scanLinks(ByteString from, TreeMap<Long, Current> last) {
    ByteString end = MetadataStore.prefixEnd(MetaKey.allStreamletsPrefix());
    env.metadataStore().scan(from, end, MetadataStore.SCAN_LIMIT_MAX).onComplete((page, failure) -> {
      if (failure != null || role != Role.ACTING) {
        migrating = false;
        return;
      }
      for (KeyValue kv : page.entries()) {
        long streamId = MetaKey.u64At(kv.key(), 0);
        long index = MetaKey.u64At(kv.key(), 1);
        Current c = last.get(streamId);
        if (c == null || c.index() < index) {
          last.put(streamId, new Current(streamId, index, parseLink(kv.value()), kv.modRevision()));
        }
      }
      if (page.more()) {
        scanLinks(page.entries().get(page.entries().size() - 1).key().concat(ByteString.copyFrom(new byte[] {0})), last);
      } else {
        decide(last);
      }
    });
  }

  private void decide(TreeMap<Long, Current> last) {
    List<String> live = liveChannels();
    TreeMap<String, List<Current>> byChannel = new TreeMap<>();
    live.forEach(c -> byChannel.put(c, new ArrayList<>()));
    for (Current c : last.values()) {
      if (!c.meta().hasEndSeqNum() && byChannel.containsKey(c.meta().getChannelId())) {
        byChannel.get(c.meta().getChannelId()).add(c);
      }
    }
    if (live.size() < 2 || last.isEmpty()) {
      migrating = false;
      return;
    }
    Current move = null;
    String target = null;
    if (random.chance(knobs.rollingMigrationChance())) {
      List<Current> all = new ArrayList<>();
      byChannel.values().forEach(all::addAll);
      if (!all.isEmpty()) {
        move = all.get(random.nextInt(all.size()));
        String source = move.meta().getChannelId();
        // A stream moves only between channels of one storage class (an express stream's log stays
        // on the zonal quorum).
        List<String> others = new ArrayList<>(live);
        others.remove(source);
        ChannelDirectory dir = directory.current();
        others.removeIf(c -> dir.storageClassOf(c) != dir.storageClassOf(source));
        target = others.isEmpty() ? null : pick(others);
        if (target == null) {
          move = null;
        }
      }
    } else {
      String busiest = null;
      String idlest = null;
      for (var e : byChannel.entrySet()) {
        if (busiest == null || e.getValue().size() > byChannel.get(busiest).size()) {
          busiest = e.getKey();
        }
      }
      for (var e : byChannel.entrySet()) {
        boolean sameClass = directory.current().storageClassOf(e.getKey()) == directory.current().storageClassOf(busiest);
        if (sameClass && (idlest == null || e.getValue().size() < byChannel.get(idlest).size())) {
          idlest = e.getKey();
        }
      }
      List<Current> candidates = byChannel.get(busiest);
      if (candidates.size() - byChannel.get(idlest).size() >= knobs.imbalanceMin() && !candidates.isEmpty()) {
        move = candidates.get(random.nextInt(candidates.size()));
        target = idlest;
      }
    }
    if (move == null) {
      migrating = false;
      return;
    }
    migrate(move, target);
  }

  /**
   * Asks the source channel to hand the stream's current link over to a new streamlet on {@code
   * target}: the channel seals, drains and commits the chain change under this cop's epoch.
   */
  private void migrate(Current current, String target) {
    migrationsStarted++;
    long newId = random.nextLong(1, Long.MAX_VALUE);
    StreamletMeta m = current.meta();
    StreamletRef ref = ChannelRpc.linkRef(current.streamId(), current.index(), m, null, null);
    MigrateRequest request = MigrateRequest.newBuilder().setStreamlet(ref).setLinkRevision(current.revision())
        .setNewStreamletId(newId).setNewChannelId(target).setCopValue(mine).build();
    channels.get(target).addedSinceStatus++;
    migrateVia(directory.current().hostsOf(m.getChannelId()), 0, request);
  }

  private void migrateVia(List<NodeId> hosts, int n, MigrateRequest request) {
    if (n >= hosts.size()) {
      migrationsAbandoned++;
      migrating = false;
      return;
    }
    env.network().call(hosts.get(n), ChannelRpc.MIGRATE, request, CHANNEL_RPC_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      if (failure == null && resp.hasSealedAt()) {
        migrationsCommitted++;
        migrating = false;
        hintTarget(request);
      } else if (failure instanceof IoFailure io && !io.indefinite() || (failure == null && notServedHere(resp))) {
        migrateVia(hosts, n + 1, request);
      } else {
        migrationsAbandoned++;
        migrating = false;
        hintTarget(request);
      }
    });
  }

  /**
   * Tells the target's hosts that the migration resolved, so that a streamlet it started
   * speculatively reads its link now rather than at its next poll. A hint: the target believes the
   * link it reads, not this call, and nothing waits for the answer.
   */
  private void hintTarget(MigrateRequest request) {
    io.s2j.channel.proto.ResolveRequest hint =
        io.s2j.channel.proto.ResolveRequest.newBuilder().setStreamletId(request.getNewStreamletId()).build();
    for (NodeId host : directory.current().hostsOf(request.getNewChannelId())) {
      env.network().call(host, ChannelRpc.RESOLVE, hint, CHANNEL_RPC_TIMEOUT_NANOS);
    }
  }

  private static boolean notServedHere(MigrateResponse resp) {
    return resp.hasError() && resp.getError().getMessage().startsWith("channel ") && resp.getError().getMessage().contains("cannot migrate");
  }
}
