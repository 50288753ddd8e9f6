package io.s2j.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.api.AppendAck;
import io.s2j.record.AppendRecord;
import io.s2j.record.Header;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import io.s2j.wire.proto.ReadBatch;
import java.util.ArrayList;
import java.util.List;

/** S2's protobuf messages ({@code s2.v1}) to and from s2j's domain types. */
final class Protos {
  private Protos() {}

  /** A unary protobuf append body: undecodable is {@code 400 bad_proto}, rule violations {@code 422}. */
  static io.s2j.api.AppendInput appendInput(byte[] body) {
    io.s2j.wire.proto.AppendInput in;
    try {
      in = io.s2j.wire.proto.AppendInput.parseFrom(body);
    } catch (InvalidProtocolBufferException e) {
      throw ApiError.badProto("Failed to decode protobuf AppendInput: " + e.getMessage());
    }
    return appendInput(in);
  }

  /** A decoded AppendInput, validated as S2 does ({@code 422 invalid}). */
  static io.s2j.api.AppendInput appendInput(io.s2j.wire.proto.AppendInput in) {
    String token = in.hasFencingToken() ? in.getFencingToken() : null;
    String tokenProblem = io.s2j.api.AppendInput.fencingTokenProblem(token);
    if (tokenProblem != null) {
      throw ApiError.invalid(tokenProblem);
    }
    List<AppendRecord> records = new ArrayList<>(in.getRecordsCount());
    for (io.s2j.wire.proto.AppendRecord r : in.getRecordsList()) {
      Long ts = r.hasTimestamp() ? r.getTimestamp() : null;
      if (ts != null && ts < 0) {
        throw ApiError.invalid("record timestamp must not exceed " + Long.MAX_VALUE);
      }
      List<Header> headers = new ArrayList<>(r.getHeadersCount());
      for (io.s2j.wire.proto.Header h : r.getHeadersList()) {
        headers.add(new Header(h.getName(), h.getValue()));
      }
      records.add(new AppendRecord(ts, headers, r.getBody()));
    }
    return new io.s2j.api.AppendInput(Json.validBatch(records), in.hasMatchSeqNum() ? in.getMatchSeqNum() : null, token);
  }

  static io.s2j.wire.proto.StreamPosition position(StreamPosition p) {
    return io.s2j.wire.proto.StreamPosition.newBuilder().setSeqNum(p.seqNum()).setTimestamp(p.timestamp()).build();
  }

  static io.s2j.wire.proto.AppendAck ack(AppendAck a) {
    return io.s2j.wire.proto.AppendAck.newBuilder()
        .setStart(position(a.start())).setEnd(position(a.end())).setTail(position(a.tail())).build();
  }

  static ReadBatch readBatch(List<SequencedRecord> records, StreamPosition tail) {
    ReadBatch.Builder b = ReadBatch.newBuilder();
    for (SequencedRecord r : records) {
      io.s2j.wire.proto.SequencedRecord.Builder rb = io.s2j.wire.proto.SequencedRecord.newBuilder()
          .setSeqNum(r.seqNum()).setTimestamp(r.timestamp()).setBody(r.body());
      for (Header h : r.headers()) {
        rb.addHeaders(io.s2j.wire.proto.Header.newBuilder().setName(h.name()).setValue(h.value()));
      }
      b.addRecords(rb);
    }
    if (tail != null) {
      b.setTail(position(tail));
    }
    return b.build();
  }
}
