package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
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
 * <p>Requests and responses are encoded to bytes and parsed again with the {@link RpcMethod}'s
 * parsers, as over a socket, so codecs are exercised exactly as in simulation. Each handler runs on
 * its node's executor and each response is hopped back onto the caller's; timeouts run on the
 * caller's timers. Nothing is lost or reordered on purpose: this is the fault-free network of an
 * embedded deployment.
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
      ByteString requestBytes = request.toByteString();
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
        Promise<? extends Message> response;
        try {
          response = invoke(served, self, requestBytes);
        } catch (InvalidProtocolBufferException e) {
          failOn(caller, promise, timer,
              IoFailure.definite(IoFailure.Kind.SERVER_ERROR, what + ": undecodable request: " + e.getMessage()));
          return;
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
          ByteString responseBytes = resp.toByteString();
          caller.execute(() -> {
            timer.cancel();
            Resp decoded;
            try {
              decoded = method.responseParser().parseFrom(responseBytes);
            } catch (InvalidProtocolBufferException e) {
              promise.fail(IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, what + ": undecodable response: " + e.getMessage()));
              return;
            }
            promise.complete(decoded);
          });
        });
      });
      return promise;
    }

  }

  private static <Q extends Message, R extends Message> Promise<R> invoke(
      Served<Q, R> served, NodeId caller, ByteString requestBytes) throws InvalidProtocolBufferException {
    Q decoded = served.method().requestParser().parseFrom(requestBytes);
    return served.handler().handle(caller, decoded);
  }

  private static <T> void failOn(Scheduler caller, Promise<T> promise, Cancellable timer, IoFailure failure) {
    caller.execute(() -> {
      timer.cancel();
      promise.fail(failure);
    });
  }
}
