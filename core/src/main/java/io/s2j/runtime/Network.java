package io.s2j.runtime;

import com.google.protobuf.Message;

/**
 * Typed request/response messaging between component instances, as seen from one node.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #serve} registers this node's handler for a method; one handler per method.
 *   <li>{@link #call} encodes the request, delivers it to {@code destination}'s handler at most
 *       once, and completes on the caller's executor with the decoded response or an {@link
 *       IoFailure}:
 *       <ul>
 *         <li>{@code UNAVAILABLE}, definite: the request was not delivered (the destination is down,
 *             unknown, or has no handler for the method).
 *         <li>{@code TIMEOUT}, indefinite: no response within {@code timeoutNanos}; the handler may
 *             have run, may still run, or never will.
 *         <li>{@code SERVER_ERROR}, indefinite: the handler's promise failed (or, over TCP, the
 *             connection closed after the request was written).
 *         <li>{@code THROTTLED}, definite: nothing was sent because the connection is at its bound of
 *             calls in flight or its write buffer is full (back-pressure of {@code NettyNetwork};
 *             callers treat it as any definite miss).
 *       </ul>
 *   <li>Calls are independent: nothing orders two calls, on the same or different destinations. A
 *       response is never delivered to a process incarnation other than the one that called.
 * </ul>
 */
public interface Network {
  /** This node's id, as the {@code caller} its handlers see. */
  NodeId self();

  <Req extends Message, Resp extends Message> void serve(
      RpcMethod<Req, Resp> method, RpcHandler<Req, Resp> handler);

  <Req extends Message, Resp extends Message> Promise<Resp> call(
      NodeId destination, RpcMethod<Req, Resp> method, Req request, long timeoutNanos);
}
