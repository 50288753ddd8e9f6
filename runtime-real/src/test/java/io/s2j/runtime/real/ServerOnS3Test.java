package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.server.Server;
import io.s2j.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The server in S3 mode (the {@code --bucket} path), against s3proxy: appends are acknowledged
 * once their chunks are in the bucket, and read back.
 */
class ServerOnS3Test {
  static final String BUCKET = "s2j-server";

  @Test
  void appendsLandInTheBucketAndReadBack() throws Exception {
    try (S3ProxyProcess proxy = S3ProxyProcess.start("filesystem");
        S3AsyncClient admin = S3AsyncClient.builder().endpointOverride(proxy.endpoint()).region(Region.US_EAST_1)
            .credentialsProvider(S3ObjectStoreContractTest.credentials()).forcePathStyle(true).build()) {
      admin.createBucket(b -> b.bucket(BUCKET)).join();
      S3ObjectStore store = new S3ObjectStore(new S3ObjectStore.Settings(BUCKET, "cell/", Optional.of(proxy.endpoint()),
          Region.US_EAST_1, S3ObjectStoreContractTest.credentials(), true, Duration.ofSeconds(30), Duration.ofSeconds(5)));
      ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withStorage(new ServerConfig.Storage.S3(BUCKET, "cell/"));
      try (Server server = Server.start(config, store)) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String base = "http://127.0.0.1:" + server.port();
        assertEquals(201, send(http, HttpRequest.newBuilder(URI.create(base + "/v1/basins/s3-basin-1"))
            .PUT(HttpRequest.BodyPublishers.noBody())).statusCode());
        assertEquals(201, send(http, HttpRequest.newBuilder(URI.create(base + "/v1/streams/s")).header("s2-basin", "s3-basin-1")
            .PUT(HttpRequest.BodyPublishers.noBody())).statusCode());
        for (int i = 0; i < 3; i++) {
          HttpResponse<String> ack = send(http, HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records"))
              .header("s2-basin", "s3-basin-1").header("content-type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"records\":[{\"body\":\"on s3 " + i + "\"}]}")));
          assertEquals(200, ack.statusCode(), ack.body());
        }
        HttpResponse<String> read = send(http, HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records?seq_num=0"))
            .header("s2-basin", "s3-basin-1").GET());
        assertTrue(read.body().contains("on s3 0") && read.body().contains("on s3 2"), read.body());
        assertTrue(server.knobs().flushIntervalMs() == io.s2j.channel.ChannelKnobs.STANDARD.flushIntervalMs(), "S3 knobs");
      }
      var listed = admin.listObjectsV2(b -> b.bucket(BUCKET).prefix("cell/wal/")).join();
      assertTrue(listed.keyCount() > 0, "chunks under cell/wal/ in the bucket");
    }
  }

  private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder b) throws Exception {
    return http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
