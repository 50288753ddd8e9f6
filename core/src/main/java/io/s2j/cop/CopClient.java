package io.s2j.cop;

import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.cop.proto.ActivateRequest;
import io.s2j.cop.proto.ActivateResponse;
import io.s2j.cop.proto.Link;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.DataPlane;
import io.s2j.frontend.Outcome;
import io.s2j.frontend.Streamlet;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import java.util.ArrayList;
import java.util.List;

/**
 * The frontend's way to the cop: activation of dormant streams is asked of the cop nodes in turn
 * (starting at a random one) until the acting one answers. A failure is definite for the append
 * that needed it: nothing of it was sent to a channel.
 */
public final class CopClient implements DataPlane.Activator {
  static final long RPC_TIMEOUT_NANOS = 5_000_000_000L;
  static final int ROUNDS_MAX = 3;
  static final long ROUND_BACKOFF_NANOS = 200_000_000L;

  private final Env env;
  /** The cop nodes (never empty); replaced by the runtime when a cop joins the cell. */
  private final io.s2j.runtime.View<List<NodeId>> cops;

  public CopClient(Env env, List<NodeId> cops) {
    this(env, io.s2j.runtime.View.of(List.copyOf(cops)));
  }

  /**
   * A client asking the cops of {@code cops}'s current snapshot (each attempt reads it anew; the
   * runtime never replaces it with an empty list).
   */
  public CopClient(Env env, io.s2j.runtime.View<List<NodeId>> cops) {
    if (cops.current().isEmpty()) {
      throw new IllegalArgumentException("no cop nodes");
    }
    this.env = env;
    this.cops = cops;
  }

  @Override
  public Promise<Outcome<List<Streamlet>>> activate(long streamId, io.s2j.api.StorageClass storageClass) {
    Promise<Outcome<List<Streamlet>>> result = env.promise();
    ActivateRequest request = ActivateRequest.newBuilder().setStreamId(streamId).setStorageClass(storageClass.wireName()).build();
    attempt(request, env.random().nextInt(cops.current().size()), 0, result);
    return result;
  }

  private void attempt(ActivateRequest request, int first, int n, Promise<Outcome<List<Streamlet>>> result) {
    long streamId = request.getStreamId();
    List<NodeId> now = cops.current();
    NodeId cop = now.get((first + n) % now.size());
    env.network().call(cop, CopRpc.ACTIVATE, request, RPC_TIMEOUT_NANOS)
        .onComplete((resp, failure) -> {
          if (failure == null && resp.getError().isEmpty()) {
            List<Streamlet> chain = new ArrayList<>();
            for (Link l : resp.getLinksList()) {
              chain.add(Catalog.streamlet(streamId, l.getIndex(), l.getMeta()));
            }
            result.complete(Outcome.ok(chain));
            return;
          }
          boolean tryNext = failure instanceof IoFailure || (failure == null && resp.getNotActing());
          int size = cops.current().size();
          if (tryNext && n + 1 < size * ROUNDS_MAX) {
            long delay = (n + 1) % size == 0 ? ROUND_BACKOFF_NANOS : 0;
            env.scheduler().schedule(delay, () -> attempt(request, first, n + 1, result));
            return;
          }
          String why = failure != null ? failure.getMessage() : resp.getError();
          result.complete(new Outcome.Failed<>(new S2Error(ErrorCode.UNAVAILABLE, "no cop could activate the stream: " + why), false));
        });
  }
}
