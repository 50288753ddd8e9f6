package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.real.LocalDirObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line (flags over environment variables) and the local-directory storage mode. */
class ServerMainTest {

  @Test
  void defaultsAreInMemoryOn8080() {
    ServerConfig c = ServerMain.parse(new String[0], Map.of());
    assertEquals(8080, c.port());
    assertEquals("0.0.0.0", c.host());
    assertTrue(c.storage() instanceof ServerConfig.Storage.Memory);
    assertEquals(2, c.channels());
    assertNull(c.flushIntervalMs());
    assertEquals(0, c.streamCacheMs());
  }

  @Test
  void withoutARoleTheWholeCellRunsInOneProcessAsBefore() {
    java.util.List<String> rest = new java.util.ArrayList<>();
    RoleProcess.Options o = ServerMain.parseRole(new String[] {"--port", "9000", "--channels", "3"}, Map.of(), rest);
    assertEquals(RoleProcess.Role.ALL, o.role());
    assertTrue(o.etcd().isEmpty());
    assertEquals(java.util.List.of("--port", "9000", "--channels", "3"), rest, "the other flags are left for parse");
  }

  @Test
  void roleFlagsAreParsedAndTheRestLeftForTheServerConfig() {
    java.util.List<String> rest = new java.util.ArrayList<>();
    RoleProcess.Options o = ServerMain.parseRole(new String[] {"--role", "channel", "--etcd", "http://a:2379,http://b:2379",
        "--node", "sp-1", "--zone", "use1-az1", "--listen", "127.0.0.1:7000", "--spare", "--bucket", "b", "--endpoint",
        "http://s3:9000", "--cop-lease-ms", "3000"}, Map.of("S2J_CELL", "ignored"), rest);
    assertEquals(RoleProcess.Role.CHANNEL, o.role());
    assertEquals(java.util.List.of(URI.create("http://a:2379"), URI.create("http://b:2379")), o.etcd());
    assertEquals("sp-1", o.node());
    assertEquals("use1-az1", o.zone());
    assertEquals(7000, o.listen().getPort());
    assertTrue(o.spare());
    assertEquals(URI.create("http://s3:9000"), o.endpoint());
    assertEquals(3000, o.copLeaseMs());
    assertEquals("s2j", o.cell());
    assertEquals(java.util.List.of("--bucket", "b"), rest);
    RoleProcess.Options fromEnv = ServerMain.parseRole(new String[0],
        Map.of("S2J_ROLE", "frontend", "S2J_ETCD", "http://e:2379", "S2J_NODE", "fe-1"), new java.util.ArrayList<>());
    assertEquals(RoleProcess.Role.FRONTEND, fromEnv.role());
    assertEquals("local", fromEnv.zone());
  }

  @Test
  void aRoleNeedsEtcdAndANode() {
    assertThrows(IllegalArgumentException.class,
        () -> ServerMain.parseRole(new String[] {"--role", "cop", "--node", "cop-1"}, Map.of(), new java.util.ArrayList<>()));
    assertThrows(IllegalArgumentException.class,
        () -> ServerMain.parseRole(new String[] {"--role", "cop", "--etcd", "http://e:2379"}, Map.of(), new java.util.ArrayList<>()));
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parseRole(new String[] {"--role", "cachey", "--etcd", "http://e:2379",
        "--node", "c", "--spare"}, Map.of(), new java.util.ArrayList<>()));
    assertThrows(IllegalArgumentException.class,
        () -> ServerMain.parseRole(new String[] {"--role", "router"}, Map.of(), new java.util.ArrayList<>()));
  }

  @Test
  void flagsOverrideEnvironment() {
    ServerConfig c = ServerMain.parse(new String[] {"--port", "9000", "--flush-interval-ms", "7"},
        Map.of("S2J_PORT", "1234", "S2J_BUCKET", "my-bucket", "S2J_PATH", "p/", "S2J_CHANNELS", "3"));
    assertEquals(9000, c.port());
    assertEquals(new ServerConfig.Storage.S3("my-bucket", "p/"), c.storage());
    assertEquals(3, c.channels());
    assertEquals(7L, c.flushIntervalMs());
    assertEquals(Path.of("/tmp/x"), ((ServerConfig.Storage.LocalDir) ServerMain.parse(
        new String[] {"--local-root", "/tmp/x"}, Map.of()).storage()).root());
  }

  @Test
  void badCommandLinesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parse(new String[] {"--local-root", "a", "--bucket", "b"}, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parse(new String[] {"--port", "x"}, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parse(new String[] {"--nope", "1"}, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parse(new String[] {"--path", "p"}, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> ServerMain.parse(new String[] {"--port"}, Map.of()));
    assertNull(ServerMain.parse(new String[] {"--help"}, Map.of()));
  }

  @Test
  void localDirectoryStorageHoldsTheWal(@TempDir Path dir) throws Exception {
    ServerConfig config = ServerMain.parse(new String[] {"--port", "0", "--host", "127.0.0.1", "--local-root", dir.toString(),
        "--channels", "1", "--flush-interval-ms", "2"}, Map.of());
    try (Server server = Server.start(config)) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String base = "http://127.0.0.1:" + server.port();
      assertEquals(201, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/basins/local-basin")).PUT(HttpRequest.BodyPublishers.noBody())
          .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(201, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s")).header("s2-basin", "local-basin")
          .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      HttpResponse<String> ack = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records"))
          .header("s2-basin", "local-basin").header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"records\":[{\"body\":\"on disk\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ack.statusCode(), ack.body());
      HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/streams/s/records?seq_num=0"))
          .header("s2-basin", "local-basin").GET().build(), HttpResponse.BodyHandlers.ofString());
      assertTrue(read.body().contains("on disk"), read.body());
    }
    // The channel's chunks are objects in the directory (a fresh store over it lists them).
    try (LocalDirObjectStore store = new LocalDirObjectStore(dir)) {
      ListPage page = store.list("wal/ch-1/", null, 100).get(10, TimeUnit.SECONDS);
      assertFalse(page.objects().isEmpty(), "no chunk under wal/ch-1/");
    }
  }
}
