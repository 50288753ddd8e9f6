package io.s2j.sim.channel;

import com.google.protobuf.ByteString;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.channel.ChannelRpc;
import io.s2j.channel.proto.AppendRequest;
import io.s2j.channel.proto.AppendResponse;
import io.s2j.record.AppendRecord;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A workload client of the channel scenario: appends small batches of uniquely named records to
 * its streamlets through any host of the owning channel, sometimes with {@code match_seq_num},
 * recording every attempt and its outcome in the run's {@link AppendHistory}.
 */
final class ChannelClient {
  static final long CALL_TIMEOUT_NANOS = 5_000_000_000L;

  private final Env env;
  private final List<Long> streamlets;
  private final Map<Long, List<NodeId>> hostsOf;
  private final AppendHistory history;
  private final long[] stopIssuingAtNanos;
  private final java.util.TreeMap<Long, Long> knownTail = new java.util.TreeMap<>();
  private long op;

  ChannelClient(Env env, List<Long> streamlets, Map<Long, List<NodeId>> hostsOf, AppendHistory history, long[] stopIssuingAtNanos) {
    this.env = env;
    this.streamlets = List.copyOf(streamlets);
    this.hostsOf = hostsOf;
    this.history = history;
    this.stopIssuingAtNanos = stopIssuingAtNanos;
    env.scheduler().execute(this::next);
  }

  private void next() {
    if (env.clock().nowNanos() >= stopIssuingAtNanos[0]) {
      return;
    }
    long streamlet = env.random().pick(streamlets);
    double roll = env.random().nextDouble();
    if (roll < 0.15) {
      read(streamlet);
      return;
    }
    if (roll < 0.25) {
      tail(streamlet);
      return;
    }
    int count = 1 + env.random().nextInt(4);
    List<AppendRecord> records = new ArrayList<>(count);
    List<String> bodies = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String body = env.node().value() + "/" + op + "/" + i;
      bodies.add(body);
      records.add(new AppendRecord(null, List.of(), ByteString.copyFromUtf8(body)));
    }
    op++;
    Long match = env.random().chance(0.3) ? knownTail.getOrDefault(streamlet, 0L) : null;
    AppendRequest.Builder request = AppendRequest.newBuilder()
        .setStreamlet(ChannelRpc.streamletRef(streamlet, StreamPosition.ZERO, ResolvedStreamConfig.SYSTEM_DEFAULTS, null));
    records.forEach(r -> request.addRecords(ChannelRpc.toProto(r)));
    if (match != null) {
      request.setMatchSeqNum(match);
    }
    AppendHistory.Attempt attempt = history.invoke(env.node().value(), streamlet, bodies, match, env.clock().nowNanos());
    NodeId host = env.random().pick(hostsOf.get(streamlet));
    env.network().call(host, ChannelRpc.APPEND, request.build(), CALL_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      long now = env.clock().nowNanos();
      if (failure instanceof IoFailure io) {
        history.complete(attempt, io.indefinite() ? AppendHistory.Outcome.INFO : AppendHistory.Outcome.FAIL, null, io.getMessage(), now);
      } else if (failure != null) {
        throw new IllegalStateException("unexpected failure", failure);
      } else {
        record(attempt, streamlet, resp, now);
      }
      env.scheduler().schedule(env.random().nextLong(0, 20_000_000L), this::next);
    });
  }

  private void thenNext() {
    env.scheduler().schedule(env.random().nextLong(0, 20_000_000L), this::next);
  }

  private io.s2j.channel.proto.StreamletRef ref(long streamlet) {
    return ChannelRpc.streamletRef(streamlet, StreamPosition.ZERO, ResolvedStreamConfig.SYSTEM_DEFAULTS, null);
  }

  private void read(long streamlet) {
    long known = knownTail.getOrDefault(streamlet, 0L);
    long start = env.random().nextLong(0, known + 2);
    int max = 1 + env.random().nextInt(20);
    io.s2j.channel.proto.ReadRequest request = io.s2j.channel.proto.ReadRequest.newBuilder().setStreamlet(ref(streamlet))
        .setStartSeqNum(start).setRecordsMax(max).setBytesMax(1 << 20).build();
    long invoked = env.clock().nowNanos();
    env.network().call(env.random().pick(hostsOf.get(streamlet)), ChannelRpc.READ, request, CALL_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      if (failure == null && resp.hasRecords()) {
        List<String> bodies = new ArrayList<>();
        resp.getRecords().getRecordsList().forEach(r -> bodies.add(r.getBody().toStringUtf8()));
        history.read(env.node().value(), streamlet, start, max, bodies, resp.getRecords().getRecordsList().isEmpty()
            ? -1 : resp.getRecords().getRecords(0).getSeqNum(), resp.getRecords().getTail().getSeqNum(),
            resp.getRecords().getFirstHeldSeqNum(), invoked, env.clock().nowNanos());
      }
      thenNext();
    });
  }

  private void tail(long streamlet) {
    io.s2j.channel.proto.TailRequest request = io.s2j.channel.proto.TailRequest.newBuilder().setStreamlet(ref(streamlet)).build();
    long invoked = env.clock().nowNanos();
    env.network().call(env.random().pick(hostsOf.get(streamlet)), ChannelRpc.TAIL, request, CALL_TIMEOUT_NANOS).onComplete((resp, failure) -> {
      if (failure == null && resp.hasTail()) {
        history.read(env.node().value(), streamlet, resp.getTail().getSeqNum(), 0, List.of(), -1, resp.getTail().getSeqNum(),
            resp.getTail().getSeqNum(), invoked, env.clock().nowNanos());
        knownTail.merge(streamlet, resp.getTail().getSeqNum(), Math::max);
      }
      thenNext();
    });
  }

  private void record(AppendHistory.Attempt attempt, long streamlet, AppendResponse resp, long now) {
    switch (resp.getOutcomeCase()) {
      case ACK -> {
        history.complete(attempt, AppendHistory.Outcome.OK, resp.getAck(), "", now);
        knownTail.merge(streamlet, resp.getAck().getTail().getSeqNum(), Math::max);
      }
      case SEQ_NUM_MISMATCH -> {
        history.complete(attempt, AppendHistory.Outcome.FAIL, null, "seq_num_mismatch " + resp.getSeqNumMismatch(), now);
        knownTail.merge(streamlet, resp.getSeqNumMismatch(), Math::max);
      }
      case FENCING_TOKEN_MISMATCH -> history.complete(attempt, AppendHistory.Outcome.FAIL, null, "fencing_token_mismatch", now);
      case ERROR -> history.complete(attempt,
          resp.getError().getIndefinite() ? AppendHistory.Outcome.INFO : AppendHistory.Outcome.FAIL, null,
          resp.getError().getCode() + ": " + resp.getError().getMessage(), now);
      case OUTCOME_NOT_SET -> throw new IllegalStateException("append response without outcome");
    }
  }
}
