package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpMethod;
import io.s2j.runtime.Promise;
import io.s2j.wire.proto.ReadBatch;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Read sessions and clients slower than the stream (STYLE rule 10): a slow reader is slowed down by
 * back-pressure (the session pauses while the connection or HTTP/2 stream is not writable) and gets
 * every record in order, where without it the same reader would exceed the unsent-bytes bound and
 * be cut; a client that does not read at all stays within that bound, and the bound still ends a
 * session whose single step is larger than it.
 */
class ServerSlowReaderTest {
  /**
   * 240 records of 200,000 bytes (48 MB), twice the 24 MiB unsent bound the slow readers run under
   * (back-pressure keeps a session within about two 5 MB catch-up steps of what the client took).
   */
  static final int RECORDS = 240;
  static final int RECORD_BYTES = 200_000;
  static final long UNSENT_MAX_BYTES = 24L << 20;

  private static void appendRecords(String base, String basin, int records, int recordBytes, int perBatch) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    http.send(HttpRequest.newBuilder(URI.create(base + "/v1/basins/" + basin)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.discarding());
    http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s")).header("s2-basin", basin)
        .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    for (int i = 0; i < records; i += perBatch) {
      StringBuilder json = new StringBuilder("{\"records\":[");
      for (int j = i; j < i + perBatch; j++) {
        json.append(j == i ? "" : ",").append("{\"body\":\"").append(String.format("%06d", j))
            .append("r".repeat(recordBytes - 6)).append("\"}");
      }
      json.append("]}");
      HttpResponse<String> ack = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records"))
          .header("s2-basin", basin).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(json.toString())).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ack.statusCode(), ack.body());
    }
  }

  private static long pauses(Server server) throws Exception {
    return server.frontend().call(f -> Promise.completed(f.env().scheduler(), f.data().readSessionPauses())).get(10, TimeUnit.SECONDS);
  }

  private static List<Long> expectedSeqNums() {
    List<Long> out = new ArrayList<>();
    for (long i = 0; i < RECORDS; i++) {
      out.add(i);
    }
    return out;
  }

  @Test
  void aSlowSseReaderOverHttp1GetsEveryRecordInOrderWithoutBeingCut() throws Exception {
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withReadSessionUnsentBytesMax(UNSENT_MAX_BYTES);
    try (Server server = Server.start(config)) {
      appendRecords("http://127.0.0.1:" + server.port(), "slow-sse", RECORDS, RECORD_BYTES, 5);
      try (Socket socket = new Socket()) {
        socket.setReceiveBufferSize(16 * 1024);
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
        OutputStream out = socket.getOutputStream();
        out.write(("GET /v1/streams/s/records?seq_num=0&wait=0 HTTP/1.1\r\nhost: 127.0.0.1\r\ns2-basin: slow-sse\r\n"
            + "accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(1_000); // not reading yet: the server must stop short of queueing everything
        socket.setSoTimeout(30_000);
        InputStream in = socket.getInputStream();
        StringBuilder text = new StringBuilder();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        long reads = 0;
        while (true) {
          int n = in.read(buf);
          if (n < 0) {
            break;
          }
          total += n;
          text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1).replaceAll("r{16,}", ""));
          if (text.indexOf("\r\n0\r\n\r\n") >= 0) {
            break;
          }
          if (++reads % 8 == 0) {
            Thread.sleep(5); // slower than the server can send (at most ~100 MB/s)
          }
        }
        String framing = text.toString();
        assertFalse(framing.contains("event: error"), framing.length() > 2000 ? framing.substring(framing.length() - 2000) : framing);
        assertTrue(framing.contains("[DONE]"), "a normal end");
        List<Long> seqNums = new ArrayList<>();
        Matcher m = Pattern.compile("\"seq_num\":(\\d+)").matcher(framing);
        while (m.find()) {
          seqNums.add(Long.parseLong(m.group(1)));
        }
        List<Long> bodies = new ArrayList<>();
        Matcher b = Pattern.compile("\"body\":\"(\\d{6})").matcher(framing);
        while (b.find()) {
          bodies.add(Long.parseLong(b.group(1)));
        }
        assertEquals(expectedSeqNums(), seqNums, "every record once, in order");
        assertEquals(expectedSeqNums(), bodies, "each record's own body");
        assertTrue(total > (long) RECORDS * RECORD_BYTES, "every byte arrived: " + total);
      }
      assertTrue(pauses(server) > 0, "the session was paused by back-pressure");
      assertFalse(server.firstTaskFailure().isPresent());
    }
  }

  @Test
  void aSlowS2sReaderOverH2cGetsEveryRecordInOrderWithoutBeingCut() throws Exception {
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withReadSessionUnsentBytesMax(UNSENT_MAX_BYTES);
    try (Server server = Server.start(config); H2Client h2 = new H2Client(server.port())) {
      appendRecords("http://127.0.0.1:" + server.port(), "slow-s2s", RECORDS, RECORD_BYTES, 5);
      H2Client.Exchange ex = h2.open(HttpMethod.GET, "/v1/streams/s/records?seq_num=0&wait=0",
          ServerSessionsTest.s2s("slow-s2s"), true, false);
      Thread.sleep(1_000); // not reading yet: the stream's flow-control window runs out
      long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!ex.body.isDone() && System.nanoTime() < deadlineNs) {
        ex.stream.read(); // returns the window for what it delivers
        Thread.sleep(2);
      }
      assertEquals(200, ex.awaitResponse().status().code());
      List<ServerSessionsTest.Frame> frames = ServerSessionsTest.frames(ex.awaitBody());
      List<Long> seqNums = new ArrayList<>();
      List<Long> bodies = new ArrayList<>();
      for (ServerSessionsTest.Frame f : frames) {
        assertFalse(f.terminal(), () -> "no terminal frame (error): " + new String(f.body(), StandardCharsets.UTF_8));
        ReadBatch batch = ReadBatch.parseFrom(f.message());
        for (var r : batch.getRecordsList()) {
          seqNums.add(r.getSeqNum());
          bodies.add(Long.parseLong(r.getBody().substring(0, 6).toStringUtf8()));
          assertEquals(RECORD_BYTES, r.getBody().size());
        }
      }
      assertEquals(expectedSeqNums(), seqNums, "every record once, in order");
      assertEquals(expectedSeqNums(), bodies, "each record's own body");
      assertTrue(pauses(server) > 0, "the session was paused by back-pressure");
      assertFalse(server.firstTaskFailure().isPresent());
    }
  }

  /**
   * The unsent-bytes bound is the last resort: with the smallest knob (1 MiB), a client that never
   * reads gets its session ended with {@code unavailable} once one catch-up step (five 1 MB
   * records) exceeds it, instead of the server buffering the whole stream.
   */
  @Test
  void aClientThatDoesNotReadGetsItsSessionEndedWithUnavailableWhenAStepExceedsTheBound() throws Exception {
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withReadSessionUnsentBytesMax(1 << 20);
    try (Server server = Server.start(config)) {
      int batches = 24;
      appendRecords("http://127.0.0.1:" + server.port(), "slow-reader", batches, 1_000_000, 1);
      try (Socket socket = new Socket()) {
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
        OutputStream out = socket.getOutputStream();
        out.write(("GET /v1/streams/s/records?seq_num=0&wait=0 HTTP/1.1\r\nhost: 127.0.0.1\r\ns2-basin: slow-reader\r\n"
            + "accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(2_000); // not reading: the server's writes queue up
        socket.setSoTimeout(30_000);
        InputStream in = socket.getInputStream();
        StringBuilder text = new StringBuilder();
        byte[] buf = new byte[1 << 16];
        long total = 0;
        while (true) {
          int n = in.read(buf);
          if (n < 0) {
            break;
          }
          total += n;
          text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1).replaceAll("r{16,}", ""));
          if (text.indexOf("\r\n0\r\n\r\n") >= 0) {
            break;
          }
        }
        String framing = text.toString();
        assertTrue(framing.contains("event: error"), "the session ended with an error event");
        assertTrue(framing.contains("\"code\":\"unavailable\""), framing.length() > 2000 ? framing.substring(framing.length() - 2000) : framing);
        assertFalse(framing.contains("[DONE]"), "not a normal end");
        assertTrue(total < batches * 1_000_000L, "not every batch was sent: " + total + " bytes");
      }
      assertFalse(server.firstTaskFailure().isPresent());
    }
  }
}
