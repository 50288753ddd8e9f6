package io.s2j.cop;

import io.s2j.cop.proto.ActivateRequest;
import io.s2j.cop.proto.ActivateResponse;
import io.s2j.runtime.RpcMethod;

/** The cop's RPC methods. */
public final class CopRpc {
  private CopRpc() {}

  public static final RpcMethod<ActivateRequest, ActivateResponse> ACTIVATE =
      RpcMethod.of("cop.Activate", ActivateRequest.parser(), ActivateResponse.parser());
}
