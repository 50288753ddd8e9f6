package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.s2j.checker.CheckResult;
import io.s2j.checker.Linearizability;
import io.s2j.checker.Verdict;
import io.s2j.checker.s2.ReadOutput;
import io.s2j.checker.s2.S2Event;
import io.s2j.checker.s2.S2Jsonl;
import io.s2j.checker.s2.StreamHash;
import io.s2j.runtime.real.EtcdProcess;
import io.s2j.runtime.real.S3ProxyProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A distributed cell on loopback, every role its own JVM started from {@code s2j-server.jar}: a
 * 3-member etcd, s3proxy, 3 channels + 2 spare channel hosts, 2 cachey nodes, 2 cops (one acts, one
 * stands by), 1 bgtask worker and 2 frontends in two zones. Clients of the official TypeScript SDK
 * ({@code src/test/sdk/history.mjs}) append to (append sessions and unary appends), read and tail
 * (read sessions, s2s and SSE) several streams through both frontends while the test kills a channel with
 * {@code kill -9} (a spare takes it over), restarts it (it stands by: the spare serving its channel
 * is alive), pauses another with {@code SIGSTOP} for longer than its lease (a spare takes it over;
 * after {@code SIGCONT} it finds its lease lost and exits, and the test's supervisor restarts it, as
 * any exit with status 75 is restarted), kills the acting cop, and finally kills the spare serving
 * the first channel (whose own process, standing by, takes it back). Checks: each stream's recorded
 * history is linearizable
 * ({@link Linearizability}), every acknowledged record is read back at its acknowledged position,
 * every tailer received exactly the stream's records from seq num 0 up to the final tail (no gap,
 * duplicate or reorder, bodies equal; it reopens its session from the next seq num after an error),
 * every stream is served again after each fault within {@link #FAILOVER_BOUND_MS}; the fail-over
 * times and how long each tailer went without a new record after each fault are printed.
 *
 * <p>Runs when {@code -Ds2j.cell=true} (about 3 minutes on 2 cores; {@code .ci/run} runs it once).
 */
class CellRolesIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BASIN = "cell-basin";
  private static final int STREAMS = 6;
  /** Every stream must have an acknowledged append within this long after each fault. */
  static final long FAILOVER_BOUND_MS = 40_000;
  private static final long T0 = System.nanoTime();
  /** The wall clock at {@link #T0}: the Node side stamps its events with the wall clock. */
  private static final long EPOCH_T0 = System.currentTimeMillis();

  private static long nowMs() {
    return (System.nanoTime() - T0) / 1_000_000;
  }

  private static void say(String fmt, Object... args) {
    System.out.printf("[cell %7.3f] %s%n", nowMs() / 1000.0, String.format(fmt, args));
  }

  /** A record a tailer received: its seq num, body and when (test time, ms). */
  record Received(long seq, byte[] body, long atMs) {}

  /** One SDK read session tailer's log: what it received, its errors (reopened after), how it ended. */
  static final class Tailer {
    final String name;
    final String stream;
    String how = "";
    final List<Received> received = new ArrayList<>();
    final List<String> errors = new ArrayList<>();
    long opens;
    long doneNext = -1;
    long finalTail = -1;

    Tailer(String name, String stream) {
      this.name = name;
      this.stream = stream;
    }
  }

  record Fault(String what, long atMs) {}

  @Test
  void aCellOfRoleProcessesFailsOverAndStaysLinearizable() throws Exception {
    assumeTrue(Boolean.getBoolean("s2j.cell") || "true".equals(System.getenv("S2J_CELL_IT")),
        "the multi-process cell test runs with -Ds2j.cell=true (it takes minutes)");
    SdkCompatibilityTest.assumeSdk();
    assumeTrue(Files.isDirectory(SdkCompatibilityTest.SDK_DIR.resolve("node_modules").resolve("@node-rs").resolve("xxhash")),
        "the cell test's clients need `npm ci` in runtime-real/src/test/sdk (@node-rs/xxhash is missing)");
    Path dir = Files.createDirectories(Path.of("target", "cell"));
    List<EtcdProcess> etcd = EtcdProcess.startClusterOrSkip(3);
    List<RoleJvm> jvms = new CopyOnWriteArrayList<>();
    ExecutorService supervisor = Executors.newSingleThreadExecutor();
    AtomicBoolean stopping = new AtomicBoolean();
    try (S3ProxyProcess proxy = S3ProxyProcess.start("filesystem")) {
      proxy.createBucket("s2j-cell");
      String etcdUrls = etcd.stream().map(e -> e.clientUrl().toString()).collect(Collectors.joining(","));
      String cellName = "it" + (System.nanoTime() & 0xffff);
      Map<String, String> env = proxy.awsEnvironment();
      int fe1Port = ServerProcess.freePort();
      int fe2Port = ServerProcess.freePort();
      RoleJvm ch1 = role(jvms, dir, "ch-1", "channel", "z1", etcdUrls, cellName, env);
      RoleJvm ch2 = role(jvms, dir, "ch-2", "channel", "z2", etcdUrls, cellName, env);
      RoleJvm ch3 = role(jvms, dir, "ch-3", "channel", "z1", etcdUrls, cellName, env);
      RoleJvm sp1 = role(jvms, dir, "sp-1", "channel", "z1", etcdUrls, cellName, env, "--spare");
      RoleJvm sp2 = role(jvms, dir, "sp-2", "channel", "z2", etcdUrls, cellName, env, "--spare");
      RoleJvm ca1 = role(jvms, dir, "cachey-1", "cachey", "z1", etcdUrls, cellName, env);
      RoleJvm ca2 = role(jvms, dir, "cachey-2", "cachey", "z2", etcdUrls, cellName, env);
      long started = nowMs();
      startAll(List.of(ch1, ch2, ch3, sp1, sp2, ca1, ca2));
      RoleJvm cop1 = role(jvms, dir, "cop-1", "cop", "z1", etcdUrls, cellName, env, "--min-channels", "3");
      RoleJvm cop2 = role(jvms, dir, "cop-2", "cop", "z2", etcdUrls, cellName, env, "--min-channels", "3");
      RoleJvm bg = role(jvms, dir, "bg-1", "bgtask", "z1", etcdUrls, cellName, env, "--min-channels", "3");
      startAll(List.of(cop1, cop2, bg));
      RoleJvm fe1 = role(jvms, dir, "fe-1", "frontend", "z1", etcdUrls, cellName, env, "--min-channels", "3",
          "--host", "127.0.0.1", "--port", Integer.toString(fe1Port));
      RoleJvm fe2 = role(jvms, dir, "fe-2", "frontend", "z2", etcdUrls, cellName, env, "--min-channels", "3",
          "--host", "127.0.0.1", "--port", Integer.toString(fe2Port));
      startAll(List.of(fe1, fe2));
      say("cell up in %.1f s: etcd x3, s3proxy, %d role JVMs", (nowMs() - started) / 1000.0, jvms.size());

      // The supervisor: a role process that exits with 75 (lease lost, channel taken over) is restarted.
      List<String> restarts = new CopyOnWriteArrayList<>();
      supervisor.execute(() -> {
        while (!stopping.get()) {
          for (RoleJvm j : jvms) {
            if (!j.closed() && j.exitStatus() == ServerMain.EXIT_RESTART) {
              long at = nowMs();
              try {
                say("supervisor: %s exited with 75; restarting", j.name);
                j.start();
                restarts.add(String.format("%s restarted at %.1f s (ready after %.1f s)", j.name, at / 1000.0, (nowMs() - at) / 1000.0));
                say("supervisor: %s ready again", j.name);
              } catch (Exception e) {
                say("supervisor: restarting %s failed: %s", j.name, e);
              }
            }
          }
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });

      String[] frontends = {"http://127.0.0.1:" + fe1Port, "http://127.0.0.1:" + fe2Port};
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
      ServerHistoryIT.send(http, frontends[0], BASIN, "PUT", "/v1/basins/" + BASIN, 201);
      List<String> streams = new ArrayList<>();
      for (int i = 0; i < STREAMS; i++) {
        String s = "s" + i;
        ServerHistoryIT.send(http, frontends[i % 2], BASIN, "PUT", "/v1/streams/" + s, 201);
        streams.add(s);
      }

      // The clients: the official TypeScript SDK (history.mjs), through both frontends. Per stream an
      // append-session writer and a unary writer (match_seq_num on every append: they race, and an
      // append of unknown outcome can only have landed at one position, which keeps the
      // linearizability search small however many appends a fail-over leaves unknown), reads and
      // check-tails between appends, and two read-session tailers (s2s and SSE) following the tail.
      Path events = dir.resolve("sdk.events.jsonl");
      Path tailEvents = dir.resolve("sdk.tail.jsonl");
      Path nodeLog = dir.resolve("sdk.node.log");
      Files.deleteIfExists(events);
      Files.deleteIfExists(tailEvents);
      Process node = ServerHistoryIT.startHistoryClients(Map.ofEntries(Map.entry("S2J_ENDPOINTS", String.join(",", frontends)),
          Map.entry("S2J_BASIN", BASIN), Map.entry("S2J_STREAMS", String.join(",", streams)),
          Map.entry("S2J_OUT", events.toAbsolutePath().toString()), Map.entry("S2J_TAIL_OUT", tailEvents.toAbsolutePath().toString()),
          Map.entry("S2J_CLIENTS", "2"), Map.entry("S2J_SESSION_CLIENTS", "1"), Map.entry("S2J_MATCH_P", "1"),
          Map.entry("S2J_READS", "incremental"), Map.entry("S2J_TAILERS", "2"), Map.entry("S2J_DURATION_MS", "600000"),
          Map.entry("S2J_STOP_ON_EOF", "1"), Map.entry("S2J_SEED", Long.toString(System.nanoTime() & 0xffffffffL))), nodeLog);

      List<Fault> faults = new ArrayList<>();
      Map<String, String> measured = new LinkedHashMap<>();
      Map<String, String> tailerGaps = new LinkedHashMap<>();
      Thread.sleep(6_000);
      List<RoleJvm> spares = List.of(sp1, sp2);
      // 1. kill -9 a channel: the cop hands it to a spare.
      long[] spareLogs = offsets(spares);
      long killed = nowMs();
      faults.add(new Fault("kill -9 ch-1 (a spare takes it over)", killed));
      say("fault: kill -9 ch-1");
      ch1.kill();
      long asked = awaitLine(spares, spareLogs, "was asked to run a channel", killed + 14_000);
      measured.put("kill -9 ch-1: the cop asks a spare to run ch-1", asked < 0 ? "not within 14 s" : (asked - killed) + " ms after the kill");
      sleepUntil(killed + 14_000);
      // 2. restart it: the spare serving ch-1 is alive, so ch-1 stands by (it takes ch-1 back in step 5).
      long restarted = nowMs();
      long ch1Log = ch1.logSize();
      faults.add(new Fault("restart ch-1 (it stands by: the spare serving ch-1 is alive)", restarted));
      say("fault: restart ch-1");
      ch1.start();
      measured.put("restart ch-1: up (standing by)", (nowMs() - restarted) + " ms after the launch");
      say("ch-1 up again: %s", ch1.tail(ch1Log).contains("stands by") ? "standing by" : "took its channel over");
      Thread.sleep(6_000);
      // 3. SIGSTOP another channel for longer than its lease.
      spareLogs = offsets(spares);
      long stopped = nowMs();
      faults.add(new Fault("SIGSTOP ch-2 for 8 s, then SIGCONT (a spare takes it over; ch-2 exits, restarts and stands by)", stopped));
      say("fault: SIGSTOP ch-2");
      ch2.signal("STOP");
      asked = awaitLine(spares, spareLogs, "was asked to run a channel", stopped + 8_000);
      measured.put("SIGSTOP ch-2: the cop asks a spare to run ch-2", asked < 0 ? "not within the 8 s pause" : (asked - stopped) + " ms after the SIGSTOP");
      sleepUntil(stopped + 8_000);
      say("SIGCONT ch-2");
      ch2.signal("CONT");
      Thread.sleep(12_000);
      // 4. kill the acting cop; a new stream needs the standby to activate it.
      RoleJvm acting = actingCop(cop1, cop2);
      RoleJvm standby = acting == cop1 ? cop2 : cop1;
      long standbyLog = standby.logSize();
      long copKilled = nowMs();
      faults.add(new Fault("kill -9 the acting cop " + acting.name, copKilled));
      say("fault: kill -9 the acting cop %s", acting.name);
      acting.kill();
      ServerHistoryIT.send(http, frontends[1], BASIN, "PUT", "/v1/streams/after-cop", 201);
      long firstAckOnNew = -1;
      long standbyActing = -1;
      while (nowMs() - copKilled < FAILOVER_BOUND_MS && (firstAckOnNew < 0 || standbyActing < 0)) {
        if (standbyActing < 0 && standby.tail(standbyLog).contains("is now ACTING")) {
          standbyActing = nowMs();
        }
        if (firstAckOnNew < 0 && appendOnce(http, frontends[1], "after-cop", "x")) {
          firstAckOnNew = nowMs();
        }
        Thread.sleep(50);
      }
      measured.put("cop: the standby acts", standbyActing < 0 ? "never" : (standbyActing - copKilled) + " ms after the kill (its log polled every 50 ms, between appends)");
      measured.put("cop: first append acked on a stream created after the kill (needs an activation)",
          firstAckOnNew < 0 ? "never" : (firstAckOnNew - copKilled) + " ms after the kill");
      Thread.sleep(4_000);
      say("restart %s", acting.name);
      acting.start();
      Thread.sleep(4_000);
      // 5. kill the spare serving ch-1: ch-1's restarted process, standing by, takes it back.
      long ch1Before = ch1.logSize();
      long spareKilled = nowMs();
      RoleJvm holder = sp1.isAlive() && sp1.tail(0).contains("serves channel ch-1") ? sp1 : sp2;
      assertTrue(holder.tail(0).contains("serves channel ch-1"), "a spare serves ch-1");
      faults.add(new Fault("kill -9 " + holder.name + ", the spare serving ch-1 (ch-1's standing-by process takes it back)", spareKilled));
      say("fault: kill -9 %s (serving ch-1)", holder.name);
      holder.kill();
      long ch1Serving = awaitLine(List.of(ch1), new long[] {ch1Before}, "is SERVING", spareKilled + FAILOVER_BOUND_MS);
      measured.put("kill -9 the spare serving ch-1: ch-1's process serving it again",
          ch1Serving < 0 ? "not within " + FAILOVER_BOUND_MS + " ms" : (ch1Serving - spareKilled) + " ms after the kill");
      sleepUntil(spareKilled + 14_000);
      say("restart %s (idle spare)", holder.name);
      holder.start();
      Thread.sleep(3_000);
      long end = nowMs();
      node.getOutputStream().close(); // the SDK clients stop, then the tailers catch up to the final tails (30 s at most)
      boolean nodeDone = node.waitFor(120, TimeUnit.SECONDS);
      if (!nodeDone) {
        node.destroyForcibly();
      }
      String nodeOut = Files.readString(nodeLog, StandardCharsets.UTF_8);
      assertTrue(nodeDone && node.exitValue() == 0, "history.mjs failed:\n" + nodeOut);
      say("clients stopped: %s", nodeOut.strip());
      Map<String, List<String>> perStream = ServerHistoryIT.byStream(Files.readAllLines(events, StandardCharsets.UTF_8));
      Map<String, ServerHistoryIT.Run> runs = new LinkedHashMap<>();
      for (String s : streams) {
        runs.put(s, ServerHistoryIT.convert(perStream.getOrDefault(s, List.of())));
      }
      Map<String, Tailer> tailers = tailers(Files.readAllLines(tailEvents, StandardCharsets.UTF_8));

      // Fail-over per fault: for each stream, the longest time without an ack put down to the fault (it may last past
      // the next fault); for each tailer, the same for the records it received.
      boolean allServed = true;
      Map<String, long[]> streamGaps = new LinkedHashMap<>();
      for (String s : streams) {
        streamGaps.put(s, gapsByFault(runs.get(s).ackAtMs().stream().map(CellRolesIT::testMs).sorted().toList(), faults, end));
      }
      Map<String, long[]> tailerGapsMs = new LinkedHashMap<>();
      for (Tailer t : tailers.values()) {
        tailerGapsMs.put(t.name, gapsByFault(t.received.stream().map(Received::atMs).toList(), faults, end));
      }
      for (int f = 0; f < faults.size(); f++) {
        StringBuilder per = new StringBuilder();
        long worst = 0;
        for (Map.Entry<String, long[]> g : streamGaps.entrySet()) {
          worst = Math.max(worst, g.getValue()[f]);
          per.append(' ').append(g.getKey()).append('=').append(g.getValue()[f]);
          allServed &= g.getValue()[f] <= FAILOVER_BOUND_MS;
        }
        StringBuilder perTailer = new StringBuilder();
        long worstTailer = 0;
        for (Map.Entry<String, long[]> g : tailerGapsMs.entrySet()) {
          worstTailer = Math.max(worstTailer, g.getValue()[f]);
          perTailer.append(' ').append(g.getKey()).append('=').append(g.getValue()[f]);
        }
        measured.put(faults.get(f).what(), "longest time without an ack on a stream " + worst + " ms (per stream, ms:" + per + ")");
        tailerGaps.put(faults.get(f).what(), "longest time a tailer received nothing " + worstTailer + " ms (per tailer, ms:" + perTailer + ")");
      }

      // Read everything back through the second frontend: every acked record at its position; the
      // Node side's final read (its XXH3) agrees with hash4j's over the same records.
      long lost = 0;
      long checked = 0;
      List<String> anomalies = new ArrayList<>();
      Map<String, List<byte[]>> contents = new LinkedHashMap<>();
      for (String s : streams) {
        long tail = checkTail(http, frontends[1], s);
        List<byte[]> bodies = readRange(http, frontends[1], s, 0, tail);
        contents.put(s, bodies);
        for (Map.Entry<Long, Long> a : runs.get(s).ackedHashes().entrySet()) {
          checked++;
          if (a.getKey() >= bodies.size() || StreamHash.ofBody(bodies.get(a.getKey().intValue())) != a.getValue()) {
            lost++;
            say("LOST: %s seq %d acked with body hash %s", s, a.getKey(), Long.toUnsignedString(a.getValue()));
          }
        }
        ReadOutput last = lastRead(runs.get(s).events());
        assertTrue(last.tail() <= bodies.size(), s + ": the final tail " + bodies.size() + " is below the Node side's " + last.tail());
        long hash = StreamHash.EMPTY;
        for (int i = 0; i < last.tail(); i++) {
          hash = StreamHash.chain(hash, StreamHash.ofBody(bodies.get(i)));
        }
        assertEquals(last.streamHash(), hash, s + ": XXH3 stream hash of Node and of hash4j over the first " + last.tail() + " records");
        perStream.getOrDefault(s, List.of()).stream().filter(l -> l.contains("was expected")).forEach(l -> anomalies.add(s + ": " + l));
      }

      // Each tailer received exactly the stream's records from 0 up to its final tail, in order, bodies equal.
      long tailed = 0;
      for (Tailer t : tailers.values()) {
        List<byte[]> bodies = contents.get(t.stream);
        for (int i = 0; i < t.received.size(); i++) {
          Received r = t.received.get(i);
          if (r.seq() != i) {
            anomalies.add(t.name + ": received seq num " + r.seq() + " as its record #" + i + " (a gap, duplicate or reorder)");
            break;
          }
          if (i >= bodies.size() || !Arrays.equals(bodies.get(i), r.body())) {
            anomalies.add(t.name + ": the body of seq num " + i + " differs from the stream's");
            break;
          }
        }
        tailed += t.received.size();
        say("tailer %s (%s): %d records, %d opens, %d errors%s", t.name, t.how, t.received.size(), t.opens, t.errors.size(),
            t.errors.isEmpty() ? "" : " (" + t.errors.stream().distinct().limit(4).collect(Collectors.joining("; ")) + ")");
      }

      // Linearizability of each stream's history.
      Map<String, Verdict> verdicts = new LinkedHashMap<>();
      long appends = 0;
      long indefinite = 0;
      long definite = 0;
      long reads = 0;
      for (String s : streams) {
        ServerHistoryIT.Run run = runs.get(s);
        Path history = dir.resolve(s + ".history.jsonl");
        try (OutputStream out = Files.newOutputStream(history)) {
          S2Jsonl.write(run.events(), out);
        }
        long t = System.nanoTime();
        CheckResult result = ServerHistoryIT.check(run.events());
        verdicts.put(s, result.verdict());
        say("%s: %d events, %d acked appends, %d reads, %d indefinite and %d definite failures (%d not 412s): %s (checked in %d ms)",
            s, run.events().size(), run.appendsAcked(), run.readsOk(), run.indefinite(), run.definite(), run.notConditionFailures(),
            result.verdict(), (System.nanoTime() - t) / 1_000_000);
        appends += run.appendsAcked();
        reads += run.readsOk();
        indefinite += run.indefinite();
        definite += run.definite();
      }
      say("RESULT: %d acked appends, %d reads, %d indefinite and %d definite failures; %d acked records read back, %d lost;"
          + " %d records received by %d tailers", appends, reads, indefinite, definite, checked, lost, tailed, tailers.size());
      measured.forEach((k, v) -> say("FAILOVER %s: %s", k, v));
      tailerGaps.forEach((k, v) -> say("TAILERS %s: %s", k, v));
      restarts.forEach(r -> say("supervisor: %s", r));
      STARTUP_RETRIES.forEach(r -> say("start-up retried: %s", r));

      assertEquals(List.of(), anomalies, "reads and tailers that got records out of place");
      assertEquals(0, lost, "acknowledged records lost");
      verdicts.forEach((s, v) -> assertEquals(Verdict.LINEARIZABLE, v, "history of " + s));
      assertTrue(appends >= 200 && reads >= 30, "a history worth checking: " + appends + " appends, " + reads + " reads");
      assertEquals(2 * STREAMS, tailers.size(), "tailers: " + tailers.keySet());
      for (Tailer t : tailers.values()) {
        assertTrue(t.finalTail > 0 && t.finalTail <= contents.get(t.stream).size(), t.name + ": the final tail " + t.finalTail);
        assertEquals(t.finalTail, t.received.size(), t.name + " received the whole stream " + t.stream + " up to its final tail");
      }
      assertTrue(allServed, "every stream acked an append within " + FAILOVER_BOUND_MS + " ms of each fault: " + measured);
      assertTrue(firstAckOnNew >= 0 && standbyActing >= 0, "the standby cop took over and activated a new stream: " + measured);
    } finally {
      stopping.set(true);
      supervisor.shutdownNow();
      supervisor.awaitTermination(30, TimeUnit.SECONDS);
      jvms.forEach(RoleJvm::close);
      etcd.forEach(EtcdProcess::close);
    }
  }

  private static RoleJvm role(List<RoleJvm> jvms, Path dir, String node, String role, String zone, String etcd, String cell,
      Map<String, String> env, String... extra) throws IOException {
    List<String> args = new ArrayList<>(List.of("--role", role, "--node", node, "--zone", zone, "--etcd", etcd, "--cell", cell,
        "--listen", "127.0.0.1:0", "--bucket", "s2j-cell", "--path", cell + "/", "--cop-lease-ms", "3000",
        "--channel-dead-after-ms", "3000"));
    args.addAll(List.of(extra));
    Path log = dir.resolve(node + ".log");
    Files.deleteIfExists(log);
    RoleJvm j = new RoleJvm(node, args, env, log);
    jvms.add(j);
    return j;
  }

  private static void startAll(List<RoleJvm> group) throws Exception {
    List<Long> offsets = new ArrayList<>();
    for (RoleJvm j : group) {
      offsets.add(j.launch());
    }
    for (int i = 0; i < group.size(); i++) {
      try {
        group.get(i).awaitReady(offsets.get(i));
      } catch (IllegalStateException e) {
        // A role whose first etcd calls outlast their 3 s deadline on a loaded machine exits 1 before
        // it is ready (seen once: ch-3, "etcd scan: DEADLINE_EXCEEDED" while connecting). A supervisor
        // restarting on failure starts it again; so does the test, once, and says so.
        if (!e.getMessage().contains(" exited with ")) {
          throw e;
        }
        String why = e.getMessage().lines().filter(l -> l.contains("Exception in thread")).findFirst().orElse("");
        STARTUP_RETRIES.add(group.get(i).name + ": " + why);
        say("start-up: %s exited before it was ready (%s); starting it again", group.get(i).name, why);
        group.get(i).start();
      }
    }
  }

  /** Roles the initial start-up had to start twice (printed with the results). */
  private static final List<String> STARTUP_RETRIES = new CopyOnWriteArrayList<>();

  private static long[] offsets(List<RoleJvm> group) throws IOException {
    long[] o = new long[group.size()];
    for (int i = 0; i < o.length; i++) {
      o[i] = group.get(i).logSize();
    }
    return o;
  }

  /** When one of {@code group} logged {@code text} after its offset (polled until {@code untilMs}); -1 if none did. */
  private static long awaitLine(List<RoleJvm> group, long[] offsets, String text, long untilMs) throws Exception {
    while (nowMs() < untilMs) {
      for (int i = 0; i < offsets.length; i++) {
        if (group.get(i).tail(offsets[i]).contains(text)) {
          return nowMs();
        }
      }
      Thread.sleep(50);
    }
    return -1;
  }

  private static void sleepUntil(long ms) throws InterruptedException {
    long left = ms - nowMs();
    if (left > 0) {
      Thread.sleep(left);
    }
  }

  /** The cop whose log last said it acts. */
  private static RoleJvm actingCop(RoleJvm a, RoleJvm b) throws IOException {
    String la = a.tail(0);
    String lb = b.tail(0);
    boolean aActs = la.lastIndexOf("is now ACTING") > la.lastIndexOf("is now STANDBY");
    boolean bActs = lb.lastIndexOf("is now ACTING") > lb.lastIndexOf("is now STANDBY");
    assertTrue(aActs ^ bActs, "exactly one cop says it acts: " + a.name + "=" + aActs + ", " + b.name + "=" + bActs);
    return aActs ? a : b;
  }

  /**
   * A gap in a stream's acks (or a tailer's records) is put down to the last fault at most this long
   * after the gap began: a stream affected by a fault has its last ack just before the fault (its
   * writers ack several times a second), so a gap beginning just before a fault is that fault's,
   * and one beginning later is the latest earlier fault's (acks in flight ended after it).
   */
  private static final long ATTRIBUTION_SLACK_MS = 2_000;

  /**
   * Per fault, the longest gap without an event at one of {@code timesMs} (ascending) put down to
   * it (see {@link #ATTRIBUTION_SLACK_MS}), counted from the later of the gap's start and the
   * fault; an outage that outlasts the next fault counts whole, and one still running at {@code
   * end} counts up to it.
   */
  private static long[] gapsByFault(List<Long> timesMs, List<Fault> faults, long end) {
    long[] worst = new long[faults.size()];
    List<Long> times = new ArrayList<>(timesMs);
    times.add(end);
    for (int i = 0; i + 1 < times.size(); i++) {
      long from = times.get(i);
      long to = times.get(i + 1);
      if (from >= end) {
        break;
      }
      int f = -1;
      for (int k = 0; k < faults.size(); k++) {
        if (faults.get(k).atMs() <= from + ATTRIBUTION_SLACK_MS) {
          f = k;
        }
      }
      if (f >= 0 && to > faults.get(f).atMs()) {
        worst[f] = Math.max(worst[f], to - Math.max(from, faults.get(f).atMs()));
      }
    }
    return worst;
  }

  /** A wall-clock time of the Node side (ms since the epoch) on the test's clock ({@link #nowMs()}). */
  private static long testMs(long epochMs) {
    return epochMs - EPOCH_T0;
  }

  /** The tailers' log of history.mjs, by tailer. */
  private static Map<String, Tailer> tailers(List<String> lines) throws IOException {
    Map<String, Tailer> out = new TreeMap<>();
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode e = JSON.readTree(line);
      Tailer t = out.computeIfAbsent(e.path("tailer").asText(), k -> new Tailer(k, e.path("stream").asText()));
      switch (e.path("t").asText()) {
        case "start" -> t.how = e.path("transport").asText() + " via " + e.path("endpoint").asText();
        case "open" -> t.opens++;
        case "rec" -> t.received.add(new Received(e.path("seq").asLong(), Base64.getDecoder().decode(e.path("body").asText()),
            testMs(e.path("at").asLong())));
        case "error" -> t.errors.add(e.path("error").asText());
        case "done" -> {
          t.doneNext = e.path("next").asLong();
          t.finalTail = e.path("finalTail").isNull() ? -1 : e.path("finalTail").asLong();
        }
        default -> throw new IllegalArgumentException("unknown tailer event " + line);
      }
    }
    return out;
  }

  /** The last successful whole-stream read of a history (the Node side's final one). */
  private static ReadOutput lastRead(List<S2Event> events) {
    return (ReadOutput) events.stream().filter(e -> e instanceof S2Event.Finish f && f.finish() instanceof ReadOutput)
        .map(e -> ((S2Event.Finish) e).finish()).reduce((x, y) -> y).orElseThrow();
  }

  // ---- the JDK client, for set-up, the new stream after the cop's death, and the final read ----

  /** An append's outcome: the tail after it (-1 if it failed), the tail a 412 reported (else -1), how it ended. */
  record Outcome(long tail, long mismatch, boolean definite, String kind) {}

  /** S2's error codes whose failures change nothing (docs: S2-API.md 3.2, "No side effects"). */
  private static final java.util.Set<String> NO_SIDE_EFFECTS = java.util.Set.of("hot_server", "rate_limited", "server_draining",
      "transaction_conflict");

  private static Outcome append(HttpClient http, String fe, String stream, String body, Long match) {
    String json = "{\"records\":[{\"body\":\"" + Base64.getEncoder().encodeToString(body.getBytes(StandardCharsets.UTF_8)) + "\"}]"
        + (match == null ? "" : ",\"match_seq_num\":" + match) + "}";
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(fe + "/v1/streams/" + stream + "/records"))
          .header("s2-basin", BASIN).header("s2-format", "base64").header("content-type", "application/json")
          .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
      int status = r.statusCode();
      if (status == 200) {
        return new Outcome(JSON.readTree(r.body()).path("end").path("seq_num").asLong(), -1, false, "200");
      }
      JsonNode error = parse(r.body());
      if (status == 412 && error.has("seq_num_mismatch")) {
        return new Outcome(-1, error.path("seq_num_mismatch").asLong(), true, "412 seq_num_mismatch");
      }
      String code = error.path("code").asText("");
      // A 4xx (but 408 and 499) or a code without side effects changed nothing; anything else may have applied.
      boolean definite = (status >= 400 && status < 500 && status != 408 && status != 499) || NO_SIDE_EFFECTS.contains(code);
      return new Outcome(-1, -1, definite, status + " " + code);
    } catch (ConnectException | HttpConnectTimeoutException e) {
      return new Outcome(-1, -1, true, "not connected"); // never reached the frontend
    } catch (IOException e) {
      return new Outcome(-1, -1, false, e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome(-1, -1, false, "interrupted");
    }
  }

  private static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static boolean appendOnce(HttpClient http, String fe, String stream, String body) {
    return append(http, fe, stream, body, null).tail() >= 0;
  }

  private static long checkTail(HttpClient http, String fe, String stream) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(fe + "/v1/streams/" + stream + "/records/tail"))
        .header("s2-basin", BASIN).timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("check-tail " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body()).path("tail").path("seq_num").asLong();
  }

  /** The bodies of records {@code [from, to)}, checked to be at consecutive positions. */
  private static List<byte[]> readRange(HttpClient http, String fe, String stream, long from, long to) throws Exception {
    List<byte[]> out = new ArrayList<>();
    long next = from;
    while (next < to) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(fe + "/v1/streams/" + stream + "/records?seq_num=" + next
          + "&count=" + Math.min(1000, to - next) + "&wait=0")).header("s2-basin", BASIN).header("s2-format", "base64")
          .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IOException("read " + r.statusCode() + ": " + r.body());
      }
      JsonNode records = JSON.readTree(r.body()).path("records");
      if (records.isEmpty()) {
        throw new IOException("no records at " + next + " below the tail " + to);
      }
      for (JsonNode rec : records) {
        if (next >= to) {
          break;
        }
        if (rec.path("seq_num").asLong() != next) {
          throw new IllegalStateException("read " + rec.path("seq_num") + " where " + next + " was expected");
        }
        out.add(Base64.getDecoder().decode(rec.path("body").asText("")));
        next++;
      }
    }
    return out;
  }
}
