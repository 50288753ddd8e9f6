package io.s2j.channel;

import com.google.protobuf.ByteString;
import io.s2j.api.ConfigProtos;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.StreamCipher;
import io.s2j.channel.proto.AppendRecordProto;
import io.s2j.channel.proto.AppendRequest;
import io.s2j.channel.proto.AppendResponse;
import io.s2j.channel.proto.HeaderProto;
import io.s2j.channel.proto.PositionProto;
import io.s2j.channel.proto.ReadRequest;
import io.s2j.channel.proto.ReadResponse;
import io.s2j.channel.proto.SequencedRecordProto;
import io.s2j.channel.proto.TailRequest;
import io.s2j.channel.proto.TailResponse;
import io.s2j.record.AppendRecord;
import io.s2j.record.Header;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import io.s2j.runtime.RpcMethod;
import java.util.ArrayList;
import java.util.List;

/** The channel's RPC methods and the conversions between their messages and domain values. */
public final class ChannelRpc {
  private ChannelRpc() {}

  /** Part of the message of a refusal of an input whose append session already had one refused. */
  public static final String SESSION_REFUSED = "already failed: an earlier input was refused";

  public static final RpcMethod<AppendRequest, AppendResponse> APPEND =
      RpcMethod.of("channel.Append", AppendRequest.parser(), AppendResponse.parser());
  public static final RpcMethod<ReadRequest, ReadResponse> READ =
      RpcMethod.of("channel.Read", ReadRequest.parser(), ReadResponse.parser());
  public static final RpcMethod<TailRequest, TailResponse> TAIL =
      RpcMethod.of("channel.Tail", TailRequest.parser(), TailResponse.parser());

  public static final RpcMethod<io.s2j.channel.proto.MigrateRequest, io.s2j.channel.proto.MigrateResponse> MIGRATE =
      RpcMethod.of("channel.Migrate", io.s2j.channel.proto.MigrateRequest.parser(), io.s2j.channel.proto.MigrateResponse.parser());
  public static final RpcMethod<io.s2j.channel.proto.StatusRequest, io.s2j.channel.proto.StatusResponse> STATUS =
      RpcMethod.of("channel.Status", io.s2j.channel.proto.StatusRequest.parser(), io.s2j.channel.proto.StatusResponse.parser());

  public static final RpcMethod<io.s2j.channel.proto.ResolveRequest, io.s2j.channel.proto.ResolveResponse> RESOLVE =
      RpcMethod.of("channel.Resolve", io.s2j.channel.proto.ResolveRequest.parser(), io.s2j.channel.proto.ResolveResponse.parser());

  public static final RpcMethod<io.s2j.channel.proto.HostRequest, io.s2j.channel.proto.HostResponse> HOST =
      RpcMethod.of("channel.Host", io.s2j.channel.proto.HostRequest.parser(), io.s2j.channel.proto.HostResponse.parser());

  public static PositionProto toProto(StreamPosition p) {
    return PositionProto.newBuilder().setSeqNum(p.seqNum()).setTimestamp(p.timestamp()).build();
  }

  public static StreamPosition fromProto(PositionProto p) {
    return new StreamPosition(p.getSeqNum(), p.getTimestamp());
  }

  private static List<Header> headers(List<HeaderProto> protos) {
    List<Header> out = new ArrayList<>(protos.size());
    for (HeaderProto h : protos) {
      out.add(new Header(h.getName(), h.getValue()));
    }
    return out;
  }

  private static List<HeaderProto> headerProtos(List<Header> headers) {
    List<HeaderProto> out = new ArrayList<>(headers.size());
    for (Header h : headers) {
      out.add(HeaderProto.newBuilder().setName(h.name()).setValue(h.value()).build());
    }
    return out;
  }

  public static AppendRecordProto toProto(AppendRecord r) {
    AppendRecordProto.Builder b = AppendRecordProto.newBuilder().addAllHeaders(headerProtos(r.headers())).setBody(r.body());
    if (r.timestamp() != null) {
      b.setTimestamp(r.timestamp());
    }
    return b.build();
  }

  public static AppendRecord fromProto(AppendRecordProto p) {
    return new AppendRecord(p.hasTimestamp() ? p.getTimestamp() : null, headers(p.getHeadersList()), p.getBody());
  }

  public static SequencedRecordProto toProto(SequencedRecord r) {
    return SequencedRecordProto.newBuilder().setSeqNum(r.seqNum()).setTimestamp(r.timestamp())
        .addAllHeaders(headerProtos(r.headers())).setBody(r.body()).build();
  }

  public static SequencedRecord fromProto(SequencedRecordProto p) {
    return new SequencedRecord(p.getSeqNum(), p.getTimestamp(), headers(p.getHeadersList()), p.getBody());
  }

  /** The streamlet reference a frontend sends with every request. */
  public static io.s2j.channel.proto.StreamletRef streamletRef(
      long streamletId, StreamPosition start, ResolvedStreamConfig config, StreamCipher cipher) {
    io.s2j.channel.proto.StreamletRef.Builder b = io.s2j.channel.proto.StreamletRef.newBuilder()
        .setStreamletId(streamletId).setStart(toProto(start)).setConfig(ConfigProtos.toProto(config));
    if (cipher != null) {
      b.setCipher(ConfigProtos.toProto(cipher));
    }
    return b.build();
  }

  /**
   * The reference to link {@code index} of stream {@code streamId}'s chain, as its metadata describes
   * it: every field a channel needs to load the streamlet the way its creator meant (a link after a
   * migration starts past 0, with the fencing token and trim point of the link before it). A
   * component that built a partial reference made a channel load such a streamlet with trim point 0
   * (found by the sweep: a read below a trim was served). {@code config} may be null for requests
   * that load nothing (a migration of a loaded streamlet).
   */
  public static io.s2j.channel.proto.StreamletRef linkRef(long streamId, long index, io.s2j.metadata.proto.StreamletMeta link,
      ResolvedStreamConfig config, StreamCipher cipher) {
    io.s2j.channel.proto.StreamletRef.Builder b = io.s2j.channel.proto.StreamletRef.newBuilder()
        .setStreamletId(link.getStreamletId()).setStart(toProto(new StreamPosition(link.getStartSeqNum(), link.getStartTimestamp())))
        .setStreamId(streamId).setIndex(index).setStartFencingToken(link.getStartFencingToken())
        .setStartTrimPoint(link.getStartTrimPoint()).setChannelId(link.getChannelId());
    if (config != null) {
      b.setConfig(ConfigProtos.toProto(config));
    }
    if (cipher != null) {
      b.setCipher(ConfigProtos.toProto(cipher));
    }
    return b.build();
  }

  static ByteString utf8(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
