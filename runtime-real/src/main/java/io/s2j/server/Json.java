package io.s2j.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.BasinReconfiguration;
import io.s2j.api.Checked;
import io.s2j.api.Patch;
import io.s2j.api.ResolvedStreamConfig;
import io.s2j.api.RetentionPolicy;
import io.s2j.api.S2Error;
import io.s2j.api.StorageClass;
import io.s2j.api.StreamCipher;
import io.s2j.api.StreamConfigSpec;
import io.s2j.api.StreamName;
import io.s2j.api.StreamReconfiguration;
import io.s2j.api.TimestampingMode;
import io.s2j.frontend.BasinInfo;
import io.s2j.frontend.Page;
import io.s2j.frontend.StreamInfo;
import io.s2j.record.AppendRecord;
import io.s2j.record.Header;
import io.s2j.record.SequencedRecord;
import io.s2j.record.StreamPosition;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * S2's JSON shapes (S2-API §4–9), both ways, on Jackson's tree model: the tri-state fields of the
 * PATCH bodies need "absent" and "null" told apart, and every type error must become S2's
 * {@code 400 bad_json} with a message, not an exception.
 */
final class Json {
  private Json() {}

  static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  // ---------------------------------------------------------------- parsing basics

  /** The body as a tree; an empty body is null. */
  static JsonNode parse(byte[] body) {
    if (body.length == 0) {
      return null;
    }
    try {
      JsonNode node = MAPPER.readTree(body);
      return node == null || node.isMissingNode() ? null : node;
    } catch (JacksonException e) {
      throw ApiError.badJson("Failed to parse the request body as JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw ApiError.badJson("Failed to parse the request body as JSON: " + e.getMessage());
    }
  }

  static ObjectNode object(JsonNode node, String what) {
    if (node == null || !node.isObject()) {
      throw ApiError.badJson("invalid type: expected " + what + " to be an object");
    }
    return (ObjectNode) node;
  }

  /** A field's value; null when absent, {@link NullNode} when JSON null. */
  private static JsonNode field(JsonNode obj, String name) {
    return obj.get(name);
  }

  private static boolean absentOrNull(JsonNode v) {
    return v == null || v.isNull();
  }

  /** A u64 as a long (values above 2^63 - 1 wrap, to be compared unsigned). */
  static long u64(JsonNode v, String name) {
    if (v == null || !v.isIntegralNumber()) {
      throw ApiError.badJson("invalid type for `" + name + "`: expected an unsigned 64-bit integer");
    }
    BigInteger b = v.bigIntegerValue();
    if (b.signum() < 0 || b.compareTo(U64_MAX) > 0) {
      throw ApiError.badJson("invalid value for `" + name + "`: expected an unsigned 64-bit integer");
    }
    return b.longValue();
  }

  private static String string(JsonNode v, String name) {
    if (v == null || !v.isTextual()) {
      throw ApiError.badJson("invalid type for `" + name + "`: expected a string");
    }
    return v.textValue();
  }

  private static boolean bool(JsonNode v, String name) {
    if (v == null || !v.isBoolean()) {
      throw ApiError.badJson("invalid type for `" + name + "`: expected a boolean");
    }
    return v.booleanValue();
  }

  private static <T> T enumValue(JsonNode v, String name, Function<String, T> parse) {
    String s = string(v, name);
    T value = parse.apply(s);
    if (value == null) {
      throw ApiError.badJson("unknown variant `" + s + "` for `" + name + "`");
    }
    return value;
  }

  /** An absent/null field as null, else parsed. */
  private static <T> T optional(JsonNode obj, String name, Function<JsonNode, T> parse) {
    JsonNode v = field(obj, name);
    return absentOrNull(v) ? null : parse.apply(v);
  }

  /** A tri-state PATCH field. */
  private static <T> Patch<T> patch(JsonNode obj, String name, Function<JsonNode, T> parse) {
    JsonNode v = field(obj, name);
    if (v == null) {
      return Patch.keep();
    }
    if (v.isNull()) {
      return Patch.clear();
    }
    return Patch.set(parse.apply(v));
  }

  // ---------------------------------------------------------------- configs in

  static RetentionPolicy retentionPolicy(JsonNode v) {
    ObjectNode o = object(v, "`retention_policy`");
    if (o.size() != 1) {
      throw ApiError.badJson("`retention_policy` must have exactly one of `age`, `infinite`");
    }
    if (o.has("age")) {
      return RetentionPolicy.ageSeconds(u64(o.get("age"), "age"));
    }
    if (o.has("infinite")) {
      object(o.get("infinite"), "`infinite`");
      return RetentionPolicy.INFINITE;
    }
    throw ApiError.badJson("unknown variant `" + o.fieldNames().next() + "` for `retention_policy`");
  }

  static StorageClass storageClass(JsonNode v) {
    return enumValue(v, "storage_class", StorageClass::fromWireName);
  }

  static TimestampingMode timestampingMode(JsonNode v) {
    return enumValue(v, "mode", TimestampingMode::fromWireName);
  }

  static StreamCipher cipher(JsonNode v) {
    return enumValue(v, "stream_cipher", StreamCipher::fromWireName);
  }

  /** A StreamConfig at the optional layer; null/absent = nothing set. */
  static StreamConfigSpec streamConfigSpec(JsonNode v) {
    if (absentOrNull(v)) {
      return StreamConfigSpec.EMPTY;
    }
    ObjectNode o = object(v, "stream config");
    TimestampingMode mode = null;
    Boolean uncapped = null;
    JsonNode ts = field(o, "timestamping");
    if (!absentOrNull(ts)) {
      ObjectNode t = object(ts, "`timestamping`");
      mode = optional(t, "mode", Json::timestampingMode);
      uncapped = optional(t, "uncapped", x -> bool(x, "uncapped"));
    }
    Long minAge = null;
    JsonNode doe = field(o, "delete_on_empty");
    if (!absentOrNull(doe)) {
      ObjectNode d = object(doe, "`delete_on_empty`");
      Long m = optional(d, "min_age_secs", x -> u64(x, "min_age_secs"));
      minAge = m == null ? 0L : m;
    }
    return new StreamConfigSpec(
        optional(o, "storage_class", Json::storageClass),
        optional(o, "retention_policy", Json::retentionPolicy),
        mode, uncapped, minAge);
  }

  /** A BasinConfig; null/absent = all defaults. */
  static BasinConfig basinConfig(JsonNode v) {
    if (absentOrNull(v)) {
      return BasinConfig.DEFAULT;
    }
    ObjectNode o = object(v, "basin config");
    Boolean onAppend = optional(o, "create_stream_on_append", x -> bool(x, "create_stream_on_append"));
    Boolean onRead = optional(o, "create_stream_on_read", x -> bool(x, "create_stream_on_read"));
    return new BasinConfig(
        streamConfigSpec(field(o, "default_stream_config")),
        optional(o, "stream_cipher", Json::cipher),
        onAppend != null && onAppend,
        onRead != null && onRead);
  }

  static StreamReconfiguration streamReconfiguration(JsonNode v) {
    ObjectNode o = object(v, "stream reconfiguration");
    return new StreamReconfiguration(
        patch(o, "storage_class", Json::storageClass),
        patch(o, "retention_policy", Json::retentionPolicy),
        patch(o, "timestamping", t -> {
          ObjectNode to = object(t, "`timestamping`");
          return new StreamReconfiguration.Timestamping(
              patch(to, "mode", Json::timestampingMode),
              patch(to, "uncapped", x -> bool(x, "uncapped")));
        }),
        patch(o, "delete_on_empty", d -> new StreamReconfiguration.DeleteOnEmpty(
            patch(object(d, "`delete_on_empty`"), "min_age_secs", x -> u64(x, "min_age_secs")))));
  }

  static BasinReconfiguration basinReconfiguration(JsonNode v) {
    ObjectNode o = object(v, "basin reconfiguration");
    return new BasinReconfiguration(
        patch(o, "default_stream_config", Json::streamReconfiguration),
        patch(o, "stream_cipher", Json::cipher),
        nonNullBool(o, "create_stream_on_append"),
        nonNullBool(o, "create_stream_on_read"));
  }

  /** lite refuses JSON null for the two basin flags in a PATCH. */
  private static Boolean nonNullBool(ObjectNode o, String name) {
    JsonNode v = field(o, name);
    if (v == null) {
      return null;
    }
    if (v.isNull()) {
      throw ApiError.badJson("invalid type: null, expected a boolean for `" + name + "`");
    }
    return bool(v, name);
  }

  static BasinName basinNameInBody(JsonNode v) {
    String s = string(v, "basin");
    return switch (BasinName.parse(s)) {
      case Checked.Ok<BasinName> ok -> ok.value();
      case Checked.Invalid<BasinName> bad -> throw ApiError.badJson(bad.message());
    };
  }

  static StreamName streamNameInBody(JsonNode v) {
    String s = string(v, "stream");
    return switch (StreamName.parse(s)) {
      case Checked.Ok<StreamName> ok -> ok.value();
      case Checked.Invalid<StreamName> bad -> throw ApiError.badJson(bad.message());
    };
  }

  static JsonNode required(ObjectNode o, String name) {
    JsonNode v = field(o, name);
    if (v == null) {
      throw ApiError.badJson("missing field `" + name + "`");
    }
    return v;
  }

  // ---------------------------------------------------------------- records in

  /** A JSON AppendInput, record bytes per {@code format}; record and batch rules are 422. */
  static AppendInput appendInput(JsonNode v, RecordFormat format) {
    ObjectNode o = object(v, "append input");
    JsonNode recs = required(o, "records");
    if (!recs.isArray()) {
      throw ApiError.badJson("invalid type for `records`: expected an array");
    }
    Long matchSeqNum = optional(o, "match_seq_num", x -> u64(x, "match_seq_num"));
    String token = optional(o, "fencing_token", x -> string(x, "fencing_token"));
    String tokenProblem = AppendInput.fencingTokenProblem(token);
    if (tokenProblem != null) {
      throw ApiError.badJson(tokenProblem);
    }
    List<AppendRecord> records = new ArrayList<>(recs.size());
    for (JsonNode r : recs) {
      records.add(appendRecord(r, format));
    }
    return new AppendInput(validBatch(records), matchSeqNum, token);
  }

  static AppendBatch validBatch(List<AppendRecord> records) {
    return switch (AppendBatch.validate(records)) {
      case Checked.Ok<AppendBatch> ok -> ok.value();
      case Checked.Invalid<AppendBatch> bad -> throw ApiError.invalid(bad.message());
    };
  }

  private static AppendRecord appendRecord(JsonNode v, RecordFormat format) {
    ObjectNode o = object(v, "record");
    Long timestamp = optional(o, "timestamp", x -> u64(x, "timestamp"));
    if (timestamp != null && timestamp < 0) {
      throw ApiError.invalid("record timestamp must not exceed " + Long.MAX_VALUE);
    }
    List<Header> headers = new ArrayList<>();
    JsonNode hs = field(o, "headers");
    if (!absentOrNull(hs)) {
      if (!hs.isArray()) {
        throw ApiError.badJson("invalid type for `headers`: expected an array of [name, value] pairs");
      }
      for (JsonNode h : hs) {
        if (!h.isArray() || h.size() != 2 || !h.get(0).isTextual() || !h.get(1).isTextual()) {
          throw ApiError.badJson("invalid header: expected a [name, value] pair of strings");
        }
        headers.add(new Header(format.decode(h.get(0).textValue()), format.decode(h.get(1).textValue())));
      }
    }
    JsonNode body = field(o, "body");
    return new AppendRecord(timestamp, headers,
        absentOrNull(body) ? com.google.protobuf.ByteString.EMPTY : format.decode(string(body, "body")));
  }

  // ---------------------------------------------------------------- out

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot serialise " + node, e);
    }
  }

  static String rfc3339(long epochMs) {
    return Instant.ofEpochMilli(epochMs).toString();
  }

  static ObjectNode error(S2Error e) {
    return F.objectNode().put("code", e.code().wireCode()).put("message", e.message());
  }

  static ObjectNode position(StreamPosition p) {
    return F.objectNode().put("seq_num", p.seqNum()).put("timestamp", p.timestamp());
  }

  static ObjectNode tail(StreamPosition p) {
    ObjectNode o = F.objectNode();
    o.set("tail", position(p));
    return o;
  }

  static ObjectNode ack(AppendAck a) {
    ObjectNode o = F.objectNode();
    o.set("start", position(a.start()));
    o.set("end", position(a.end()));
    o.set("tail", position(a.tail()));
    return o;
  }

  static ObjectNode seqNumMismatch(long next) {
    return F.objectNode().put("seq_num_mismatch", next);
  }

  static ObjectNode fencingTokenMismatch(String current) {
    return F.objectNode().put("fencing_token_mismatch", current);
  }

  static ObjectNode readBatch(List<SequencedRecord> records, StreamPosition tail, RecordFormat format) {
    ObjectNode o = F.objectNode();
    ArrayNode rs = o.putArray("records");
    for (SequencedRecord r : records) {
      ObjectNode ro = rs.addObject().put("seq_num", r.seqNum()).put("timestamp", r.timestamp());
      if (!r.headers().isEmpty()) {
        ArrayNode hs = ro.putArray("headers");
        for (Header h : r.headers()) {
          hs.addArray().add(format.encode(h.name())).add(format.encode(h.value()));
        }
      }
      if (!r.body().isEmpty()) {
        ro.put("body", format.encode(r.body()));
      }
    }
    if (tail != null) {
      o.set("tail", position(tail));
    }
    return o;
  }

  static ObjectNode basinInfo(BasinInfo b) {
    ObjectNode o = F.objectNode().put("name", b.name().value());
    o.putNull("location");
    o.put("created_at", rfc3339(b.createdAtMs()));
    if (b.deletedAtMs() == null) {
      o.putNull("deleted_at");
    } else {
      o.put("deleted_at", rfc3339(b.deletedAtMs()));
    }
    o.put("state", b.deleting() ? "deleting" : "active");
    return o;
  }

  static ObjectNode streamInfo(StreamInfo s) {
    ObjectNode o = F.objectNode().put("name", s.name().value()).put("created_at", rfc3339(s.createdAtMs()));
    if (s.deletedAtMs() == null) {
      o.putNull("deleted_at");
    } else {
      o.put("deleted_at", rfc3339(s.deletedAtMs()));
    }
    if (s.cipher() == null) {
      o.putNull("cipher");
    } else {
      o.put("cipher", s.cipher().wireName());
    }
    return o;
  }

  static ObjectNode basinPage(Page<BasinInfo> page) {
    ObjectNode o = F.objectNode();
    ArrayNode a = o.putArray("basins");
    page.items().forEach(b -> a.add(basinInfo(b)));
    o.put("has_more", page.hasMore());
    return o;
  }

  static ObjectNode streamPage(Page<StreamInfo> page) {
    ObjectNode o = F.objectNode();
    ArrayNode a = o.putArray("streams");
    page.items().forEach(s -> a.add(streamInfo(s)));
    o.put("has_more", page.hasMore());
    return o;
  }

  private static JsonNode retention(RetentionPolicy p) {
    return switch (p) {
      case RetentionPolicy.Age a -> F.objectNode().put("age", a.ageSeconds());
      case RetentionPolicy.Infinite i -> {
        ObjectNode o = F.objectNode();
        o.putObject("infinite");
        yield o;
      }
    };
  }

  static ObjectNode resolvedConfig(ResolvedStreamConfig c) {
    ObjectNode o = F.objectNode().put("storage_class", c.storageClass().wireName());
    o.set("retention_policy", retention(c.retentionPolicy()));
    o.putObject("timestamping").put("mode", c.timestampingMode().wireName()).put("uncapped", c.timestampingUncapped());
    o.putObject("delete_on_empty").put("min_age_secs", c.deleteOnEmptyMinAgeSecs());
    return o;
  }

  /** The optional layer, as lite shows a basin's defaults: null when nothing is set. */
  static JsonNode configSpec(StreamConfigSpec s) {
    if (s.isEmpty()) {
      return NullNode.instance;
    }
    ObjectNode o = F.objectNode();
    if (s.storageClass() == null) {
      o.putNull("storage_class");
    } else {
      o.put("storage_class", s.storageClass().wireName());
    }
    o.set("retention_policy", s.retentionPolicy() == null ? NullNode.instance : retention(s.retentionPolicy()));
    if (s.hasTimestamping()) {
      ObjectNode t = o.putObject("timestamping");
      if (s.timestampingMode() == null) {
        t.putNull("mode");
      } else {
        t.put("mode", s.timestampingMode().wireName());
      }
      if (s.timestampingUncapped() == null) {
        t.putNull("uncapped");
      } else {
        t.put("uncapped", s.timestampingUncapped());
      }
    } else {
      o.putNull("timestamping");
    }
    if (s.deleteOnEmptyMinAgeSecs() == null) {
      o.putNull("delete_on_empty");
    } else {
      o.putObject("delete_on_empty").put("min_age_secs", s.deleteOnEmptyMinAgeSecs());
    }
    return o;
  }

  static ObjectNode basinConfig(BasinConfig c) {
    ObjectNode o = F.objectNode();
    o.set("default_stream_config", configSpec(c.defaultStreamConfig()));
    if (c.streamCipher() == null) {
      o.putNull("stream_cipher");
    } else {
      o.put("stream_cipher", c.streamCipher().wireName());
    }
    o.put("create_stream_on_append", c.createStreamOnAppend());
    o.put("create_stream_on_read", c.createStreamOnRead());
    return o;
  }
}
