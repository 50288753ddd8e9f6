package io.s2j.cachey;

import io.s2j.cachey.proto.FailureProto;
import io.s2j.cachey.proto.ReadRangeRequest;
import io.s2j.cachey.proto.ReadRangeResponse;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.RpcMethod;

/** Cachey's RPC method and the conversions between its failure messages and {@link IoFailure}s. */
public final class CacheyRpc {
  private CacheyRpc() {}

  /** The longest range any request may ask for (one response message holds it). */
  public static final long REQUEST_BYTES_MAX = 64L << 20;

  public static final RpcMethod<ReadRangeRequest, ReadRangeResponse> READ_RANGE =
      RpcMethod.of("cachey.ReadRange", ReadRangeRequest.parser(), ReadRangeResponse.parser());

  static FailureProto toProto(IoFailure f) {
    return FailureProto.newBuilder().setKind(f.kind().name()).setIndefinite(f.indefinite()).setMessage(f.getMessage()).build();
  }

  /** The failure a cachey node reported, with the same kind and definiteness. */
  public static IoFailure fromProto(FailureProto p) {
    IoFailure.Kind kind;
    try {
      kind = IoFailure.Kind.valueOf(p.getKind());
    } catch (IllegalArgumentException e) {
      kind = IoFailure.Kind.SERVER_ERROR;
    }
    String message = "cachey: " + p.getMessage();
    if (kind == IoFailure.Kind.TIMEOUT) {
      return IoFailure.timeout(message);
    }
    boolean alwaysDefinite = kind == IoFailure.Kind.THROTTLED || kind == IoFailure.Kind.CONFLICT
        || kind == IoFailure.Kind.UNAVAILABLE || kind == IoFailure.Kind.REJECTED;
    return p.getIndefinite() && !alwaysDefinite ? IoFailure.indefinite(kind, message) : IoFailure.definite(kind, message);
  }
}
