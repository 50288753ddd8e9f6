package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.s2j.wire.proto.AppendAck;
import io.s2j.wire.proto.AppendInput;
import io.s2j.wire.proto.AppendRecord;
import io.s2j.wire.proto.Header;
import io.s2j.wire.proto.ReadBatch;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Appends, reads and check-tail over HTTP/1.1 (S2-API §6.8–§8): JSON in both record formats,
 * protobuf, the 412 and 416 bodies and the validation errors. Names carry behaviour case numbers.
 */
class ServerDataPlaneTest extends ServerFixture {

  private static String withStream(String config) {
    String b = basin(null);
    stream(b, "s", config);
    return b;
  }

  @Test
  void case87and88_checkTail() {
    String b = withStream(null);
    JsonNode t0 = tail(b, "s").json().path("tail");
    assertEquals(0, t0.path("seq_num").asLong());
    assertEquals(0, t0.path("timestamp").asLong());
    JsonNode ack = appendBodies(b, "s", "x");
    assertEquals(ack.path("end"), tail(b, "s").json().path("tail"));
  }

  @Test
  void case89_140to142_missingBasin() {
    String b = freshBasin();
    tail(b, "test-stream-missing").assertError(404, "basin_not_found");
    read(b, "s", "seq_num=0").assertError(404, "basin_not_found");
    append(b, "s", "{\"records\":[{\"body\":\"x\"}]}").assertError(404, "basin_not_found");
  }

  @Test
  void appendAckShape() {
    String b = withStream(null);
    JsonNode ack = appendBodies(b, "s", "a", "b", "c");
    assertEquals(0, ack.path("start").path("seq_num").asLong());
    assertEquals(3, ack.path("end").path("seq_num").asLong());
    assertTrue(ack.path("tail").path("seq_num").asLong() >= 3);
    assertTrue(ack.path("start").path("timestamp").asLong() > 0);
    JsonNode ack2 = appendBodies(b, "s", "d");
    assertEquals(3, ack2.path("start").path("seq_num").asLong());
  }

  @Test
  void case91_readFromZeroWithWaitZero() {
    String b = withStream(null);
    for (int i = 0; i < 5; i++) {
      appendBodies(b, "s", "test data");
    }
    Resp r = read(b, "s", "seq_num=0&wait=0");
    assertEquals(200, r.status(), r::text);
    assertEquals(List.of("test data", "test data", "test data", "test data", "test data"), bodies(r.json()));
    assertTrue(r.json().path("tail").isMissingNode(), "catch-up batches carry no tail");
    JsonNode first = r.json().path("records").get(0);
    assertEquals(0, first.path("seq_num").asLong());
    assertTrue(first.path("headers").isMissingNode(), "headers omitted when empty");
  }

  @Test
  void case93_readCount() {
    String b = withStream(null);
    for (int i = 0; i < 10; i++) {
      appendBodies(b, "s", "record-" + i);
    }
    assertEquals(List.of("record-0", "record-1", "record-2", "record-3", "record-4"), bodies(read(b, "s", "seq_num=0&count=5").json()));
  }

  @Test
  void case94_readBeyondTailIs416WithTail() {
    String b = withStream(null);
    appendBodies(b, "s", "x");
    Resp r = read(b, "s", "seq_num=100");
    assertEquals(416, r.status(), r::text);
    assertEquals(1, r.json().path("tail").path("seq_num").asLong());
    assertEquals(1, r.json().size(), r::text);
  }

  @Test
  void clampedToTheTailUnaryReadThatMayNotWaitIs416() {
    // Case 95 is a session (no bounds, so it may follow); a unary read always has count and bytes
    // bounds, so with wait=0 it may not follow and a start clamped to the tail is 416 (S2-API §8.2, §8.3).
    String b = withStream(null);
    appendBodies(b, "s", "x");
    assertEquals(1, read(b, "s", "seq_num=100&clamp=true&wait=0").assertStatus(416).json().path("tail").path("seq_num").asLong());
    assertEquals(List.of("x"), bodies(read(b, "s", "seq_num=0&clamp=true&wait=0").assertStatus(200).json()));
  }

  @Test
  void case96to99_startsAtTheTailThatMayNotWait() {
    String b = withStream("{\"timestamping\":{\"mode\":\"client-require\"}}");
    JsonNode ack = append(b, "s", "{\"records\":[{\"timestamp\":1000,\"body\":\"a\"},{\"timestamp\":2000,\"body\":\"b\"}]}").json();
    JsonNode end = ack.path("end");
    assertEquals(end, read(b, "s", "tail_offset=0&count=10").assertStatus(416).json().path("tail"));
    assertEquals(end, read(b, "s", "seq_num=2&count=10&wait=0").assertStatus(416).json().path("tail"));
    assertEquals(end, read(b, "s", "timestamp=2001&until=18446744073709551615").assertStatus(416).json().path("tail"));
    assertEquals(end, read(b, "s", "timestamp=2001&clamp=true&count=10").assertStatus(416).json().path("tail"));
  }

  @Test
  void case100_tailOffset() {
    String b = withStream(null);
    for (int i = 1; i <= 5; i++) {
      appendBodies(b, "s", "record " + i);
    }
    assertEquals(List.of("record 4", "record 5"), bodies(read(b, "s", "tail_offset=2&wait=0").json()));
  }

  @Test
  void case104and105_bytesLimit() {
    String b = withStream(null);
    appendBodies(b, "s", "record-1", "record-2", "record-3");
    assertEquals(List.of("record-1", "record-2"), bodies(read(b, "s", "seq_num=0&bytes=" + (2 * (8 + 8))).json()));
    String b2 = withStream(null);
    appendBodies(b2, "s", "oversized");
    Resp r = read(b2, "s", "seq_num=0&bytes=" + (8 + 9 - 1));
    assertEquals(200, r.status(), r::text);
    assertEquals(List.of(), bodies(r.json()));
  }

  @Test
  void case108to110_until() {
    String b = withStream("{\"timestamping\":{\"mode\":\"client-require\"}}");
    append(b, "s", "{\"records\":[{\"timestamp\":1000,\"body\":\"ts-1000\"},{\"timestamp\":2000,\"body\":\"ts-2000-a\"},"
        + "{\"timestamp\":2000,\"body\":\"ts-2000-b\"},{\"timestamp\":3000,\"body\":\"ts-3000\"}]}").assertStatus(200);
    assertEquals(List.of(), bodies(read(b, "s", "seq_num=0&until=500").json()));
    assertEquals(List.of("ts-1000"), bodies(read(b, "s", "seq_num=0&until=2000").json()));
    assertEquals(List.of("ts-1000", "ts-2000-a", "ts-2000-b", "ts-3000"), bodies(read(b, "s", "seq_num=0&until=5000").json()));
  }

  @Test
  void case47_patchReachesTheStream() {
    String b = withStream(null);
    appendBodies(b, "s", "x");
    call("PATCH", "/v1/streams/s", "{\"timestamping\":{\"mode\":\"client-require\"}}", "s2-basin", b).assertStatus(200);
    tail(b, "s").assertStatus(200);
    append(b, "s", "{\"records\":[{\"body\":\"no timestamp\"}]}").assertError(422, "invalid");
  }

  @Test
  void case48_ensureReachesTheStream() {
    String b = withStream(null);
    appendBodies(b, "s", "x");
    call("PUT", "/v1/streams/s", "{\"timestamping\":{\"mode\":\"client-require\"}}", "s2-basin", b).assertStatus(200);
    append(b, "s", "{\"records\":[{\"body\":\"no timestamp\"}]}").assertError(422, "invalid");
  }

  @Test
  void case130and132_autoCreateOnAppend() {
    String on = basin("{\"create_stream_on_append\":true}");
    JsonNode ack = appendBodies(on, "auto", "x");
    assertEquals(1, ack.path("end").path("seq_num").asLong());
    assertEquals(1, get("/v1/streams", "s2-basin", on).json().path("streams").size());
    assertEquals(1, tail(on, "auto").json().path("tail").path("seq_num").asLong());
    String off = basin(null);
    append(off, "auto", "{\"records\":[{\"body\":\"x\"}]}").assertError(404, "stream_not_found");
    assertEquals(0, get("/v1/streams", "s2-basin", off).json().path("streams").size());
  }

  @Test
  void case133to137_autoCreateOnRead() {
    String on = basin("{\"create_stream_on_read\":true}");
    JsonNode t = tail(on, "auto").assertStatus(200).json().path("tail");
    assertEquals(0, t.path("seq_num").asLong());
    assertEquals(1, get("/v1/streams", "s2-basin", on).json().path("streams").size());
    String off = basin(null);
    read(off, "s", "seq_num=0").assertError(404, "stream_not_found");
    tail(off, "s").assertError(404, "stream_not_found");
    assertEquals(0, get("/v1/streams", "s2-basin", off).json().path("streams").size());
  }

  @Test
  void case143_concurrentAppends() throws Exception {
    String b = withStream(null);
    List<CompletableFuture<java.net.http.HttpResponse<String>>> futures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      futures.add(http.sendAsync(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/json")
          .POST(json("{\"records\":[{\"body\":\"c-" + i + "\"}]}")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()));
    }
    for (var f : futures) {
      assertEquals(200, f.get().statusCode(), f.get()::body);
    }
    assertEquals(20, tail(b, "s").json().path("tail").path("seq_num").asLong());
    TreeSet<String> got = new TreeSet<>(bodies(read(b, "s", "seq_num=0").json()));
    assertEquals(20, got.size());
  }

  @Test
  void case146_timestampNotBeforeUntilIs422AndCreatesNothing() {
    String b = basin("{\"create_stream_on_read\":true}");
    Resp r = read(b, "s", "timestamp=5&until=5").assertError(422, "invalid");
    assertTrue(r.json().path("message").asText().contains("start `timestamp` exceeds or equal to `until`"));
    assertEquals(0, get("/v1/streams", "s2-basin", b).json().path("streams").size());
    read(b, "s", "seq_num=1&tail_offset=1").assertError(422, "invalid");
    read(b, "s", "seq_num=abc").assertError(400, "bad_query");
    read(b, "s", "clamp=yes").assertError(400, "bad_query");
  }

  @Test
  void case167and170_recordValidation() {
    String b = withStream(null);
    append(b, "s", "{\"records\":[]}").assertError(422, "invalid");
    append(b, "s", "{\"records\":[{\"headers\":[[\"\",\"hi\"]]}]}").assertError(422, "invalid");
    append(b, "s", "{\"records\":[{\"headers\":[[\"\",\"fence\"],[\"a\",\"b\"]]}]}").assertError(422, "invalid");
    append(b, "s", "{\"records\":[{\"headers\":[[\"\",\"fence\"]],\"body\":\"" + "t".repeat(40) + "\"}]}").assertError(422, "invalid");
    append(b, "s", "{\"records\":[{\"headers\":[[\"\",\"trim\"]],\"body\":\"abcd\"}]}").assertError(422, "invalid");
    append(b, "s", "{\"records\":[{\"body\":\"!!!\"}]}", "s2-format", "base64").assertError(422, "invalid");
    StringBuilder many = new StringBuilder("{\"records\":[");
    for (int i = 0; i < 1001; i++) {
      many.append(i == 0 ? "" : ",").append("{}");
    }
    append(b, "s", many.append("]}").toString()).assertError(422, "invalid");
    assertEquals(0, tail(b, "s").json().path("tail").path("seq_num").asLong());
  }

  @Test
  void appendBodyErrors() {
    String b = withStream(null);
    append(b, "s", "{\"records\":").assertError(400, "bad_json");
    append(b, "s", "{\"records\":[{\"body\":\"x\"}],\"fencing_token\":\"" + "f".repeat(37) + "\"}").assertError(400, "bad_json");
    append(b, "s", "{\"records\":[{\"body\":\"x\"}]}", "s2-format", "hex").assertError(400, "bad_header");
    send(req("/v1/streams/s/records").header("s2-basin", b).POST(json("{\"records\":[{\"body\":\"x\"}]}")))
        .assertError(400, "bad_json");
    send(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {(byte) 0xff, 1, 2}))).assertError(400, "bad_proto");
    read(b, "s", "seq_num=0").assertStatus(416);
  }

  @Test
  void seqNumAndFencingMismatchBodies() {
    String b = withStream(null);
    appendBodies(b, "s", "first");
    Resp m = append(b, "s", "{\"records\":[{\"body\":\"x\"}],\"match_seq_num\":0}");
    assertEquals(412, m.status(), m::text);
    assertEquals("{\"seq_num_mismatch\":1}", m.text());
    append(b, "s", "{\"records\":[{\"headers\":[[\"\",\"fence\"]],\"body\":\"writer-1\"}],\"match_seq_num\":1}").assertStatus(200);
    Resp f = append(b, "s", "{\"records\":[{\"body\":\"x\"}],\"fencing_token\":\"writer-0\"}");
    assertEquals(412, f.status(), f::text);
    assertEquals("{\"fencing_token_mismatch\":\"writer-1\"}", f.text());
    append(b, "s", "{\"records\":[{\"body\":\"ok\"}],\"fencing_token\":\"writer-1\"}").assertStatus(200);
    JsonNode rs = read(b, "s", "seq_num=1&count=1").json().path("records").get(0);
    assertEquals("[[\"\",\"fence\"]]", rs.path("headers").toString());
    assertEquals("writer-1", rs.path("body").asText());
  }

  @Test
  void base64FormatRoundTripsBinary() {
    String b = withStream(null);
    byte[] bin = {0, (byte) 0xff, (byte) 0xc3, 0x28, 10};
    String b64 = Base64.getEncoder().encodeToString(bin);
    String hName = Base64.getEncoder().encodeToString("k".getBytes(StandardCharsets.UTF_8));
    append(b, "s", "{\"records\":[{\"headers\":[[\"" + hName + "\",\"" + b64 + "\"]],\"body\":\"" + b64 + "\"}]}",
        "s2-format", "base64").assertStatus(200);
    JsonNode rec = read(b, "s", "seq_num=0", "s2-format", " json-binsafe ").json().path("records").get(0);
    assertEquals(b64, rec.path("body").asText());
    assertEquals(hName, rec.path("headers").get(0).get(0).asText());
    assertEquals(b64, rec.path("headers").get(0).get(1).asText());
    // raw rendering is lossy: invalid UTF-8 becomes U+FFFD
    assertTrue(read(b, "s", "seq_num=0").json().path("records").get(0).path("body").asText().contains("\uFFFD"));
    // trim command, base64 (the spec's example: trim to 42)
    append(b, "s", "{\"records\":[{\"headers\":[[\"\",\"dHJpbQ==\"]],\"body\":\"AAAAAAAAACo=\"}]}", "s2-format", "base64").assertStatus(200);
  }

  @Test
  void case151_protobufAppendAndRead() throws Exception {
    String b = withStream(null);
    AppendInput in = AppendInput.newBuilder()
        .addRecords(AppendRecord.newBuilder().setBody(ByteString.copyFromUtf8("secret"))
            .addHeaders(Header.newBuilder().setName(ByteString.copyFromUtf8("h")).setValue(ByteString.copyFrom(new byte[] {0, 1}))))
        .addRecords(AppendRecord.newBuilder().setTimestamp(5).setBody(ByteString.copyFrom(new byte[] {(byte) 0xfe})))
        .setMatchSeqNum(0)
        .build();
    Resp r = send(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/protobuf")
        .header("accept", "application/protobuf").POST(HttpRequest.BodyPublishers.ofByteArray(in.toByteArray())));
    assertEquals(200, r.status(), r::text);
    assertEquals("application/protobuf", r.header("content-type"));
    AppendAck ack = AppendAck.parseFrom(r.body());
    assertEquals(0, ack.getStart().getSeqNum());
    assertEquals(2, ack.getEnd().getSeqNum());
    Resp jsonAck = send(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/x-protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(in.toBuilder().clearMatchSeqNum().build().toByteArray())));
    assertEquals(4, jsonAck.assertStatus(200).json().path("end").path("seq_num").asLong());
    Resp rr = read(b, "s", "seq_num=0&count=2", "accept", "application/protobuf");
    assertEquals(200, rr.status(), rr::text);
    ReadBatch batch = ReadBatch.parseFrom(rr.body());
    assertEquals(2, batch.getRecordsCount());
    assertEquals("secret", batch.getRecords(0).getBody().toStringUtf8());
    assertEquals(ByteString.copyFrom(new byte[] {0, 1}), batch.getRecords(0).getHeaders(0).getValue());
    assertEquals(ByteString.copyFrom(new byte[] {(byte) 0xfe}), batch.getRecords(1).getBody());
    assertFalse(batch.hasTail());
    // a protobuf fencing token over 36 bytes is 422 (not 400 as in JSON)
    Resp longToken = send(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(in.toBuilder().clearMatchSeqNum().setFencingToken("f".repeat(37)).build().toByteArray())));
    longToken.assertError(422, "invalid");
  }

  @Test
  void longPollReturnsALiveBatch() throws Exception {
    String b = withStream(null);
    appendBodies(b, "s", "x");
    CompletableFuture<java.net.http.HttpResponse<String>> poll = http.sendAsync(
        req("/v1/streams/s/records?seq_num=1&wait=10").header("s2-basin", b).GET().build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    Thread.sleep(300);
    assertFalse(poll.isDone(), "a long poll at the tail waits");
    appendBodies(b, "s", "live");
    JsonNode batch = JSON.readTree(poll.get().body());
    assertEquals(List.of("live"), bodies(batch));
    assertEquals(2, batch.path("tail").path("seq_num").asLong(), "a live batch carries the tail");
  }

  @Test
  void streamNamesWithSlashesAndSpaces() {
    String b = basin(null);
    String name = "a/b c+d%";
    stream(b, name, null);
    appendBodies(b, name, "x");
    assertEquals(List.of("x"), bodies(read(b, name, "seq_num=0").json()));
    assertEquals(name, get("/v1/streams", "s2-basin", b).json().path("streams").get(0).path("name").asText());
  }

  @Test
  void unaryResponsesOver1KiBAreCompressedPerAcceptEncodingAndRequestBodiesDecompressed() throws Exception {
    String b = withStream(null);
    String big = "q".repeat(3000);
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write(("{\"records\":[{\"body\":\"" + big + "\"}]}").getBytes(StandardCharsets.UTF_8));
    }
    send(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/json")
        .header("content-encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray()))).assertStatus(200);
    Resp r = read(b, "s", "seq_num=0", "accept-encoding", "gzip");
    assertEquals(200, r.status());
    assertEquals("gzip", r.header("content-encoding"));
    byte[] plain = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(r.body())).readAllBytes();
    assertEquals(List.of(big), bodies(JSON.readTree(plain)));
    Resp z = read(b, "s", "seq_num=0", "accept-encoding", "zstd");
    assertEquals("zstd", z.header("content-encoding"));
    byte[] unz = com.github.luben.zstd.Zstd.decompress(z.body(), (int) com.github.luben.zstd.Zstd.getFrameContentSize(z.body()));
    assertEquals(List.of(big), bodies(JSON.readTree(unz)));
    Resp small = tail(b, "s");
    assertEquals(null, small.header("content-encoding"), "small bodies stay uncompressed");
  }
}
