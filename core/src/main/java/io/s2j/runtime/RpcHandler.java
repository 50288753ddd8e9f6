package io.s2j.runtime;

import com.google.protobuf.Message;

/** Serves one {@link RpcMethod} on the serving node's executor. */
@FunctionalInterface
public interface RpcHandler<Req extends Message, Resp extends Message> {
  /**
   * Handles {@code request} from {@code caller}. Expected failures belong in the response message;
   * a failed promise reaches the caller as an indefinite {@link IoFailure.Kind#SERVER_ERROR}.
   */
  Promise<Resp> handle(NodeId caller, Req request);
}
