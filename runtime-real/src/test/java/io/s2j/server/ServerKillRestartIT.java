package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.HttpMethod;
import io.s2j.runtime.real.S3ProxyProcess;
import io.s2j.wire.proto.AppendAck;
import io.s2j.wire.proto.AppendInput;
import io.s2j.wire.proto.AppendRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} in the middle of work, restart on the same storage, and check that nothing
 * acknowledged was lost or duplicated: the real {@code s2j-server.jar} as a child process
 * ({@link ServerProcess}), on {@code --local-root} and on {@code --bucket} (s3proxy, configured
 * only through the AWS environment variables).
 *
 * <p>Each round starts the server on the same storage, verifies everything acknowledged in every
 * earlier round, then runs concurrently: three threads of unary JSON appends (stream
 * {@code unary}), an S2S append session pipelining one-record inputs over h2c ({@code session}),
 * a writer that appends under a fencing token, fences with new tokens and trims ({@code fenced}),
 * and a control thread reconfiguring a stream's retention and creating streams. At a random moment
 * the server gets SIGKILL. Checks after each restart, per stream: the records are contiguous from
 * 0 to the tail; every acknowledged batch is at exactly the positions its ack gave, with its
 * records; every record read was sent by the test and no data record or fence token appears twice
 * (an unacknowledged batch may be there or not, but once); what an earlier verification saw is
 * unchanged (no record appears or vanishes below an observed tail); the tail seen by check-tail and
 * by a failing {@code match_seq_num} probe agree; the fencing token (from a failing
 * {@code fencing_token} probe) is the last fence record's; stream configs are the last acknowledged
 * (or a later unacknowledged) value; acknowledged stream creations exist.
 *
 * <p>Before a restart, at random, a server is also started and killed 0.2–1.7 s later, while it
 * recovers or just after (the log says which). After the first round, one round in four kills
 * within 100 ms of the workload starting. Last, a forged acknowledgement must make the final
 * verification fail (the checks can fail).
 *
 * <p>Rounds: {@code -Ds2j.killRounds=N} (default 3) and {@code -Ds2j.killRoundsS3=N} (default 2);
 * the moments of the kills come from {@code -Ds2j.killSeed} (printed).
 */
class ServerKillRestartIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ROUNDS = Integer.getInteger("s2j.killRounds", 3);
  private static final int ROUNDS_S3 = Integer.getInteger("s2j.killRoundsS3", 2);
  private static final String BASIN = "durable-basin";
  private static final List<String> STREAMS = List.of("unary", "session", "fenced");

  @Test
  void killNineOnLocalRootLosesNothingAcknowledged(@TempDir Path root) throws Exception {
    run("local-root", ROUNDS, List.of("--local-root", root.toString()), Map.of());
  }

  @Test
  void killNineOnS3BucketLosesNothingAcknowledged() throws Exception {
    try (S3ProxyProcess proxy = S3ProxyProcess.start("filesystem")) {
      proxy.createBucket("s2j-kill");
      run("bucket", ROUNDS_S3, List.of("--bucket", "s2j-kill", "--path", "cell/"), proxy.awsEnvironment());
    }
  }

  // ---- the model of what was acknowledged ----

  /** A record as a comparable key: a data body, {@code fence:TOKEN} or {@code trim:N}. */
  record Batch(long start, long end, List<String> keys) {}

  static final class StreamModel {
    final List<Batch> acked = Collections.synchronizedList(new ArrayList<>());
    final Set<String> sent = ConcurrentHashMap.newKeySet();
    /**
     * The records an earlier verification read or knew (acknowledged) at each position, null where
     * trimmed and unknown: they never change.
     */
    List<String> verified = List.of();
    /** The trimmed prefix an earlier verification found: it never shrinks. */
    int trimmed;
  }

  static final class Model {
    final Map<String, StreamModel> streams = new TreeMap<>();
    /** The fencing token of {@code fenced} as last verified. */
    volatile String token = "";
    /** Retention ages of {@code cfg}: the last acknowledged, and any attempted after it without an answer. */
    volatile long cfgAcked = -1;
    final Set<Long> cfgUnknown = ConcurrentHashMap.newKeySet();
    final Set<String> createdAcked = ConcurrentHashMap.newKeySet();
    long recordsChecked;
    long batchesChecked;

    Model() {
      for (String s : STREAMS) {
        streams.put(s, new StreamModel());
      }
    }
  }

  private void run(String what, int rounds, List<String> storageArgs, Map<String, String> env) throws Exception {
    long seed = Long.getLong("s2j.killSeed", System.nanoTime());
    System.out.println("[kill-9 " + what + "] seed " + seed + " (-Ds2j.killSeed), rounds " + rounds);
    Random rnd = new Random(seed);
    Path log = Files.createDirectories(Path.of("target", "kill-restart")).resolve(what + "-" + seed + ".log");
    int port = ServerProcess.freePort();
    Model model = new Model();
    int recoveryKills = 0;
    for (int round = 0; round <= rounds; round++) {
      if (round > 0 && rnd.nextBoolean()) {
        // A kill during recovery: the server replays the metadata log and the channels' WALs and
        // takes them over (writing a take-over entry and new epochs) when it dies.
        long after = 200 + rnd.nextInt(1500);
        boolean serving = ServerProcess.startAndKill(port, storageArgs, env, log, after);
        recoveryKills++;
        System.out.printf("[kill-9 %s] killed a restarting server after %d ms (%s)%n", what, after,
            serving ? "it was already serving" : "still recovering");
      }
      try (ServerProcess server = ServerProcess.start(port, storageArgs, env, log)) {
        Api api = new Api(server.base());
        if (round == 0) {
          setUp(api);
        } else {
          verify(api, model, what + " after kill " + round);
        }
        if (round == rounds) {
          long batches = model.streams.values().stream().mapToLong(m -> m.acked.size()).sum();
          long records = model.streams.values().stream().flatMap(m -> m.acked.stream()).mapToLong(b -> b.end() - b.start()).sum();
          System.out.printf("[kill-9 %s] %d rounds of kill -9 (and %d kills during recovery): %d acknowledged batches (%d records),"
              + " all found intact after every later restart (%d batch and %d record checks in all); final tails %s%n",
              what, rounds, recoveryKills, batches, records, model.batchesChecked, model.recordsChecked,
              model.streams.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().verified.size()).toList());
          // The checks can fail: with one forged acknowledgement (a batch claimed at position 0
          // that is not there) the same verification must complain.
          StreamModel unary = model.streams.get("unary");
          unary.sent.add("forged");
          unary.acked.add(new Batch(0, 1, List.of("forged")));
          AssertionFailedError forged = assertThrows(AssertionFailedError.class, () -> verify(api, model, "forged"));
          assertTrue(forged.getMessage().contains("acknowledged batch"), forged.getMessage());
          unary.acked.remove(unary.acked.size() - 1);
          break;
        }
        long killAfter = round > 0 && rnd.nextInt(4) == 0 ? rnd.nextInt(100) : 300 + rnd.nextInt(2200);
        runRound(server, api, model, round, killAfter, rnd.nextLong());
      }
    }
  }

  private static void setUp(Api api) throws Exception {
    api.expect(201, api.send("PUT", "/v1/basins/" + BASIN, null, "{\"config\":{\"create_stream_on_append\":false}}"));
    for (String s : STREAMS) {
      api.expect(201, api.send("PUT", "/v1/streams/" + s, null, "{}"));
    }
    api.expect(201, api.send("PUT", "/v1/streams/cfg", null, "{}"));
  }

  // ---- one round: concurrent work, then SIGKILL ----

  private void runRound(ServerProcess server, Api api, Model model, int round, long killAfterMillis, long seed)
      throws Exception {
    AtomicBoolean killed = new AtomicBoolean();
    List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    AtomicLong acks = new AtomicLong();
    for (int t = 0; t < 3; t++) {
      int writer = t;
      threads.add(Thread.ofPlatform().name("unary-" + t).start(() -> unaryWriter(api, model.streams.get("unary"), round, writer,
          new Random(seed + writer), killed, unexpected, acks)));
    }
    threads.add(Thread.ofPlatform().name("fencer").start(() -> fencer(api, model, round, killed, unexpected, acks)));
    threads.add(Thread.ofPlatform().name("control").start(() -> control(api, model, round, killed, unexpected)));
    H2Client h2 = new H2Client(server.port());
    Thread session = Thread.ofPlatform().name("session").start(() -> sessionWriter(h2, model.streams.get("session"), round, killed,
        unexpected, acks));
    threads.add(session);
    Thread.sleep(killAfterMillis);
    killed.set(true);
    server.kill();
    for (Thread t : threads) {
      t.join(60_000);
      assertTrue(!t.isAlive(), t.getName() + " did not stop after the kill");
    }
    h2.close();
    System.out.printf("[kill-9] round %d: killed pid %d after %d ms, %d acks in the round%n", round, server.pid(),
        killAfterMillis, acks.get());
    assertEquals(List.of(), unexpected, "unexpected answers before the kill");
  }

  private static void unaryWriter(Api api, StreamModel m, int round, int writer, Random rnd, AtomicBoolean killed,
      List<String> unexpected, AtomicLong acks) {
    for (int i = 0; !killed.get(); i++) {
      int n = 1 + rnd.nextInt(3);
      List<String> keys = new ArrayList<>();
      ArrayNode records = JSON.createArrayNode();
      for (int k = 0; k < n; k++) {
        String body = "u" + round + "-" + writer + "-" + i + "-" + k;
        keys.add(body);
        m.sent.add(body);
        records.addObject().put("body", body);
      }
      ObjectNode req = JSON.createObjectNode().set("records", records);
      try {
        HttpResponse<String> r = api.send("POST", "/v1/streams/unary/records", null, req.toString());
        if (r.statusCode() == 200) {
          acked(m, JSON.readTree(r.body()), keys);
          acks.incrementAndGet();
        } else {
          unexpectedAnswer(killed, unexpected, "unary append " + r.statusCode() + " " + r.body());
        }
      } catch (IOException | InterruptedException e) {
        if (!killed.get()) {
          unexpected.add("unary append failed before the kill: " + e);
        }
        return; // unknown outcome: the batch may or may not be in the stream
      }
    }
  }

  private static void fencer(Api api, Model model, int round, AtomicBoolean killed, List<String> unexpected, AtomicLong acks) {
    StreamModel m = model.streams.get("fenced");
    String token = model.token;
    for (int j = 0; !killed.get(); j++) {
      String key;
      ObjectNode record = JSON.createObjectNode();
      String newToken = null;
      if (j % 6 == 5) {
        newToken = "f" + round + "-" + j;
        key = "fence:" + newToken;
        record.putArray("headers").addArray().add(b64("")).add(b64("fence"));
        record.put("body", b64(newToken));
      } else if (j % 6 == 2) {
        long to;
        synchronized (m.acked) {
          to = m.acked.isEmpty() ? 0 : m.acked.get(m.acked.size() - 1).end() / 2;
        }
        key = "trim:" + to;
        record.putArray("headers").addArray().add(b64("")).add(b64("trim"));
        record.put("body", Base64.getEncoder().encodeToString(ByteBuffer.allocate(8).putLong(to).array()));
      } else {
        key = "d" + round + "-" + j;
        record.put("body", b64(key));
      }
      m.sent.add(key);
      ObjectNode req = JSON.createObjectNode();
      req.putArray("records").add(record);
      req.put("fencing_token", token);
      try {
        HttpResponse<String> r = api.send("POST", "/v1/streams/fenced/records", "base64", req.toString());
        if (r.statusCode() == 200) {
          acked(m, JSON.readTree(r.body()), List.of(key));
          acks.incrementAndGet();
          if (newToken != null) {
            token = newToken;
          }
        } else {
          unexpectedAnswer(killed, unexpected, "fenced append " + r.statusCode() + " " + r.body());
          return;
        }
      } catch (IOException | InterruptedException e) {
        if (!killed.get()) {
          unexpected.add("fenced append failed before the kill: " + e);
        }
        return;
      }
    }
  }

  private static void control(Api api, Model model, int round, AtomicBoolean killed, List<String> unexpected) {
    for (int i = 0; !killed.get(); i++) {
      boolean reconfigure = i % 2 == 0;
      long age = 1000L * (round + 1) + i;
      String created = "extra-" + round + "-" + i;
      try {
        if (reconfigure) {
          model.cfgUnknown.add(age);
          HttpResponse<String> r = api.send("PATCH", "/v1/streams/cfg", null, "{\"retention_policy\":{\"age\":" + age + "}}");
          if (r.statusCode() == 200) {
            model.cfgAcked = age;
            model.cfgUnknown.clear();
          } else {
            unexpectedAnswer(killed, unexpected, "reconfigure " + r.statusCode() + " " + r.body());
            return;
          }
        } else {
          HttpResponse<String> r = api.send("PUT", "/v1/streams/" + created, null, "{}");
          if (r.statusCode() == 201) {
            model.createdAcked.add(created);
          } else {
            unexpectedAnswer(killed, unexpected, "create stream " + r.statusCode() + " " + r.body());
            return;
          }
        }
        Thread.sleep(20);
      } catch (IOException | InterruptedException e) {
        if (!killed.get()) {
          unexpected.add("control call failed before the kill: " + e);
        }
        return;
      }
    }
  }

  /** An S2S append session over h2c: one-record inputs, up to 64 awaiting acks, acks matched in order. */
  private static void sessionWriter(H2Client h2, StreamModel m, int round, AtomicBoolean killed, List<String> unexpected,
      AtomicLong acks) {
    try {
      H2Client.Exchange ex = h2.open(HttpMethod.POST, "/v1/streams/session/records",
          Map.of("content-type", "s2s/proto", "accept", "application/protobuf", "s2-basin", BASIN), false);
      List<String> sent = new ArrayList<>();
      ByteArrayOutputStream pending = new ByteArrayOutputStream();
      int acked = 0;
      while (!killed.get()) {
        while (sent.size() - acked < 64 && !killed.get()) {
          String body = "s" + round + "-" + sent.size();
          m.sent.add(body);
          sent.add(body);
          byte[] input = AppendInput.newBuilder().addRecords(AppendRecord.newBuilder().setBody(ByteString.copyFromUtf8(body)))
              .build().toByteArray();
          ex.send(frame(input));
        }
        byte[] chunk = ex.chunks.poll(50, TimeUnit.MILLISECONDS);
        if (chunk == null) {
          continue;
        }
        if (chunk.length == 0) {
          unexpectedAnswer(killed, unexpected, "the append session ended after " + acked + " acks");
          return;
        }
        pending.writeBytes(chunk);
        ByteBuffer buf = ByteBuffer.wrap(pending.toByteArray());
        while (buf.remaining() >= 4) {
          buf.mark();
          int length = ((buf.get() & 0xff) << 16) | ((buf.get() & 0xff) << 8) | (buf.get() & 0xff);
          if (buf.remaining() < length) {
            buf.reset();
            break;
          }
          int flag = buf.get() & 0xff;
          byte[] body = new byte[length - 1];
          buf.get(body);
          if ((flag & 0x80) != 0) {
            unexpectedAnswer(killed, unexpected, "terminal frame " + new String(body, StandardCharsets.UTF_8));
            return;
          }
          AppendAck ack = AppendAck.parseFrom(body);
          m.acked.add(new Batch(ack.getStart().getSeqNum(), ack.getEnd().getSeqNum(), List.of(sent.get(acked))));
          acked++;
          acks.incrementAndGet();
        }
        pending.reset();
        pending.write(buf.array(), buf.position(), buf.remaining());
      }
    } catch (Exception e) {
      if (!killed.get()) {
        unexpected.add("append session failed before the kill: " + e);
      }
    }
  }

  private static byte[] frame(byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int length = message.length + 1;
    out.write(length >>> 16);
    out.write(length >>> 8);
    out.write(length);
    out.write(0);
    out.writeBytes(message);
    return out.toByteArray();
  }

  private static void unexpectedAnswer(AtomicBoolean killed, List<String> unexpected, String what) {
    if (!killed.get()) {
      unexpected.add(what);
    }
  }

  private static void acked(StreamModel m, JsonNode ack, List<String> keys) {
    long start = ack.path("start").path("seq_num").asLong();
    long end = ack.path("end").path("seq_num").asLong();
    m.acked.add(new Batch(start, end, keys));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  // ---- verification after a restart ----

  private static void verify(Api api, Model model, String when) throws Exception {
    for (Map.Entry<String, StreamModel> e : model.streams.entrySet()) {
      String stream = e.getKey();
      StreamModel m = e.getValue();
      String where = when + ", stream " + stream + ": ";
      long tail = api.tail(stream);
      List<String> records = api.readAll(stream, tail);
      assertEquals(tail, records.size(), where + "records 0..tail");
      // Trimmed: the prefix of nulls. It may only grow, and only as far as some trim the test sent.
      int trimmed = 0;
      while (trimmed < records.size() && records.get(trimmed) == null) {
        trimmed++;
      }
      long trimmedBefore = m.trimmed;
      assertTrue(trimmed >= trimmedBefore, where + "the trim point went back from " + trimmedBefore + " to " + trimmed);
      long trimSent = m.sent.stream().filter(k -> k.startsWith("trim:")).mapToLong(k -> Long.parseLong(k.substring(5))).max().orElse(0);
      assertTrue(trimmed <= trimSent, where + "records below " + trimmed + " are not served, but no trim beyond " + trimSent + " was sent");
      List<String> stillServed = records.subList(trimmed, records.size());
      List<String> verifiedStillServed = m.verified.subList(Math.min(trimmed, m.verified.size()), m.verified.size());
      assertTrue(verifiedStillServed.stream().noneMatch(java.util.Objects::isNull), where + "a record verified as unknown is served again");
      assertEquals(verifiedStillServed, stillServed.subList(0, Math.min(stillServed.size(), verifiedStillServed.size())),
          where + "what an earlier verification read changed");
      assertTrue(records.size() >= m.verified.size(), where + "the tail went back from " + m.verified.size() + " to " + tail);
      Set<String> seen = new HashSet<>();
      for (String key : stillServed) {
        assertTrue(m.sent.contains(key), where + "a record the test never sent: " + key);
        assertTrue(key.startsWith("trim:") || seen.add(key), where + "record twice: " + key);
      }
      List<Batch> acked;
      synchronized (m.acked) {
        acked = List.copyOf(m.acked);
      }
      // Every position as far as the test knows it: read now, else acknowledged, else read earlier.
      List<String> known = new ArrayList<>(records);
      for (Batch b : acked) {
        assertTrue(b.end() <= tail, where + "acknowledged batch " + b + " beyond the tail " + tail);
        for (int i = (int) b.start(); i < b.end(); i++) {
          String read = records.get(i);
          assertTrue(read == null || read.equals(b.keys().get(i - (int) b.start())),
              where + "acknowledged batch " + b + " reads as " + records.subList((int) b.start(), (int) b.end()));
          if (read == null) {
            known.set(i, b.keys().get(i - (int) b.start()));
          }
        }
      }
      for (int i = 0; i < Math.min(known.size(), m.verified.size()); i++) {
        if (known.get(i) == null) {
          known.set(i, m.verified.get(i));
        }
      }
      JsonNode seqProbe = api.probe(stream, "{\"records\":[{\"body\":\"never\"}],\"match_seq_num\":" + (tail + 1000) + "}");
      assertEquals(tail, seqProbe.path("seq_num_mismatch").asLong(-1), where + "match_seq_num probe " + seqProbe);
      if (stream.equals("fenced")) {
        String expected = "";
        for (String key : known) {
          if (key != null && key.startsWith("fence:")) {
            expected = key.substring("fence:".length());
          }
        }
        JsonNode tokenProbe = api.probe(stream, "{\"records\":[{\"body\":\"never\"}],\"fencing_token\":\"no-such-token\"}");
        assertEquals(expected, tokenProbe.path("fencing_token_mismatch").asText(null), where + "fencing token probe " + tokenProbe);
        model.token = expected;
      }
      model.recordsChecked += stillServed.size();
      model.batchesChecked += acked.size();
      m.verified = known;
      m.trimmed = trimmed;
    }
    JsonNode cfg = JSON.readTree(api.expect(200, api.send("GET", "/v1/streams/cfg", null, null)).body());
    long age = cfg.path("retention_policy").path("age").asLong(-1);
    if (model.cfgAcked >= 0) {
      assertTrue(age == model.cfgAcked || model.cfgUnknown.contains(age),
          when + ": cfg retention age " + age + ", acknowledged " + model.cfgAcked + ", unknown " + model.cfgUnknown);
    }
    model.cfgAcked = age;
    model.cfgUnknown.clear();
    for (String created : model.createdAcked) {
      api.expect(200, api.send("GET", "/v1/streams/" + created, null, null));
    }
    JsonNode basin = JSON.readTree(api.expect(200, api.send("GET", "/v1/basins/" + BASIN, null, null)).body());
    assertEquals(false, basin.path("create_stream_on_append").asBoolean(true), when + ": basin config " + basin);
  }

  /** The JDK HTTP client on one server, basin {@link #BASIN}. */
  static final class Api {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    Api(String base) {
      this.base = base;
    }

    HttpResponse<String> send(String method, String path, String format, String json) throws IOException, InterruptedException {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
          .header("s2-basin", BASIN)
          .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
      if (json != null) {
        b.header("content-type", "application/json");
      }
      if (format != null) {
        b.header("s2-format", format);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> expect(int status, HttpResponse<String> r) {
      if (r.statusCode() != status) {
        fail(r.request().method() + " " + r.request().uri() + ": expected " + status + ", got " + r.statusCode() + " " + r.body());
      }
      return r;
    }

    long tail(String stream) throws Exception {
      HttpResponse<String> r = expect(200, send("GET", "/v1/streams/" + stream + "/records/tail", null, null));
      return JSON.readTree(r.body()).path("tail").path("seq_num").asLong();
    }

    JsonNode probe(String stream, String json) throws Exception {
      return JSON.readTree(expect(412, send("POST", "/v1/streams/" + stream + "/records", null, json)).body());
    }

    /**
     * Records {@code 0 .. tail-1} as keys (see {@link Batch}), checking their sequence numbers; a
     * position below the stream's trim point (the first record a read from 0 returns) is null:
     * reads never serve trimmed records (S2-API §8.2).
     */
    List<String> readAll(String stream, long tail) throws Exception {
      List<String> out = new ArrayList<>();
      while (out.size() < tail) {
        HttpResponse<String> r = expect(200, send("GET", "/v1/streams/" + stream + "/records?seq_num=" + out.size()
            + "&count=1000&wait=0", "base64", null));
        JsonNode records = JSON.readTree(r.body()).path("records");
        assertTrue(records.size() > 0, "no records at " + out.size() + " below the tail " + tail + ": " + r.body());
        for (JsonNode rec : records) {
          long seq = rec.path("seq_num").asLong();
          if (out.isEmpty()) {
            while (out.size() < seq) {
              out.add(null); // trimmed
            }
          }
          assertEquals(out.size(), seq, "sequence numbers are contiguous");
          out.add(key(rec));
        }
      }
      return out;
    }

    private static String key(JsonNode rec) {
      byte[] body = Base64.getDecoder().decode(rec.path("body").asText(""));
      JsonNode headers = rec.path("headers");
      if (headers.size() == 1 && decode(headers.get(0).get(0)).isEmpty()) {
        String command = decode(headers.get(0).get(1));
        if (command.equals("fence")) {
          return "fence:" + new String(body, StandardCharsets.UTF_8);
        }
        if (command.equals("trim")) {
          return "trim:" + ByteBuffer.wrap(body).getLong();
        }
      }
      assertEquals(0, headers.size(), "data records carry no headers: " + rec);
      return new String(body, StandardCharsets.UTF_8);
    }

    private static String decode(JsonNode b64) {
      return new String(Base64.getDecoder().decode(b64.asText("")), StandardCharsets.UTF_8);
    }
  }
}
