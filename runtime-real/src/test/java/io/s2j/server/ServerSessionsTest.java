package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.luben.zstd.Zstd;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.s2j.wire.proto.AppendAck;
import io.s2j.wire.proto.AppendInput;
import io.s2j.wire.proto.AppendRecord;
import io.s2j.wire.proto.ReadBatch;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sessions (S2-API §9, §10): SSE read sessions over HTTP/1.1, and S2S read and append sessions
 * over cleartext HTTP/2 with prior knowledge, as the SDKs open them. Names carry behaviour case
 * numbers where they match (session durations in whole seconds, as the cases file suggests).
 */
class ServerSessionsTest extends ServerFixture {
  static H2Client h2;

  @BeforeAll
  static void connectH2() throws InterruptedException {
    h2 = new H2Client(server.port());
  }

  @AfterAll
  static void closeH2() {
    if (h2 != null) {
      h2.close();
    }
  }

  private static String withStream() {
    String b = basin(null);
    stream(b, "s", null);
    return b;
  }

  // ---------------------------------------------------------------- SSE

  record Event(String event, String id, String data) {}

  static List<Event> events(String body) {
    List<Event> out = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      if (block.isBlank()) {
        continue;
      }
      String event = null;
      String id = null;
      StringBuilder data = new StringBuilder();
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          data.append(line.substring(6));
        }
      }
      out.add(new Event(event, id, data.toString()));
    }
    return out;
  }

  static Resp sse(String basin, String query, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "accept";
    all[1] = "text/event-stream";
    System.arraycopy(headers, 0, all, 2, headers.length);
    return read(basin, "s", query, all);
  }

  @Test
  void sseCatchUpThenPingThenDone() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "a", "b");
    Resp r = sse(b, "seq_num=0&wait=1");
    assertEquals(200, r.status(), r::text);
    assertEquals("text/event-stream", r.header("content-type"));
    assertEquals("no-cache, no-transform", r.header("cache-control"));
    List<Event> evs = events(r.text());
    assertEquals("batch", evs.get(0).event());
    assertEquals("1,2,18", evs.get(0).id(), "last seq_num, records so far, metered bytes so far");
    JsonNode batch = JSON.readTree(evs.get(0).data());
    assertEquals(List.of("a", "b"), bodies(batch));
    assertTrue(batch.path("tail").isMissingNode(), "catch-up batch without tail");
    assertEquals("ping", evs.get(1).event());
    JsonNode ping = JSON.readTree(evs.get(1).data());
    assertEquals(2, ping.path("tail").path("seq_num").asLong());
    assertTrue(ping.path("timestamp").asLong() > 0);
    Event last = evs.get(evs.size() - 1);
    assertEquals(null, last.event());
    assertEquals("[DONE]", last.data());
  }

  @Test
  void case95_sseClampedToTheTailWithWaitZeroEndsAtOnce() {
    String b = withStream();
    appendBodies(b, "s", "x");
    Resp r = sse(b, "seq_num=100&clamp=true&wait=0");
    assertEquals(200, r.status(), r::text);
    List<Event> evs = events(r.text());
    assertEquals(1, evs.size(), r::text);
    assertEquals("[DONE]", evs.get(0).data());
  }

  @Test
  void sseLiveBatchCarriesTail() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "x");
    var future = http.sendAsync(req("/v1/streams/s/records?tail_offset=0&wait=2").header("s2-basin", b)
        .header("accept", "text/event-stream").GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    Thread.sleep(500);
    appendBodies(b, "s", "live");
    List<Event> evs = events(future.get().body());
    assertEquals("ping", evs.get(0).event(), "heartbeat on entering follow mode");
    Event batch = evs.stream().filter(e -> "batch".equals(e.event())).findFirst().orElseThrow();
    JsonNode live = JSON.readTree(batch.data());
    assertEquals(List.of("live"), bodies(live));
    assertEquals(2, live.path("tail").path("seq_num").asLong());
    assertEquals("1,1,12", batch.id());
    assertEquals("[DONE]", evs.get(evs.size() - 1).data());
  }

  @Test
  void sseResumesFromLastEventId() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "r0", "r1", "r2", "r3");
    // The first response delivered r0, r1 (id "1,2,20") out of count=3; a resume gets one more.
    Resp r = sse(b, "seq_num=0&count=3", "last-event-id", "1,2,20");
    List<Event> evs = events(r.text());
    assertEquals("batch", evs.get(0).event());
    assertEquals(List.of("r2"), bodies(JSON.readTree(evs.get(0).data())));
    assertEquals("2,3,30", evs.get(0).id());
    assertEquals("[DONE]", evs.get(evs.size() - 1).data());
    sse(b, "seq_num=0", "last-event-id", "nope").assertError(400, "bad_header");
  }

  @Test
  void sseErrorsBeforeTheStreamAreJson() {
    String b = withStream();
    appendBodies(b, "s", "x");
    Resp r = sse(b, "seq_num=5");
    assertEquals(416, r.status(), r::text);
    assertEquals("application/json", r.header("content-type"));
    assertEquals(1, r.json().path("tail").path("seq_num").asLong());
    read(b, "missing", "seq_num=0", "accept", "text/event-stream").assertError(404, "stream_not_found");
  }

  @Test
  void sseBase64Format() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "hi");
    List<Event> evs = events(sse(b, "seq_num=0&wait=0", "s2-format", "base64").text());
    assertEquals("aGk=", JSON.readTree(evs.get(0).data()).path("records").get(0).path("body").asText());
  }

  // ---------------------------------------------------------------- S2S frames

  record Frame(int flag, byte[] body) {
    boolean terminal() {
      return (flag & 0x80) != 0;
    }

    int compression() {
      return (flag & 0x60) >>> 5;
    }

    byte[] message() throws Exception {
      return switch (compression()) {
        case 0 -> body;
        case 1 -> Zstd.decompress(body, (int) Zstd.getFrameContentSize(body));
        case 2 -> new GZIPInputStream(new ByteArrayInputStream(body)).readAllBytes();
        default -> throw new AssertionError("bad compression bits");
      };
    }

    int status() {
      return ((body[0] & 0xff) << 8) | (body[1] & 0xff);
    }

    JsonNode error() throws Exception {
      return JSON.readTree(new String(body, 2, body.length - 2, StandardCharsets.UTF_8));
    }
  }

  static List<Frame> frames(byte[] bytes) {
    List<Frame> out = new ArrayList<>();
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.remaining() > 0) {
      assertTrue(buf.remaining() >= 4, "truncated frame header");
      int length = ((buf.get() & 0xff) << 16) | ((buf.get() & 0xff) << 8) | (buf.get() & 0xff);
      int flag = buf.get() & 0xff;
      byte[] body = new byte[length - 1];
      buf.get(body);
      out.add(new Frame(flag, body));
    }
    return out;
  }

  static byte[] frame(byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int length = message.length + 1;
    out.write(length >>> 16);
    out.write(length >>> 8);
    out.write(length);
    out.write(0);
    out.writeBytes(message);
    return out.toByteArray();
  }

  static Map<String, String> s2s(String basin, String... more) {
    Map<String, String> h = new TreeMap<>();
    h.put("content-type", "s2s/proto");
    h.put("accept", "application/protobuf");
    h.put("s2-basin", basin);
    for (int i = 0; i < more.length; i += 2) {
      h.put(more[i], more[i + 1]);
    }
    return h;
  }

  static byte[] input(String... bodies) {
    AppendInput.Builder b = AppendInput.newBuilder();
    for (String body : bodies) {
      b.addRecords(AppendRecord.newBuilder().setBody(ByteString.copyFromUtf8(body)));
    }
    return b.build().toByteArray();
  }

  @Test
  void case150_s2sReadOneBatchThenEnd() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "secret");
    H2Client.Exchange ex = h2.open(HttpMethod.GET, "/v1/streams/s/records?seq_num=0&wait=0", s2s(b), true);
    HttpResponse resp = ex.awaitResponse();
    assertEquals(200, resp.status().code());
    assertEquals("s2s/proto", resp.headers().get("content-type"));
    List<Frame> fs = frames(ex.awaitBody());
    assertEquals(1, fs.size());
    assertFalse(fs.get(0).terminal());
    ReadBatch batch = ReadBatch.parseFrom(fs.get(0).message());
    assertEquals(1, batch.getRecordsCount());
    assertEquals("secret", batch.getRecords(0).getBody().toStringUtf8());
  }

  @Test
  void s2sReadHeartbeatOnFollowThenLiveBatch() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "seed");
    H2Client.Exchange ex = h2.open(HttpMethod.GET, "/v1/streams/s/records?tail_offset=0&wait=2", s2s(b), true);
    assertEquals(200, ex.awaitResponse().status().code());
    Frame first = frames(ex.chunks.poll(10, java.util.concurrent.TimeUnit.SECONDS)).get(0);
    ReadBatch heartbeat = ReadBatch.parseFrom(first.message());
    assertEquals(0, heartbeat.getRecordsCount());
    assertTrue(heartbeat.hasTail());
    assertEquals(1, heartbeat.getTail().getSeqNum());
    appendBodies(b, "s", "follow-1", "follow-2");
    List<Frame> rest = frames(ex.awaitBody());
    ReadBatch live = null;
    for (Frame f : rest) {
      ReadBatch rb = ReadBatch.parseFrom(f.message());
      if (rb.getRecordsCount() > 0) {
        live = rb;
        break;
      }
    }
    assertTrue(live != null, "a live batch arrived");
    assertEquals(2, live.getRecordsCount());
    assertEquals(3, live.getTail().getSeqNum());
    assertFalse(rest.get(rest.size() - 1).terminal(), "a clean end has no terminal frame");
  }

  @Test
  void aClientThatCancelsHundredsOfSessionsKeepsItsConnection() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "seed");
    int sessions = 3 * 200; // three times Netty's default rapid-reset allowance per window
    try (H2Client own = new H2Client(server.port())) {
      for (int round = 0; round < 3; round++) {
        List<H2Client.Exchange> open = new ArrayList<>();
        for (int i = 0; i < sessions / 3; i++) {
          open.add(own.open(HttpMethod.GET, "/v1/streams/s/records?tail_offset=0&wait=30", s2s(b), true));
        }
        for (H2Client.Exchange ex : open) {
          assertEquals(200, ex.awaitResponse().status().code());
        }
        for (H2Client.Exchange ex : open) {
          ex.cancel();
        }
      }
      H2Client.Exchange after = own.open(HttpMethod.GET, "/v1/streams/s/records?seq_num=0&wait=0", s2s(b), true);
      assertEquals(200, after.awaitResponse().status().code(), "the connection still serves after " + sessions + " cancels");
      ReadBatch batch = ReadBatch.parseFrom(frames(after.awaitBody()).get(0).message());
      assertEquals(1, batch.getRecordsCount());
    }
  }

  /**
   * Fan-out: a live batch is encoded once per wire form and the same bytes go to every tailing
   * session of the stream (here 40 uncompressed and 10 zstd sessions on one connection, and 5 SSE
   * readers), each of which still gets exactly that batch.
   */
  @Test
  void tailingSessionsGetOneEncodingOfEachLiveBatch() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "seed");
    String big = "y".repeat(3000);
    try (H2Client own = new H2Client(server.port())) {
      List<H2Client.Exchange> plain = new ArrayList<>();
      List<H2Client.Exchange> zstd = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        H2Client.Exchange ex = own.open(HttpMethod.GET, "/v1/streams/s/records?tail_offset=0&wait=2",
            i < 40 ? s2s(b) : s2s(b, "accept-encoding", "zstd"), true);
        (i < 40 ? plain : zstd).add(ex);
      }
      List<java.util.concurrent.CompletableFuture<Resp>> sses = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        sses.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> sse(b, "tail_offset=0&wait=2")));
      }
      for (H2Client.Exchange ex : plain) {
        assertEquals(200, ex.awaitResponse().status().code());
        ReadBatch heartbeat = ReadBatch.parseFrom(frames(ex.chunks.poll(10, java.util.concurrent.TimeUnit.SECONDS)).get(0).message());
        assertEquals(0, heartbeat.getRecordsCount(), "every session is at the tail before the append");
      }
      for (H2Client.Exchange ex : zstd) {
        assertEquals(200, ex.awaitResponse().status().code());
        ReadBatch.parseFrom(frames(ex.chunks.poll(10, java.util.concurrent.TimeUnit.SECONDS)).get(0).message());
      }
      Thread.sleep(500); // the SSE readers reach the tail too (their first event is a ping)
      long encodedBefore = server.liveFrames().encoded();
      long reusedBefore = server.liveFrames().reused();
      appendBodies(b, "s", big, big);
      for (H2Client.Exchange ex : plain) {
        List<ReadBatch> live = liveBatches(frames(ex.awaitBody()), 0);
        assertEquals(1, live.size(), "one live batch");
        assertEquals(2, live.get(0).getRecordsCount());
        assertEquals(big, live.get(0).getRecords(1).getBody().toStringUtf8());
        assertEquals(3, live.get(0).getTail().getSeqNum());
      }
      for (H2Client.Exchange ex : zstd) {
        List<ReadBatch> live = liveBatches(frames(ex.awaitBody()), 1);
        assertEquals(1, live.size(), "one live batch");
        assertEquals(2, live.get(0).getRecordsCount());
        assertEquals(big, live.get(0).getRecords(0).getBody().toStringUtf8());
      }
      for (var f : sses) {
        List<Event> batches = events(f.get(30, java.util.concurrent.TimeUnit.SECONDS).text()).stream()
            .filter(e -> "batch".equals(e.event())).toList();
        assertEquals(1, batches.size(), batches.toString());
        assertEquals("2,2,", batches.get(0).id().substring(0, 4), "the event id is the session's own: last seq_num, count, bytes");
        assertEquals(2, JSON.readTree(batches.get(0).data()).path("records").size());
      }
      // One live batch, three wire forms (S2S plain, S2S zstd, SSE raw): three encodings for 55 sessions.
      assertEquals(3, server.liveFrames().encoded() - encodedBefore, "encodings of the one live batch");
      assertEquals(52, server.liveFrames().reused() - reusedBefore, "sessions that reused another's encoding");
    }
  }

  /** The batches with records among {@code fs} (heartbeats skipped), each checked to carry compression bits {@code cc}. */
  private static List<ReadBatch> liveBatches(List<Frame> fs, int cc) throws Exception {
    List<ReadBatch> out = new ArrayList<>();
    for (Frame f : fs) {
      assertFalse(f.terminal());
      ReadBatch rb = ReadBatch.parseFrom(f.message());
      if (rb.getRecordsCount() > 0) {
        assertEquals(cc, f.compression(), "compression of a live batch");
        out.add(rb);
      }
    }
    return out;
  }

  @Test
  void s2sReadErrorsBeforeTheStreamArePlainHttp() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.GET, "/v1/streams/s/records?seq_num=3", s2s(b), true);
    assertEquals(416, ex.awaitResponse().status().code());
    assertEquals(0, JSON.readTree(ex.awaitBody()).path("tail").path("seq_num").asLong());
    H2Client.Exchange missing = h2.open(HttpMethod.GET, "/v1/streams/missing/records?seq_num=0", s2s(b), true);
    assertEquals(404, missing.awaitResponse().status().code());
    assertEquals("stream_not_found", JSON.readTree(missing.awaitBody()).path("code").asText());
  }

  @Test
  void s2sReadCompressesLargeBatches() throws Exception {
    String b = withStream();
    String big = "z".repeat(4000);
    appendBodies(b, "s", big, big);
    for (String enc : List.of("zstd", "gzip")) {
      H2Client.Exchange ex = h2.open(HttpMethod.GET, "/v1/streams/s/records?seq_num=0&wait=0", s2s(b, "accept-encoding", enc), true);
      List<Frame> fs = frames(ex.awaitBody());
      assertEquals(enc.equals("zstd") ? 1 : 2, fs.get(0).compression(), enc);
      assertTrue(fs.get(0).body().length < 8000, "compressed");
      ReadBatch rb = ReadBatch.parseFrom(fs.get(0).message());
      assertEquals(2, rb.getRecordsCount());
      assertEquals(big, rb.getRecords(1).getBody().toStringUtf8());
    }
  }

  @Test
  void s2sReadAlsoWorksOverHttp1() throws Exception {
    String b = withStream();
    appendBodies(b, "s", "x");
    Resp r = read(b, "s", "seq_num=0&wait=0", "content-type", "s2s/proto");
    assertEquals(200, r.status(), r::text);
    List<Frame> fs = frames(r.body());
    assertEquals("x", ReadBatch.parseFrom(fs.get(0).message()).getRecords(0).getBody().toStringUtf8());
  }

  // ---------------------------------------------------------------- S2S append sessions

  private static List<AppendAck> acks(List<Frame> fs) throws Exception {
    List<AppendAck> out = new ArrayList<>();
    for (Frame f : fs) {
      if (!f.terminal()) {
        out.add(AppendAck.parseFrom(f.message()));
      }
    }
    return out;
  }

  @Test
  void case79_emptyAppendSession() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), true);
    assertEquals(200, ex.awaitResponse().status().code());
    assertEquals(0, ex.awaitBody().length);
    assertEquals(0, tail(b, "s").json().path("tail").path("seq_num").asLong());
  }

  @Test
  void case80_twoInputsThenClose() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    ex.send(frame(input("record 1", "record 2")));
    ex.send(frame(input("record 3", "record 4", "record 5")));
    ex.finish();
    assertEquals(200, ex.awaitResponse().status().code());
    List<AppendAck> acks = acks(frames(ex.awaitBody()));
    assertEquals(2, acks.size());
    assertEquals(0, acks.get(0).getStart().getSeqNum());
    assertEquals(2, acks.get(0).getEnd().getSeqNum());
    assertEquals(2, acks.get(1).getStart().getSeqNum());
    assertEquals(5, acks.get(1).getEnd().getSeqNum());
    assertEquals(5, tail(b, "s").json().path("tail").path("seq_num").asLong());
    assertEquals(List.of("record 1", "record 2", "record 3", "record 4", "record 5"), bodies(read(b, "s", "seq_num=0").json()));
  }

  @Test
  void case81_and84_conditionsThatHold() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    ex.send(frame(AppendInput.newBuilder().mergeFrom(input("a")).setMatchSeqNum(0).setFencingToken("").build().toByteArray()));
    ex.send(frame(AppendInput.newBuilder().mergeFrom(input("b")).setMatchSeqNum(1).setFencingToken("").build().toByteArray()));
    ex.finish();
    List<AppendAck> acks = acks(frames(ex.awaitBody()));
    assertEquals(List.of(0L, 1L), acks.stream().map(a -> a.getStart().getSeqNum()).toList());
  }

  @Test
  void case82_and83_firstFailureEndsTheSessionWithA412TerminalFrame() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    ex.send(frame(AppendInput.newBuilder().mergeFrom(input("first")).setMatchSeqNum(0).build().toByteArray()));
    ex.send(frame(AppendInput.newBuilder().mergeFrom(input("bad")).setMatchSeqNum(0).build().toByteArray()));
    ex.send(frame(AppendInput.newBuilder().mergeFrom(input("after-error")).setMatchSeqNum(1).build().toByteArray()));
    ex.finish();
    List<Frame> fs = frames(ex.awaitBody());
    assertEquals(2, fs.size());
    assertEquals(0, AppendAck.parseFrom(fs.get(0).message()).getStart().getSeqNum());
    assertTrue(fs.get(1).terminal());
    assertEquals(412, fs.get(1).status());
    assertEquals(1, fs.get(1).error().path("seq_num_mismatch").asLong());
    assertEquals(1, tail(b, "s").json().path("tail").path("seq_num").asLong());
    assertEquals(List.of("first"), bodies(read(b, "s", "seq_num=0").json()));
  }

  @Test
  void case85_largeInputs() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    String big = "y".repeat(100_000);
    for (int i = 0; i < 50; i++) {
      ex.send(frame(input(big)));
    }
    ex.finish();
    List<AppendAck> acks = acks(frames(ex.awaitBody()));
    assertEquals(50, acks.size());
    assertEquals(50, tail(b, "s").json().path("tail").path("seq_num").asLong());
  }

  @Test
  void case86_acksInOrderWithNonDecreasingTails() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      String body = String.format("msg-%02d", i);
      expected.add(body);
      ex.send(frame(input(body)));
    }
    ex.finish();
    List<AppendAck> acks = acks(frames(ex.awaitBody()));
    assertEquals(32, acks.size());
    long lastTail = 0;
    for (int i = 0; i < 32; i++) {
      AppendAck a = acks.get(i);
      assertEquals(i, a.getStart().getSeqNum());
      assertEquals(i + 1, a.getEnd().getSeqNum());
      assertTrue(a.getTail().getSeqNum() >= a.getEnd().getSeqNum());
      assertTrue(a.getTail().getSeqNum() >= lastTail);
      lastTail = a.getTail().getSeqNum();
    }
    assertEquals(32, tail(b, "s").json().path("tail").path("seq_num").asLong());
    assertEquals(expected, bodies(read(b, "s", "seq_num=0").json()));
  }

  @Test
  void appendSessionFramesMayBeSplitAndCompressed() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    byte[] whole = frame(input("split"));
    ex.send(java.util.Arrays.copyOfRange(whole, 0, 2));
    ex.send(java.util.Arrays.copyOfRange(whole, 2, whole.length));
    byte[] msg = input("z".repeat(3000));
    byte[] compressed = Zstd.compress(msg);
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    int len = compressed.length + 1;
    f.write(len >>> 16);
    f.write(len >>> 8);
    f.write(len);
    f.write(0x20);
    f.writeBytes(compressed);
    ex.send(f.toByteArray());
    ex.finish();
    List<AppendAck> acks = acks(frames(ex.awaitBody()));
    assertEquals(2, acks.size());
    assertEquals("split", bodies(read(b, "s", "seq_num=0").json()).get(0));
    assertEquals(3000, bodies(read(b, "s", "seq_num=1").json()).get(0).length());
  }

  @Test
  void appendSessionBadFrameAndInvalidInput() throws Exception {
    String b = withStream();
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    ex.send(frame(input("ok")));
    ex.send(frame(new byte[] {(byte) 0xff, (byte) 0xff}));
    ex.finish();
    List<Frame> fs = frames(ex.awaitBody());
    assertEquals(2, fs.size());
    assertEquals(1, acks(fs).size());
    assertEquals(400, fs.get(1).status());
    assertEquals("bad_frame", fs.get(1).error().path("code").asText());

    H2Client.Exchange empty = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(b), false);
    empty.send(frame(AppendInput.newBuilder().build().toByteArray()));
    empty.finish();
    List<Frame> ef = frames(empty.awaitBody());
    assertEquals(1, ef.size());
    assertEquals(422, ef.get(0).status());
    assertEquals("invalid", ef.get(0).error().path("code").asText());
    assertEquals(1, tail(b, "s").json().path("tail").path("seq_num").asLong());
  }

  @Test
  void appendSessionToAMissingBasinIsAPlain404() throws Exception {
    H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/s/records", s2s(freshBasin()), false);
    ex.send(frame(input("x")));
    ex.finish();
    assertEquals(404, ex.awaitResponse().status().code());
    assertEquals("basin_not_found", JSON.readTree(ex.awaitBody()).path("code").asText());
  }

  @Test
  void unaryCallsAlsoWorkOverH2c() throws Exception {
    String b = freshBasin();
    H2Client.Exchange create = h2.open(HttpMethod.PUT, "/v1/basins/" + b, Map.of(), true);
    assertEquals(201, create.awaitResponse().status().code());
    assertEquals("created", create.awaitResponse().headers().get("s2-provision-result"));
    assertEquals(b, JSON.readTree(create.awaitBody()).path("name").asText());
    H2Client.Exchange stream = h2.open(HttpMethod.PUT, "/v1/streams/s", Map.of("s2-basin", b), true);
    assertEquals(201, stream.awaitResponse().status().code());
    H2Client.Exchange append = h2.open(HttpMethod.POST, "/v1/streams/s/records",
        Map.of("s2-basin", b, "content-type", "application/json"), false);
    append.send("{\"records\":[{\"body\":\"over h2\"}]}".getBytes(StandardCharsets.UTF_8));
    append.finish();
    assertEquals(200, append.awaitResponse().status().code());
    assertEquals(1, JSON.readTree(append.awaitBody()).path("end").path("seq_num").asLong());
    H2Client.Exchange read = h2.open(HttpMethod.GET, "/v1/streams/s/records?seq_num=0", Map.of("s2-basin", b), true);
    assertEquals(List.of("over h2"), bodies(JSON.readTree(read.awaitBody())));
    H2Client.Exchange missing = h2.open(HttpMethod.GET, "/v1/streams/s/records/tail", Map.of(), true);
    assertEquals(400, missing.awaitResponse().status().code());
    assertEquals("bad_header", JSON.readTree(missing.awaitBody()).path("code").asText());
  }
}
