package io.s2j.checker.s2;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import io.s2j.checker.Operation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and writes S2 verification histories: JSON lines exactly as s2-verification's collector
 * writes them (serde_json's compact form, one event and {@code "\n"} per line; see
 * {@code checker/S2-VERIFICATION-FORMAT.md}), so that S2's Porcupine model can check histories we
 * record and we can check histories S2's tooling records.
 *
 * <p>Byte compatibility: keys in serde's declaration order; unit variants as bare strings; options
 * as explicit {@code null}; every {@code u64} as an unsigned decimal number; strings escaped as
 * serde_json does ({@code \"}, {@code \\}, {@code \b \t \n \f \r}, other control characters as
 * lowercase {@code \}{@code u00xx}, everything else — {@code /}, DEL, non-ASCII — raw UTF-8).
 */
public final class S2Jsonl {
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
          .disable(JsonWriteFeature.ESCAPE_FORWARD_SLASHES)
          .disable(JsonWriteFeature.ESCAPE_NON_ASCII)
          .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
          .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
          .build();
  private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);
  private static final BigInteger U64_LIMIT = BigInteger.ONE.shiftLeft(64);

  private S2Jsonl() {}

  // ---------------------------------------------------------------- writing

  /** Writes {@code events}, one line each, in order. */
  public static void write(List<S2Event> events, OutputStream out) throws IOException {
    for (S2Event event : events) {
      try (JsonGenerator gen = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
        writeEvent(gen, event);
      }
      out.write('\n');
    }
  }

  /** The bytes {@link #write} produces. */
  public static byte[] toBytes(List<S2Event> events) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(events, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void writeEvent(JsonGenerator gen, S2Event event) throws IOException {
    gen.writeStartObject();
    gen.writeFieldName("event");
    gen.writeStartObject();
    switch (event) {
      case S2Event.Start start -> {
        gen.writeFieldName("Start");
        writeCall(gen, start.call());
      }
      case S2Event.Finish finish -> {
        gen.writeFieldName("Finish");
        writeFinish(gen, finish.finish());
      }
    }
    gen.writeEndObject();
    gen.writeFieldName("client_id");
    writeU64(gen, event.clientId());
    gen.writeFieldName("op_id");
    writeU64(gen, event.opId());
    gen.writeEndObject();
  }

  private static void writeCall(JsonGenerator gen, S2Call call) throws IOException {
    switch (call) {
      case ReadInput r -> gen.writeString("Read");
      case CheckTailInput c -> gen.writeString("CheckTail");
      case AppendInput a -> {
        gen.writeStartObject();
        gen.writeFieldName("Append");
        gen.writeStartObject();
        gen.writeFieldName("num_records");
        writeU64(gen, a.numRecords());
        gen.writeFieldName("record_hashes");
        gen.writeStartArray();
        for (long hash : a.recordHashes()) {
          writeU64(gen, hash);
        }
        gen.writeEndArray();
        gen.writeFieldName("set_fencing_token");
        writeOptionalString(gen, a.setFencingToken());
        gen.writeFieldName("fencing_token");
        writeOptionalString(gen, a.fencingToken());
        gen.writeFieldName("match_seq_num");
        if (a.matchSeqNum() == null) {
          gen.writeNull();
        } else {
          writeU64(gen, a.matchSeqNum());
        }
        gen.writeEndObject();
        gen.writeEndObject();
      }
    }
  }

  private static void writeFinish(JsonGenerator gen, S2Finish finish) throws IOException {
    switch (finish) {
      case S2Failure failure -> gen.writeString(failure.json());
      case AppendOutput o -> {
        gen.writeStartObject();
        gen.writeFieldName("AppendSuccess");
        gen.writeStartObject();
        gen.writeFieldName("tail");
        writeU64(gen, o.tail());
        gen.writeEndObject();
        gen.writeEndObject();
      }
      case ReadOutput o -> {
        gen.writeStartObject();
        gen.writeFieldName("ReadSuccess");
        gen.writeStartObject();
        gen.writeFieldName("tail");
        writeU64(gen, o.tail());
        gen.writeFieldName("stream_hash");
        writeU64(gen, o.streamHash());
        gen.writeEndObject();
        gen.writeEndObject();
      }
      case CheckTailOutput o -> {
        gen.writeStartObject();
        gen.writeFieldName("CheckTailSuccess");
        gen.writeStartObject();
        gen.writeFieldName("tail");
        writeU64(gen, o.tail());
        gen.writeEndObject();
        gen.writeEndObject();
      }
    }
  }

  private static void writeU64(JsonGenerator gen, long value) throws IOException {
    if (value >= 0) {
      gen.writeNumber(value);
    } else {
      gen.writeNumber(new BigInteger(Long.toUnsignedString(value)));
    }
  }

  private static void writeOptionalString(JsonGenerator gen, String value) throws IOException {
    if (value == null) {
      gen.writeNull();
      return;
    }
    // Rust strings are UTF-8: a lone surrogate has no spelling in the collector's format.
    if (!StandardCharsets.UTF_8.newEncoder().canEncode(value)) {
      throw new IllegalArgumentException("token is not well-formed Unicode: " + value);
    }
    gen.writeString(value);
  }

  // ---------------------------------------------------------------- reading

  /**
   * Parses a history into its events, in file order. Like the Go reader, values need not be one
   * per line; unlike it, unknown keys are rejected (format drift should be loud).
   *
   * @throws S2FormatException when the input is not a well-formed history
   */
  public static List<S2Event> parse(InputStream in) throws IOException {
    List<S2Event> events = new ArrayList<>();
    try (JsonParser parser = FACTORY.createParser(in);
        MappingIterator<JsonNode> values = MAPPER.readerFor(JsonNode.class).readValues(parser)) {
      while (values.hasNextValue()) {
        JsonNode line = values.nextValue();
        try {
          events.add(event(line));
        } catch (S2FormatException e) {
          throw new S2FormatException("event " + events.size() + ": " + e.getMessage());
        }
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new S2FormatException("event " + events.size() + ": malformed JSON: " + e.getOriginalMessage());
    } catch (RuntimeException e) {
      // MappingIterator wraps parse errors it meets in hasNextValue in an unchecked exception
      if (e.getCause() instanceof com.fasterxml.jackson.core.JsonProcessingException jpe) {
        throw new S2FormatException("event " + events.size() + ": malformed JSON: " + jpe.getOriginalMessage());
      }
      throw e;
    }
    return List.copyOf(events);
  }

  /** {@link #parse} of bytes. */
  public static List<S2Event> parse(byte[] jsonl) {
    try {
      return parse(new ByteArrayInputStream(jsonl));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses a history and pairs it into operations ({@link #operations}). */
  public static List<Operation> read(InputStream in) throws IOException {
    return operations(parse(in));
  }

  private static S2Event event(JsonNode line) {
    Map<String, JsonNode> fields = fields(line, "line", List.of("event", "client_id", "op_id"));
    long clientId = u64(fields.get("client_id"), "client_id");
    long opId = u64(fields.get("op_id"), "op_id");
    Map.Entry<String, JsonNode> variant = variant(fields.get("event"), "event");
    return switch (variant.getKey()) {
      case "Start" -> new S2Event.Start(clientId, opId, call(variant.getValue()));
      case "Finish" -> new S2Event.Finish(clientId, opId, finish(variant.getValue()));
      default -> throw new S2FormatException("unknown event variant " + variant.getKey());
    };
  }

  private static S2Call call(JsonNode node) {
    if (node.isTextual()) {
      return switch (node.textValue()) {
        case "Read" -> ReadInput.INSTANCE;
        case "CheckTail" -> CheckTailInput.INSTANCE;
        default -> throw new S2FormatException("unknown start " + node);
      };
    }
    Map.Entry<String, JsonNode> variant = variant(node, "Start");
    if (!variant.getKey().equals("Append")) {
      throw new S2FormatException("unknown start variant " + variant.getKey());
    }
    Map<String, JsonNode> a = fields(variant.getValue(), "Append",
        List.of("num_records", "record_hashes", "set_fencing_token", "fencing_token", "match_seq_num"));
    long numRecords = u64(a.get("num_records"), "num_records");
    JsonNode hashesNode = a.get("record_hashes");
    if (!hashesNode.isArray()) {
      throw new S2FormatException("record_hashes is not an array");
    }
    List<Long> hashes = new ArrayList<>(hashesNode.size());
    for (JsonNode h : hashesNode) {
      hashes.add(u64(h, "record_hashes[]"));
    }
    if (hashes.size() != numRecords) {
      throw new S2FormatException(
          "append has " + hashes.size() + " record_hashes but num_records " + Long.toUnsignedString(numRecords));
    }
    JsonNode match = a.get("match_seq_num");
    return new AppendInput(
        hashes,
        match.isNull() ? null : u64(match, "match_seq_num"),
        optionalString(a.get("fencing_token"), "fencing_token"),
        optionalString(a.get("set_fencing_token"), "set_fencing_token"));
  }

  private static S2Finish finish(JsonNode node) {
    if (node.isTextual()) {
      for (S2Failure failure : S2Failure.values()) {
        if (failure.json().equals(node.textValue())) {
          return failure;
        }
      }
      throw new S2FormatException("unknown finish " + node);
    }
    Map.Entry<String, JsonNode> variant = variant(node, "Finish");
    return switch (variant.getKey()) {
      case "AppendSuccess" -> {
        Map<String, JsonNode> f = fields(variant.getValue(), "AppendSuccess", List.of("tail"));
        yield new AppendOutput(u64(f.get("tail"), "tail"));
      }
      case "ReadSuccess" -> {
        Map<String, JsonNode> f = fields(variant.getValue(), "ReadSuccess", List.of("tail", "stream_hash"));
        yield new ReadOutput(u64(f.get("tail"), "tail"), u64(f.get("stream_hash"), "stream_hash"));
      }
      case "CheckTailSuccess" -> {
        Map<String, JsonNode> f = fields(variant.getValue(), "CheckTailSuccess", List.of("tail"));
        yield new CheckTailOutput(u64(f.get("tail"), "tail"));
      }
      default -> throw new S2FormatException("unknown finish variant " + variant.getKey());
    };
  }

  /** The object's fields, which must be exactly {@code expected}. */
  private static Map<String, JsonNode> fields(JsonNode node, String what, List<String> expected) {
    if (node == null || !node.isObject()) {
      throw new S2FormatException(what + " is not an object: " + node);
    }
    Map<String, JsonNode> fields = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> field = it.next();
      fields.put(field.getKey(), field.getValue());
    }
    if (!new TreeSet<>(fields.keySet()).equals(new TreeSet<>(expected))) {
      throw new S2FormatException(
          what + " has keys " + new TreeSet<>(fields.keySet()) + ", expected " + new TreeSet<>(expected));
    }
    return fields;
  }

  /** An externally tagged enum variant: an object with exactly one key. */
  private static Map.Entry<String, JsonNode> variant(JsonNode node, String what) {
    if (node == null || !node.isObject() || node.size() != 1) {
      throw new S2FormatException(what + " is not a one-key object: " + node);
    }
    return node.fields().next();
  }

  private static long u64(JsonNode node, String what) {
    if (node == null || !node.isIntegralNumber()) {
      throw new S2FormatException(what + " is not an unsigned integer: " + node);
    }
    BigInteger value = node.bigIntegerValue();
    if (value.signum() < 0 || value.compareTo(U64_LIMIT) >= 0) {
      throw new S2FormatException(what + " is outside u64: " + value);
    }
    return value.longValue();
  }

  private static String optionalString(JsonNode node, String what) {
    if (node.getNodeType() == JsonNodeType.NULL) {
      return null;
    }
    if (!node.isTextual()) {
      throw new S2FormatException(what + " is neither a string nor null: " + node);
    }
    return node.textValue();
  }

  // ---------------------------------------------------------------- pairing

  /**
   * Pairs starts with finishes (by {@code op_id}; the finish's {@code client_id} must match) into
   * operations for {@link S2StreamModel}, ordered by start and numbered from 0.
   *
   * <p>Times are line numbers. Definite failures are dropped (they had no effect). An
   * {@code "AppendIndefiniteFailure"} and a start without a finish become indefinite operations
   * (completing at {@link Long#MAX_VALUE}, output {@code null}): the batch may take effect at any
   * point after its start, or never. An unfinished read or check-tail constrains nothing and is
   * kept as an indefinite operation too.
   *
   * @throws S2FormatException for a finish without a start, a repeated {@code op_id}, or a finish
   *     of the wrong kind
   */
  public static List<Operation> operations(List<S2Event> events) {
    record Open(long clientId, long invokeTime, S2Call call) {}
    record Done(long invokeTime, long clientId, long completeTime, S2Call call, S2Finish output) {}
    Map<Long, Open> open = new LinkedHashMap<>();
    Set<Long> seen = new TreeSet<>();
    List<Done> done = new ArrayList<>();
    for (int time = 0; time < events.size(); time++) {
      S2Event event = events.get(time);
      switch (event) {
        case S2Event.Start start -> {
          if (!seen.add(start.opId())) {
            throw new S2FormatException("event " + time + ": op_id " + Long.toUnsignedString(start.opId()) + " started twice");
          }
          open.put(start.opId(), new Open(start.clientId(), time, start.call()));
        }
        case S2Event.Finish finish -> {
          Open started = open.remove(finish.opId());
          if (started == null) {
            throw new S2FormatException("event " + time + ": finish of op_id "
                + Long.toUnsignedString(finish.opId()) + " which is not running");
          }
          if (started.clientId() != finish.clientId()) {
            throw new S2FormatException("event " + time + ": op_id " + Long.toUnsignedString(finish.opId())
                + " started by client " + Long.toUnsignedString(started.clientId()) + " finished by client "
                + Long.toUnsignedString(finish.clientId()));
          }
          if (!S2Failure.fits(started.call(), finish.finish())) {
            throw new S2FormatException("event " + time + ": " + started.call() + " cannot finish with " + finish.finish());
          }
          switch (finish.finish()) {
            case S2Failure f when f.definite() -> { } // no effect: not part of the checked history
            case S2Failure f -> done.add(new Done(started.invokeTime(), started.clientId(), Long.MAX_VALUE, started.call(), null));
            default -> done.add(new Done(started.invokeTime(), started.clientId(), time, started.call(), finish.finish()));
          }
        }
      }
    }
    for (Open unfinished : open.values()) {
      done.add(new Done(unfinished.invokeTime(), unfinished.clientId(), Long.MAX_VALUE, unfinished.call(), null));
    }
    done.sort(Comparator.comparingLong(Done::invokeTime));
    List<Operation> operations = new ArrayList<>(done.size());
    for (Done d : done) {
      boolean indefinite = d.completeTime() == Long.MAX_VALUE;
      operations.add(new Operation(
          operations.size(), d.clientId(), d.invokeTime(), d.completeTime(), d.call(), d.output(), indefinite));
    }
    return List.copyOf(operations);
  }
}
