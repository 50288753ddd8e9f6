package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.runtime.real.LocalDirObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The switch to durable metadata ({@code Server.Metadata.onObjectStore}, the one line in
 * {@link Server#start(ServerConfig, io.s2j.runtime.real.SharedObjectStore)}) works: a server
 * restarted on the same directory still has its basins, streams and records.
 */
class ServerRestartTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void withDurableMetadataARestartedServerKeepsBasinsStreamsAndRecords(@TempDir Path dir) throws Exception {
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withStorage(new ServerConfig.Storage.LocalDir(dir));
    try (Server first = start(config, dir)) {
      String base = "http://127.0.0.1:" + first.port();
      assertEquals(201, send(HttpRequest.newBuilder(URI.create(base + "/v1/basins/restart-basin"))
          .header("content-type", "application/json").PUT(HttpRequest.BodyPublishers.ofString("{\"config\":{\"create_stream_on_read\":true}}"))).statusCode());
      assertEquals(201, send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s")).header("s2-basin", "restart-basin")
          .PUT(HttpRequest.BodyPublishers.noBody())).statusCode());
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> ack = send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records")).header("s2-basin", "restart-basin")
            .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"records\":[{\"body\":\"kept-" + i + "\"}]}")));
        assertEquals(200, ack.statusCode(), ack.body());
      }
    }
    try (Server second = start(config, dir)) {
      String base = "http://127.0.0.1:" + second.port();
      HttpResponse<String> basin = send(HttpRequest.newBuilder(URI.create(base + "/v1/basins/restart-basin")).GET());
      assertEquals(200, basin.statusCode(), basin.body());
      assertTrue(basin.body().contains("\"create_stream_on_read\":true"), basin.body());
      HttpResponse<String> tail = send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records/tail")).header("s2-basin", "restart-basin").GET());
      assertEquals(200, tail.statusCode(), tail.body());
      assertTrue(tail.body().contains("\"seq_num\":3"), tail.body());
      HttpResponse<String> read = send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records?seq_num=0")).header("s2-basin", "restart-basin").GET());
      assertTrue(read.body().contains("kept-0") && read.body().contains("kept-2"), read.body());
      assertTrue(second.firstTaskFailure().isEmpty());
    }
  }

  private static Server start(ServerConfig config, Path dir) throws Exception {
    LocalDirObjectStore store = new LocalDirObjectStore(dir);
    return Server.start(config, store, Server.Metadata.onObjectStore(store));
  }

  private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
