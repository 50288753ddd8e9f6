package io.s2j.sim.counter;

import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.sim.History;
import java.util.List;

/**
 * A workload client of the counter scenario: increments through a random server, one operation at
 * a time, recording each in the run's {@link History}, until {@code stopIssuingAtNanos}.
 */
public final class CounterClient {
  static final long CALL_TIMEOUT_NANOS = 5_000_000_000L;

  private final Env env;
  private final List<NodeId> servers;
  private final History history;
  private final long thinkNanosMax;
  private final long[] stopIssuingAtNanos;
  private long opId;

  /**
   * @param stopIssuingAtNanos a one-element cell the scenario sets once the liveness phase is
   *     scheduled (the driver's control channel; read on every loop)
   */
  public CounterClient(Env env, List<NodeId> servers, History history, long thinkNanosMax, long[] stopIssuingAtNanos) {
    this.env = env;
    this.servers = List.copyOf(servers);
    this.history = history;
    this.thinkNanosMax = thinkNanosMax;
    this.stopIssuingAtNanos = stopIssuingAtNanos;
    env.scheduler().execute(this::next);
  }

  private void next() {
    if (env.clock().nowNanos() >= stopIssuingAtNanos[0]) {
      return;
    }
    String name = env.node().value();
    History.Op op = history.invoke(name, env.clock().nowNanos());
    IncrementRequest request = IncrementRequest.newBuilder().setClient(name).setOpId(opId++).build();
    NodeId server = env.random().pick(servers);
    env.network().call(server, CounterServer.INCREMENT, request, CALL_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      long now = env.clock().nowNanos();
      if (failure instanceof IoFailure io) {
        history.complete(op, io.indefinite() ? History.Outcome.INFO : History.Outcome.FAIL, 0, io.getMessage(), now);
      } else if (failure != null) {
        throw new IllegalStateException("unexpected failure", failure);
      } else {
        switch (resp.getOutcomeCase()) {
          case VALUE -> history.complete(op, History.Outcome.OK, resp.getValue(), "", now);
          case DEFINITE_FAILURE -> history.complete(op, History.Outcome.FAIL, 0, resp.getDefiniteFailure(), now);
          case INDEFINITE_FAILURE -> history.complete(op, History.Outcome.INFO, 0, resp.getIndefiniteFailure(), now);
          case OUTCOME_NOT_SET -> throw new IllegalStateException("response without outcome");
        }
      }
      env.scheduler().schedule(thinkNanosMax == 0 ? 0 : env.random().nextLong(0, thinkNanosMax), this::next);
    });
  }
}
