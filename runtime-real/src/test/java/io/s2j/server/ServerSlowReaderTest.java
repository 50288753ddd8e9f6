package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A read session whose client stops reading is bounded (STYLE rule 10): once more than the
 * configured bytes are queued unsent, the session ends with an {@code unavailable} error event
 * instead of buffering the whole catch-up in memory.
 */
class ServerSlowReaderTest {
  @Test
  void aClientThatDoesNotReadGetsItsSessionEndedWithUnavailable() throws Exception {
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withReadSessionUnsentBytesMax(1 << 20);
    try (Server server = Server.start(config)) {
      String base = "http://127.0.0.1:" + server.port();
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      http.send(HttpRequest.newBuilder(URI.create(base + "/v1/basins/slow-reader")).PUT(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.discarding());
      http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s")).header("s2-basin", "slow-reader")
          .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
      String record = "{\"records\":[{\"body\":\"" + "r".repeat(1_000_000) + "\"}]}";
      int batches = 24;
      for (int i = 0; i < batches; i++) {
        HttpResponse<String> ack = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records"))
            .header("s2-basin", "slow-reader").header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(record)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ack.statusCode(), ack.body());
      }

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
        // The response ends with the terminal chunk; read until it or until the server closes.
        while (true) {
          int n = in.read(buf);
          if (n < 0) {
            break;
          }
          total += n;
          // keep only the event framing, not the megabytes of record bodies
          String s = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
          text.append(s.replaceAll("r{16,}", ""));
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
