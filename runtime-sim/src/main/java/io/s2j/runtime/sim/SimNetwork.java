package io.s2j.runtime.sim;

import com.dynatrace.hash4j.hashing.Hashing;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RandomSource;
import io.s2j.runtime.RpcHandler;
import io.s2j.runtime.RpcMethod;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The simulated network between processes: latency, loss, delay spikes, partitions.
 *
 * <p>Each direction between two processes behaves like one connection: messages on it arrive in
 * the order sent (a message never overtakes an earlier one on the same link), while different links
 * reorder freely. A message is dropped when the link is partitioned at send or at delivery time, or
 * with the profile's drop rate; the caller then sees its timeout. A request to a process that is
 * down when it arrives is answered with a definite UNAVAILABLE (as a refused connection is).
 * Requests and responses are encoded to bytes and parsed again, and their hashes go into the trace.
 */
public final class SimNetwork {
  private final SimWorld world;
  private final RandomSource random;
  private final Map<Long, Long> linkLastArrivalNanos = new LinkedHashMap<>();
  private final TreeSet<Long> blockedLinks = new TreeSet<>();
  private LatencyModel latency = LatencyModel.NETWORK;
  private long messagesSent;
  private long messagesDropped;

  SimNetwork(SimWorld world, RandomSource random) {
    this.world = world;
    this.random = random;
  }

  public void setLatency(LatencyModel latency) {
    this.latency = latency;
  }

  public long messagesSent() {
    return messagesSent;
  }

  public long messagesDropped() {
    return messagesDropped;
  }

  private static long link(SimProcess from, SimProcess to) {
    return ((long) from.index() << 32) | to.index();
  }

  /** Stops messages from {@code from} to {@code to} (one way). */
  public void block(SimProcess from, SimProcess to) {
    blockedLinks.add(link(from, to));
  }

  /** Lets messages from {@code from} to {@code to} through again. */
  public void unblock(SimProcess from, SimProcess to) {
    blockedLinks.remove(link(from, to));
  }

  /** Removes every partition. */
  public void healAll() {
    blockedLinks.clear();
  }

  public boolean blocked(SimProcess from, SimProcess to) {
    return blockedLinks.contains(link(from, to));
  }

  private boolean dropped(SimProcess from, SimProcess to) {
    if (blocked(from, to) || random.chance(world.faults().netDropRate())) {
      messagesDropped++;
      return true;
    }
    return false;
  }

  /** When a message of {@code bytes} sent now on the link arrives, keeping the link in order. */
  private long arrivalNanos(SimProcess from, SimProcess to, long bytes) {
    long delay = latency.sampleNanos(random, bytes);
    if (random.chance(world.faults().netDelaySpikeRate())) {
      delay *= 10 + random.nextInt(90);
    }
    long at = world.simulator().nowNanos() + delay;
    Long key = link(from, to);
    Long last = linkLastArrivalNanos.get(key);
    if (last != null && last > at) {
      at = last;
    }
    linkLastArrivalNanos.put(key, at);
    return at;
  }

  Network endpoint(SimProcess.Incarnation owner) {
    return new Endpoint(owner);
  }

  /** One incarnation's view of the network: its handlers and its calls. */
  private final class Endpoint implements Network {
    private final SimProcess.Incarnation owner;
    private final Map<String, RpcHandler<?, ?>> handlers = new LinkedHashMap<>();

    Endpoint(SimProcess.Incarnation owner) {
      this.owner = owner;
    }

    @Override
    public NodeId self() {
      return owner.process().id();
    }

    @Override
    public <Req extends Message, Resp extends Message> void serve(
        RpcMethod<Req, Resp> method, RpcHandler<Req, Resp> handler) {
      Invariants.check(handlers.put(method.name(), handler) == null, "two handlers for %s", method.name());
    }

    @Override
    public <Req extends Message, Resp extends Message> Promise<Resp> call(
        NodeId destination, RpcMethod<Req, Resp> method, Req request, long timeoutNanos) {
      Invariants.check(timeoutNanos > 0, "call without a timeout");
      Simulator sim = world.simulator();
      Promise<Resp> result = Promise.create(owner.scheduler());
      Cancellable timer = owner.scheduler().schedule(timeoutNanos,
          () -> result.fail(IoFailure.timeout(method.name() + " to " + destination)));
      result.onComplete((v, f) -> timer.cancel());

      byte[] requestBytes = request.toByteArray();
      sim.traceMix(Hashing.xxh3_64().hashBytesToLong(requestBytes));
      messagesSent++;
      SimProcess from = owner.process();
      SimProcess to = world.process(destination);
      if (to == null) {
        long at = sim.nowNanos() + latency.sampleNanos(random, 0);
        sim.schedule(at, owner, EventKind.NET_RESPOND,
            () -> result.fail(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "unknown node " + destination)));
        return result;
      }
      if (dropped(from, to)) {
        return result;
      }
      long at = arrivalNanos(from, to, requestBytes.length);
      sim.schedule(at, null, EventKind.NET_DELIVER, () -> deliver(to, method, requestBytes, result));
      return result;
    }

    private <Req extends Message, Resp extends Message> void deliver(
        SimProcess to, RpcMethod<Req, Resp> method, byte[] requestBytes, Promise<Resp> result) {
      SimProcess from = owner.process();
      if (blocked(from, to)) {
        messagesDropped++;
        return;
      }
      if (!to.up()) {
        respond(to, method, result, null, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, to.id() + " is down"));
        return;
      }
      SimProcess.Incarnation target = to.incarnation();
      Endpoint targetEndpoint = (Endpoint) target.env().network();
      @SuppressWarnings("unchecked")
      RpcHandler<Req, Resp> handler = (RpcHandler<Req, Resp>) targetEndpoint.handlers.get(method.name());
      if (handler == null) {
        respond(to, method, result, null, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "no handler for " + method.name() + " on " + to.id()));
        return;
      }
      Runnable handle = () -> {
        Req request = parse(method.requestParser(), requestBytes);
        Promise<Resp> handled = handler.handle(from.id(), request);
        handled.onComplete((resp, failure) -> {
          if (failure != null) {
            respond(to, method, result, null, IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, method.name() + " failed on " + to.id() + ": " + failure));
          } else {
            respond(to, method, result, resp.toByteArray(), null);
          }
        });
      };
      if (target.paused()) {
        // A stopped process's kernel still takes the message; the process handles it when it resumes.
        world.simulator().schedule(world.simulator().nowNanos(), target, EventKind.NET_DELIVER, handle);
      } else {
        world.simulator().runAs(target, handle);
      }
    }

    /** Sends the response (bytes, or a failure) from {@code responder} back to the caller. */
    private <Resp extends Message> void respond(
        SimProcess responder, RpcMethod<?, Resp> method, Promise<Resp> result, byte[] responseBytes, IoFailure failure) {
      Simulator sim = world.simulator();
      SimProcess caller = owner.process();
      if (responseBytes != null) {
        sim.traceMix(Hashing.xxh3_64().hashBytesToLong(responseBytes));
      }
      if (dropped(responder, caller)) {
        return;
      }
      long at = arrivalNanos(responder, caller, responseBytes == null ? 0 : responseBytes.length);
      sim.schedule(at, owner, EventKind.NET_RESPOND, () -> {
        if (failure != null) {
          result.fail(failure);
        } else {
          result.complete(parse(method.responseParser(), responseBytes));
        }
      });
    }

  }

  private static <T> T parse(com.google.protobuf.Parser<T> parser, byte[] bytes) {
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("undecodable message", e);
    }
  }
}
