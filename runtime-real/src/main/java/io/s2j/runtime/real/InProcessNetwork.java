package io.s2j.runtime.real;

import com.google.protobuf.Message;
import io.s2j.runtime.Cancellable;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcHandler;
import io.s2j.runtime.RpcMethod;
import io.s2j.runtime.Scheduler;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link Network} between the nodes of one {@link RealRuntime}, inside one process.
 *
 * <p>Requests and responses are handed over as the message objects themselves: protobuf messages
 * are immutable, so sharing one between nodes is as safe as copying its bytes, and one process
 * need not pay for encoding and parsing every call (a read's records were copied twice per hop).
 * The codecs are exercised by the simulator's network and by {@link NettyNetwork}. Each handler
 * runs on its node's executor and each response is hopped back onto the caller's; timeouts run on
 * the caller's timers. Nothing is lost or reordered on purpose: this is the fault-free network of
 * an embedded deployment.
 */
public final class InProcessNetwork {
  private record Served<Req extends Message, Resp extends Message>(
      RpcMethod<Req, Resp> method, RpcHandler<Req, Resp> handler) {}

  private record Endpoint(Scheduler scheduler, Map<String, Served<?, ?>> handlers) {}

  private final Map<NodeId, Endpoint> endpoints = new ConcurrentHashMap<>();

  /** Attaches {@code node}, whose executor is {@code scheduler}, and returns its view. */
  public Network attach(NodeId node, Scheduler scheduler) {
    Objects.requireNonNull(node, "node");
    Endpoint endpoint = new Endpoint(Objects.requireNonNull(scheduler, "scheduler"), new ConcurrentHashMap<>());
    if (endpoints.putIfAbsent(node, endpoint) != null) {
      throw new IllegalStateException("node already attached: " + node);
    }
    return new NodeNetwork(node, endpoint);
  }

  /** Detaches {@code node}: calls to it fail as UNAVAILABLE from now on. */
  public void detach(NodeId node) {
    endpoints.remove(node);
  }

  private final class NodeNetwork implements Network {
    private final NodeId self;
    private final Endpoint endpoint;

    NodeNetwork(NodeId self, Endpoint endpoint) {
      this.self = self;
      this.endpoint = endpoint;
    }

    @Override
    public NodeId self() {
      return self;
    }

    @Override
    public <Req extends Message, Resp extends Message> void serve(
        RpcMethod<Req, Resp> method, RpcHandler<Req, Resp> handler) {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(handler, "handler");
      if (endpoint.handlers().putIfAbsent(method.name(), new Served<>(method, handler)) != null) {
        throw new IllegalStateException(self + " already serves " + method.name());
      }
    }

    @Override
    public <Req extends Message, Resp extends Message> Promise<Resp> call(
        NodeId destination, RpcMethod<Req, Resp> method, Req request, long timeoutNanos) {
      Objects.requireNonNull(destination, "destination");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(request, "request");
      if (timeoutNanos <= 0) {
        throw new IllegalArgumentException("timeout must be positive: " + timeoutNanos);
      }
      Scheduler caller = endpoint.scheduler();
      Promise<Resp> promise = Promise.create(caller);
      String what = method.name() + " " + self + "->" + destination;
      Cancellable timer = caller.schedule(timeoutNanos,
          () -> promise.fail(IoFailure.timeout(what + ": no response within " + timeoutNanos + " ns")));
      Endpoint target = endpoints.get(destination);
      if (target == null) {
        failOn(caller, promise, timer, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, what + ": unknown node"));
        return promise;
      }
      target.scheduler().execute(() -> {
        Served<?, ?> served = target.handlers().get(method.name());
        if (served == null) {
          failOn(caller, promise, timer, IoFailure.definite(IoFailure.Kind.UNAVAILABLE, what + ": no handler"));
          return;
        }
        if (!served.method().equals(method)) { // same name, other message types: bytes would not parse
          failOn(caller, promise, timer, IoFailure.definite(IoFailure.Kind.SERVER_ERROR, what + ": served with other message types"));
          return;
        }
        Promise<? extends Message> response;
        try {
          response = invoke(served, self, request);
        } catch (RuntimeException e) {
          failOn(caller, promise, timer, IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, what + ": handler threw " + e));
          return;
        }
        if (response == null) {
          failOn(caller, promise, timer, IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, what + ": handler returned null"));
          return;
        }
        response.onComplete((resp, failure) -> {
          if (failure != null || resp == null) {
            failOn(caller, promise, timer, IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR,
                what + ": handler failed: " + (failure != null ? failure : "null response")));
            return;
          }
          @SuppressWarnings("unchecked") // the served method equals the called one, so their types agree
          Resp typed = (Resp) resp;
          caller.execute(() -> {
            timer.cancel();
            promise.complete(typed);
          });
        });
      });
      return promise;
    }

  }

  private static <Q extends Message, R extends Message> Promise<R> invoke(
      Served<Q, R> served, NodeId caller, Message request) {
    @SuppressWarnings("unchecked") // the served method equals the called one, so their types agree
    Q typed = (Q) request;
    return served.handler().handle(caller, typed);
  }

  private static <T> void failOn(Scheduler caller, Promise<T> promise, Cancellable timer, IoFailure failure) {
    caller.execute(() -> {
      timer.cancel();
      promise.fail(failure);
    });
  }
}
