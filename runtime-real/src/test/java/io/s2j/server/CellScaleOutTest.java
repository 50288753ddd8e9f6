package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.real.EtcdMetadataStore;
import io.s2j.runtime.real.EtcdProcess;
import io.s2j.runtime.real.InMemoryObjectStore;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scale-out of a running distributed cell without restarting anyone: role processes (in this JVM,
 * each on its own Netty network and etcd lease, as {@code --role …} runs them; one in-memory bucket)
 * start as one channel, a cop and a frontend; then a second channel and a cachey node register. The
 * frontend's and the cop's views of the cell follow the registry, the cop activates new streams on
 * the new channel, and the frontend appends to and reads from them there.
 */
class CellScaleOutTest extends ServerFixture {
  private static EtcdProcess etcd;
  private static final List<RoleProcess> processes = new ArrayList<>();
  private static final InMemoryObjectStore bucket = new InMemoryObjectStore();
  private static String cell;

  /** Runs after ServerFixture's @BeforeAll: replaces its in-memory server with nothing (the frontend comes later). */
  @BeforeAll
  static void startEtcd() throws Exception {
    if (server != null) {
      server.close();
      server = null;
    }
    etcd = EtcdProcess.startOrSkip();
    cell = "scale-" + UUID.randomUUID().toString().substring(0, 8);
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterAll
  static void stopAll() {
    server = null; // owned by the frontend process
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  private static RoleProcess start(RoleProcess.Role role, String node) throws Exception {
    RoleProcess.Options o = new RoleProcess.Options(role, List.of(etcd.clientUrl()), node, "zone-a",
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, cell, null, false, null, 1, 2, 2_000, 5_000);
    RoleProcess p = RoleProcess.start(o, ServerConfig.inMemory(0).withHost("127.0.0.1"), bucket);
    processes.add(p);
    return p;
  }

  /** Every stream's links in the cell's metadata: channel id → links that start a stream (start seq num 0) there. */
  private static Map<String, Integer> firstLinksByChannel() throws Exception {
    ByteString prefix = MetaKey.allStreamletsPrefix();
    Map<String, Integer> out = new TreeMap<>();
    try (EtcdMetadataStore meta = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(List.of(etcd.clientUrl()),
        ByteString.copyFromUtf8("/s2j/" + cell + "/meta/")))) {
      ScanPage page = meta.scan(prefix, MetadataStore.prefixEnd(prefix), MetadataStore.SCAN_LIMIT_MAX).get(10, TimeUnit.SECONDS);
      assertFalse(page.more(), "more links than one page");
      for (KeyValue kv : page.entries()) {
        StreamletMeta m = StreamletMeta.parseFrom(kv.value());
        if (m.getStartSeqNum() == 0) {
          out.merge(m.getChannelId(), 1, Integer::sum);
        }
      }
    }
    return out;
  }

  private static void await(String what, long timeoutMs, Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (!condition.get()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** Appends one record to a new stream and reads it back through the frontend. */
  private static void appendAndReadBack(String basin, String stream, String body) {
    JsonNode ack = appendBodies(basin, stream, body);
    assertEquals(0, ack.path("start").path("seq_num").asLong(), ack::toString);
    Resp r = read(basin, stream, "seq_num=0").assertStatus(200);
    assertEquals(List.of(body), bodies(r.json()), r::text);
  }

  @Test
  void aChannelAndACacheyNodeJoinARunningCellAndAreUsedWithoutRestarts() throws Exception {
    RoleProcess ch1 = start(RoleProcess.Role.CHANNEL, "ch-1");
    RoleProcess cop = start(RoleProcess.Role.COP, "cop-1");
    RoleProcess fe = start(RoleProcess.Role.FRONTEND, "fe-1");
    server = fe.server().orElseThrow();

    CellViews.Seen before = fe.seen().orElseThrow();
    assertEquals(List.of("ch-1"), before.directory().channelIds());
    assertTrue(before.ring().isEmpty(), before.ring()::toString);
    assertEquals(List.of(NodeId.of("cop-1")), before.cops());

    String basin = basin("{\"create_stream_on_append\":true}");
    for (int i = 0; i < 4; i++) {
      appendAndReadBack(basin, "before-" + i, "b" + i);
    }
    assertEquals(Map.of("ch-1", 4), firstLinksByChannel());

    // Scale out: a second channel and a cachey node register while everything runs.
    RoleProcess ch2 = start(RoleProcess.Role.CHANNEL, "ch-2");
    start(RoleProcess.Role.CACHEY, "cachey-1");

    await("the frontend and the cop to list ch-2 and the frontend's ring to hold cachey-1", 10_000, () -> {
      CellViews.Seen f = fe.seen().orElseThrow();
      CellViews.Seen c = cop.seen().orElseThrow();
      return f.directory().has("ch-2") && c.directory().has("ch-2") && !f.ring().isEmpty();
    });
    CellViews.Seen after = fe.seen().orElseThrow();
    assertEquals(List.of("ch-1", "ch-2"), after.directory().channelIds());
    assertEquals(List.of(NodeId.of("ch-2")), after.directory().hostsOf("ch-2"));
    assertEquals(List.of(NodeId.of("cachey-1")), after.ring().preference("some/object", "zone-a"));
    assertTrue(after.directoryVersion() >= 1 && after.ringVersion() >= 1, after::toString);

    // New streams: the cop puts them on the idle new channel (power of two choices on load) once it
    // has seen it serving; the frontend appends to them there and reads them back.
    int n = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (firstLinksByChannel().getOrDefault("ch-2", 0) < 4) {
      assertTrue(System.nanoTime() < deadline, () -> "no streams on ch-2 after 20 s: " + uncheckedLinks());
      appendAndReadBack(basin, "after-" + n, "a" + n);
      n++;
    }
    Map<String, Integer> links = firstLinksByChannel();
    assertEquals(4 + n, links.values().stream().mapToInt(Integer::intValue).sum(), links::toString);
    assertTrue(links.get("ch-2") >= 4, links::toString);
    System.out.printf("[scale-out] %d new streams after ch-2 joined; first links by channel: %s%n", n, links);

    // Every stream, old and new, still takes appends and reads through the same frontend.
    for (int i = 0; i < 4; i++) {
      JsonNode ack = appendBodies(basin, "before-" + i, "more");
      assertEquals(1, ack.path("start").path("seq_num").asLong(), ack::toString);
    }
    for (int i = 0; i < n; i++) {
      JsonNode ack = appendBodies(basin, "after-" + i, "more");
      assertEquals(1, ack.path("start").path("seq_num").asLong(), ack::toString);
      assertEquals(List.of("a" + i, "more"), bodies(read(basin, "after-" + i, "seq_num=0").assertStatus(200).json()));
    }

    // Nobody was restarted or stopped.
    for (RoleProcess p : List.of(ch1, cop, fe, ch2)) {
      assertFalse(p.fatal().isDone(), () -> p.options().node() + ": " + p.fatal().getNow(""));
    }
    assertTrue(server.firstTaskFailure().isEmpty(), () -> "a task threw: " + server.firstTaskFailure());
  }

  private static String uncheckedLinks() {
    try {
      return firstLinksByChannel().toString();
    } catch (Exception e) {
      return e.toString();
    }
  }
}
