package io.s2j.cop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendBatch;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.StreamName;
import io.s2j.channel.Channel;
import io.s2j.channel.ChannelKnobs;
import io.s2j.frontend.Catalog;
import io.s2j.frontend.ChannelDirectory;
import io.s2j.frontend.DataPlane;
import io.s2j.frontend.Outcome;
import io.s2j.frontend.ReadResult;
import io.s2j.frontend.ReadSession;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.CopMeta;
import io.s2j.metadata.proto.StreamletMeta;
import io.s2j.record.AppendRecord;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.View;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.sim.FaultProfile;
import io.s2j.runtime.sim.LatencyModel;
import io.s2j.runtime.sim.SimProcess;
import io.s2j.runtime.sim.SimWorld;
import io.s2j.runtime.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The cop on a small fault-free simulated cell (two channels, two cops, one frontend): one cop
 * acts and a standby takes over from a crashed one, activation spreads streams over the channels,
 * and migrations keep appends acknowledged in order and a tailing reader gap- and duplicate-free;
 * a streamlet holding a terminal trim is never migrated.
 */
class CopTest {
  private static final BasinName B = new BasinName("cop-basin");

  private final SimWorld world = new SimWorld(11, FaultProfile.NONE);
  private final List<Cop> cops = new ArrayList<>();
  private final List<SimProcess> copProcesses = new ArrayList<>();
  private final List<Channel> channels = new ArrayList<>();
  private SimProcess frontendProcess;
  private io.s2j.runtime.Env frontendEnv;
  private Catalog catalog;
  private DataPlane data;

  private final TreeMap<String, SimProcess> channelProcesses = new TreeMap<>();
  private ChannelKnobs channelKnobs = ChannelKnobs.SMALL;

  private void cell(CopKnobs knobs) {
    cell(knobs, false);
  }

  /** Two channels, two cops, one frontend; with {@code spare}, an idle host {@code spare-1} listed for both channels. */
  private void cell(CopKnobs knobs, boolean spare) {
    cell(knobs, spare, List.of("ch-1", "ch-2"));
  }

  /** Each cop's view of the channels, and the frontend's (each updated on its own process). */
  private final List<View<ChannelDirectory>> copDirectories = new ArrayList<>();
  private View<ChannelDirectory> frontendDirectory;

  /** The cell with only {@code channelIds} at first (more may join: {@link #startChannel}). */
  private void cell(CopKnobs knobs, boolean spare, List<String> channelIds) {
    world.bucket().setLatency(LatencyModel.S3_EXPRESS);
    world.metadata().setLatency(LatencyModel.FAST);
    TreeMap<String, List<NodeId>> hosts = new TreeMap<>();
    List<NodeId> spares = new ArrayList<>();
    if (spare) {
      world.addProcess("spare-1", env -> new io.s2j.channel.ChannelHost(env, ChannelKnobs.SMALL, io.s2j.channel.PlantedBug.NONE,
          channels::add)).start();
      spares.add(NodeId.of("spare-1"));
    }
    for (String c : channelIds) {
      startChannel(c);
      List<NodeId> ids = new ArrayList<>(List.of(NodeId.of(c + "-a")));
      ids.addAll(spares);
      hosts.put(c, ids);
    }
    ChannelDirectory directory = new ChannelDirectory(hosts);
    List<NodeId> copIds = new ArrayList<>();
    for (String n : List.of("cop-1", "cop-2")) {
      SimProcess p = world.addProcess(n, env -> {
        View<ChannelDirectory> view = View.of(directory);
        copDirectories.add(view);
        cops.add(new Cop(env, knobs, view, View.of(List.copyOf(spares)), io.s2j.channel.PlantedBug.NONE));
      });
      p.start();
      copProcesses.add(p);
      copIds.add(p.id());
    }
    frontendProcess = world.addProcess("fe-1", env -> {
      frontendEnv = env;
      catalog = new Catalog(env, Simulator.SECOND);
      frontendDirectory = View.of(directory);
      data = new DataPlane(env, catalog, frontendDirectory, io.s2j.channel.PlantedBug.NONE, io.s2j.cachey.CacheyClient.direct(env))
          .withActivator(new CopClient(env, copIds));
    });
    frontendProcess.start();
    world.simulator().runFor(2 * Simulator.SECOND);
    run(f -> catalog.createBasin(B, new BasinConfig(io.s2j.api.StreamConfigSpec.EMPTY, null, true, true), null));
  }

  private void startChannel(String c) {
    SimProcess p = world.addProcess(c + "-a", env -> channels.add(new Channel(env, c, channelKnobs)));
    p.start();
    channelProcesses.put(c, p);
  }

  private <T> T run(Function<Void, Promise<T>> op) {
    Promise<T> p = start(op);
    Simulator sim = world.simulator();
    sim.runUntil(p::isDone, sim.nowNanos() + 600 * Simulator.SECOND);
    assertNull(sim.failure());
    assertTrue(p.isDone());
    return p.value();
  }

  private <T> Promise<T> start(Function<Void, Promise<T>> op) {
    List<Promise<T>> holder = new ArrayList<>();
    world.simulator().runAs(frontendProcess.incarnation(), () -> holder.add(op.apply(null)));
    return holder.get(0);
  }

  private static AppendInput input(String body) {
    return new AppendInput(AppendBatch.validate(List.of(new AppendRecord(null, List.of(), ByteString.copyFromUtf8(body)))).orThrow(),
        null, null);
  }

  private List<Cop> acting() {
    List<Cop> out = new ArrayList<>();
    for (Cop c : cops) {
      if (c.role() == Cop.Role.ACTING) {
        out.add(c);
      }
    }
    return out;
  }

  private long copEpoch() throws Exception {
    return CopMeta.parseFrom(world.metadata().peek(MetaKey.cop()).orElseThrow().value()).getEpoch();
  }

  @Test
  void oneCopActsAndAStandbyTakesOverFromACrashedOne() throws Exception {
    cell(new CopKnobs(2_000, 500, 500, 1_500, 60_000, 2, 0.0));
    world.simulator().runFor(10 * Simulator.SECOND);
    List<Cop> acting = acting();
    assertEquals(1, acting.size(), "exactly one cop acts");
    assertEquals(1, copEpoch());
    int actingIndex = cops.indexOf(acting.get(0));
    copProcesses.get(actingIndex).crash();
    world.simulator().runFor(10 * Simulator.SECOND);
    Cop other = cops.get(1 - actingIndex);
    assertEquals(Cop.Role.ACTING, other.role(), "the standby took over");
    assertEquals(2, copEpoch());
    assertEquals(other.epoch(), copEpoch());
    copProcesses.get(actingIndex).start(); // the restarted one stays a standby
    world.simulator().runFor(10 * Simulator.SECOND);
    assertEquals(Cop.Role.STANDBY, cops.get(cops.size() - 1).role());
    assertEquals(2, copEpoch());
    // And activation works through whichever cop acts.
    Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName("after-takeover"), input("x")));
    assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + ack);
  }

  /**
   * SIGSTOP of the acting cop past its lease: the standby takes over while the paused one still
   * believes it acts (nothing of it ran); on SIGCONT its late renewal finds the epoch moved and it
   * steps down, and nothing it wrote meanwhile landed (the lease is the new cop's).
   */
  @Test
  void aPausedActingCopIsReplacedAndStepsDownWhenItResumes() throws Exception {
    cell(new CopKnobs(2_000, 500, 500, 1_500, 60_000, 2, 0.0));
    world.simulator().runFor(10 * Simulator.SECOND);
    List<Cop> acting = acting();
    assertEquals(1, acting.size(), "exactly one cop acts");
    Cop paused = acting.get(0);
    int pausedIndex = cops.indexOf(paused);
    Cop other = cops.get(1 - pausedIndex);
    SimProcess process = copProcesses.get(pausedIndex);
    assertTrue(process.pause());
    world.simulator().runFor(10 * Simulator.SECOND);
    assertEquals(Cop.Role.ACTING, other.role(), "the standby took over");
    assertEquals(2, copEpoch());
    assertEquals(Cop.Role.ACTING, paused.role(), "the stopped cop still believes it acts");
    assertTrue(process.resume());
    world.simulator().runFor(5 * Simulator.SECOND);
    assertEquals(Cop.Role.STANDBY, paused.role(), "its renewal after the pause found the epoch moved");
    assertEquals(List.of(other), acting());
    assertEquals(2, copEpoch());
    assertEquals(other.epoch(), CopMeta.parseFrom(world.metadata().peek(MetaKey.copLease()).orElseThrow().value()).getEpoch(),
        "the lease is the new cop's");
    Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName("after-pause"), input("x")));
    assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + ack);
  }

  /** A cell with a spare host, and two streams (acknowledged once each) whose channel is ch-1. */
  private List<String> cellWithSpareAndTwoStreamsOnCh1() throws Exception {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 600_000, 2, 0.0), true);
    world.simulator().runFor(5 * Simulator.SECOND);
    List<String> onCh1 = new ArrayList<>();
    for (int i = 0; onCh1.size() < 2 && i < 40; i++) {
      StreamName s = new StreamName("s-" + i);
      Outcome<AppendResult> ack = run(v -> data.append(B, s, input("before")));
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + ack);
      if (channelOf(s).equals("ch-1")) {
        onCh1.add(s.value());
      }
    }
    assertEquals(2, onCh1.size());
    return onCh1;
  }

  /**
   * SIGSTOP of a channel host past the dead-after time: the acting cop starts its channel on the
   * spare, which fences the log; on SIGCONT the stopped incarnation is a zombie that frontends
   * still reach first — appends to its streams are acknowledged after the resume all the same,
   * continuing the log, and the zombie ends fenced.
   */
  @Test
  void aPausedChannelIsTakenOverByASpareAndResumesFenced() throws Exception {
    List<String> onCh1 = cellWithSpareAndTwoStreamsOnCh1();
    SimProcess host = channelProcesses.get("ch-1");
    Channel zombie = channels.get(0); // ch-1-a booted first (the spare runs nothing yet)
    assertTrue(host.pause());
    world.simulator().runFor(10 * Simulator.SECOND);
    assertEquals(1, cops.stream().mapToLong(c -> c.counters().replacements()).sum(), "the acting cop started ch-1 on the spare");
    assertEquals(Channel.State.SERVING, zombie.state(), "the stopped incarnation has not noticed");
    assertTrue(host.resume());
    for (String name : onCh1) {
      Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName(name), input("after")));
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked after the resume: " + ack);
      assertEquals(1, ((AppendAck) ((Outcome.Ok<AppendResult>) ack).value()).start().seqNum(), "the log continued");
    }
    world.simulator().runFor(5 * Simulator.SECOND);
    assertEquals(Channel.State.FENCED, zombie.state(), "the resumed incarnation found itself fenced");
  }

  @Test
  void aDeadChannelIsReplacedOnASpareAndItsStreamsServeAgain() throws Exception {
    List<String> onCh1 = cellWithSpareAndTwoStreamsOnCh1();
    channelProcesses.get("ch-1").crash(); // for good: only a replacement can serve ch-1 now
    world.simulator().runFor(10 * Simulator.SECOND);
    long replacements = cops.stream().mapToLong(c -> c.counters().replacements()).sum();
    assertEquals(1, replacements, "the acting cop started ch-1 on the spare");
    for (String name : onCh1) {
      Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName(name), input("after")));
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked on the replacement: " + ack);
      assertEquals(1, ((AppendAck) ((Outcome.Ok<AppendResult>) ack).value()).start().seqNum(), "the replacement recovered the log");
    }
  }

  private String channelOf(StreamName s) throws Exception {
    long streamId = io.s2j.metadata.proto.StreamMeta.parseFrom(world.metadata().peek(MetaKey.stream(B.value(), s.value())).orElseThrow()
        .value()).getStreamId();
    return StreamletMeta.parseFrom(world.metadata().peek(MetaKey.streamlet(streamId, 0)).orElseThrow().value()).getChannelId();
  }

  /**
   * A channel that joins the running cell (scale-out): listed in the cops' views first, it is probed,
   * gets the new streams (it is the less loaded one) and streams migrated to it for balance; the
   * frontend, whose view does not list it yet, holds the append to it until its own view changes.
   */
  @Test
  void aChannelThatJoinsGetsStreamsAndMigrationsAndTheFrontendWaitsForItsViewToListIt() throws Exception {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 2_000, 2, 0.0), false, List.of("ch-1"));
    for (int i = 0; i < 6; i++) {
      int n = i;
      Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName("early-" + n), input("e" + n)));
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + ack);
      assertEquals("ch-1", channelOf(new StreamName("early-" + n)));
    }
    startChannel("ch-2");
    ChannelDirectory two = new ChannelDirectory(Map.of("ch-1", List.of(NodeId.of("ch-1-a")), "ch-2", List.of(NodeId.of("ch-2-a"))));
    for (int i = 0; i < cops.size(); i++) {
      View<ChannelDirectory> view = copDirectories.get(i);
      world.simulator().runAs(copProcesses.get(i).incarnation(), () -> assertTrue(view.update(two)));
    }
    world.simulator().runFor(Simulator.SECOND); // probes see ch-2 serving
    for (Cop c : cops) {
      assertEquals(1, c.channelsAdded());
      assertEquals(List.of("ch-1", "ch-2"), c.liveChannels());
    }
    // The cop puts a new stream on the idle ch-2; this frontend does not know ch-2 yet and waits.
    StreamName late = new StreamName("late-0");
    Promise<Outcome<AppendResult>> pending = start(v -> data.append(B, late, input("l0")));
    world.simulator().runFor(Simulator.SECOND);
    assertEquals("ch-2", channelOf(late));
    assertFalse(pending.isDone(), "the append waits for the frontend's view to list ch-2");
    world.simulator().runAs(frontendProcess.incarnation(), () -> assertTrue(frontendDirectory.update(two)));
    world.simulator().runUntil(pending::isDone, world.simulator().nowNanos() + 10 * Simulator.SECOND);
    assertTrue(pending.isDone() && pending.value() instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck,
        "acked on ch-2: " + pending);
    // Balance moves streams of ch-1 to ch-2 too (every 2 s while they differ by 2 or more).
    world.simulator().runFor(20 * Simulator.SECOND);
    assertNull(world.simulator().failure());
    long committed = cops.stream().mapToLong(c -> c.counters().migrationsCommitted()).sum();
    assertTrue(committed >= 2, "migrations to the new channel: " + committed);
    TreeMap<String, Integer> open = new TreeMap<>();
    for (KeyValue kv : world.metadata().entries()) {
      if (MetaKey.typeOf(kv.key()) == MetaKey.Type.STREAMLET) {
        StreamletMeta m = StreamletMeta.parseFrom(kv.value());
        if (!m.hasEndSeqNum()) {
          open.merge(m.getChannelId(), 1, Integer::sum);
        }
      }
    }
    assertEquals(7, open.values().stream().mapToInt(Integer::intValue).sum(), "open links: " + open);
    assertTrue(Math.abs(open.getOrDefault("ch-1", 0) - open.getOrDefault("ch-2", 0)) <= 1, "balanced: " + open);
    for (int i = 0; i < 6; i++) {
      int n = i;
      Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName("early-" + n), input("again")));
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck a && a.start().seqNum() == 1,
          "acked after the migrations: " + ack);
    }
  }

  /** A frontend that never learns of the channel a stream was put on fails the append definitely after its bound. */
  @Test
  void anAppendToAChannelTheFrontendNeverLearnsOfFailsDefinitely() throws Exception {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 600_000, 2, 0.0), false, List.of("ch-1"));
    Outcome<AppendResult> first = run(v -> data.append(B, new StreamName("early"), input("e")));
    assertTrue(first instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + first);
    startChannel("ch-2");
    ChannelDirectory two = new ChannelDirectory(Map.of("ch-1", List.of(NodeId.of("ch-1-a")), "ch-2", List.of(NodeId.of("ch-2-a"))));
    for (int i = 0; i < cops.size(); i++) {
      View<ChannelDirectory> view = copDirectories.get(i);
      world.simulator().runAs(copProcesses.get(i).incarnation(), () -> view.update(two));
    }
    world.simulator().runFor(Simulator.SECOND);
    StreamName late = new StreamName("late");
    Outcome<AppendResult> ack = run(v -> data.append(B, late, input("l")));
    assertEquals("ch-2", channelOf(late));
    assertTrue(ack instanceof Outcome.Failed<AppendResult> f && !f.indefinite(), "failed definitely: " + ack);
  }

  @Test
  void activationSpreadsStreamsOverTheChannels() {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 600_000, 2, 0.0));
    world.simulator().runFor(2 * Simulator.SECOND);
    for (int i = 0; i < 20; i++) {
      int n = i;
      Outcome<AppendResult> ack = run(v -> data.append(B, new StreamName("s-" + n), input("r" + n)));
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + ack);
      world.simulator().runFor(400 * Simulator.MS); // a probe sees the load between activations
    }
    TreeMap<String, Integer> perChannel = new TreeMap<>();
    for (KeyValue kv : world.metadata().entries()) {
      if (MetaKey.typeOf(kv.key()) == MetaKey.Type.STREAMLET) {
        try {
          perChannel.merge(StreamletMeta.parseFrom(kv.value()).getChannelId(), 1, Integer::sum);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new AssertionError(e);
        }
      }
    }
    assertEquals(20, perChannel.values().stream().mapToInt(Integer::intValue).sum());
    // Power of two choices on load: with two channels it is "the less loaded one", so 10 and 10 give or take one.
    assertTrue(Math.abs(perChannel.getOrDefault("ch-1", 0) - perChannel.getOrDefault("ch-2", 0)) <= 2, "spread: " + perChannel);
  }

  @Test
  void rollingMigrationsKeepAppendsInOrderAndATailingReaderSeamless() {
    rollingMigrations(true);
    assertTrue(data.speculativeAppends() > 0, "appends followed announced links");
    // An append that meets the seal goes to the announced link at once and is acknowledged once the
    // commit is read there, instead of waiting for the commit, a chain lookup and the new link's
    // first chunk (with speculation off the same appends take 29-31 ms).
    assertTrue(crossingMs.get((crossingMs.size() - 1) / 2) < 20, "appends across a seal: " + crossingMs);
  }

  /** The same with speculation off: frontends wait for the commit and read the chain again. */
  @Test
  void rollingSealedMigrationsKeepAppendsInOrderAndATailingReaderSeamless() {
    channelKnobs = ChannelKnobs.SMALL.withSpeculativeMigration(false);
    rollingMigrations(false);
    assertEquals(0, data.speculativeAppends(), "no link is announced");
  }

  /**
   * An append session pipelining inputs while the stream migrates again and again: a sealed link
   * does not end it — the inputs the seal refused are sent again, in order, to the next link — so
   * every input is acknowledged, the acks follow each other, and the records are in input order.
   */
  @Test
  void anAppendSessionFollowsRollingMigrations() {
    long resent = appendSessionAcrossMigrations(4, 10);
    assertTrue(resent > 0, "inputs refused by a seal were sent again");
  }

  /**
   * A session whose inputs come one at a time with pauses between them: a migration lands while
   * nothing is in flight, so the next input resolves the new link at once and must reach its
   * channel as the first input of a session id there (not as index k of one that channel never
   * saw, which it would hold for predecessors and then refuse).
   */
  @Test
  void aSparseAppendSessionMovesToTheNextLinkBetweenInputs() {
    appendSessionAcrossMigrations(1, 1_200); // longer than the frontend's stream cache (1 s here)
  }

  /** Appends through one session for 20 s of rolling migrations; returns the inputs re-sent. */
  private long appendSessionAcrossMigrations(int inFlight, long pauseMs) {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 700, 1, 1.0));
    StreamName s = new StreamName("session-migrating");
    Outcome<AppendResult> first = run(v -> data.append(B, s, input("s-0")));
    assertTrue(first instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + first);
    io.s2j.frontend.AppendSession session = start(v -> Promise.completed(frontendProcess.incarnation().scheduler(),
        data.openAppendSession(B, s))).value();
    List<Promise<Outcome<AppendResult>>> results = new ArrayList<>();
    int n = 1;
    long until = world.simulator().nowNanos() + 20 * Simulator.SECOND;
    while (world.simulator().nowNanos() < until) {
      for (int i = 0; i < inFlight; i++) {
        int k = n++;
        results.add(start(v -> session.submit(input("s-" + k))));
      }
      world.simulator().runFor(pauseMs * Simulator.MS);
    }
    Promise<Outcome<AppendResult>> last = results.get(results.size() - 1);
    world.simulator().runUntil(last::isDone, world.simulator().nowNanos() + 60 * Simulator.SECOND);
    assertNull(world.simulator().failure());
    long previousEnd = 1;
    for (int i = 0; i < results.size(); i++) {
      Promise<Outcome<AppendResult>> r = results.get(i);
      assertTrue(r.isDone(), "input " + (i + 1) + " answered");
      assertTrue(r.value() instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck,
          "input " + (i + 1) + ": " + r.value());
      AppendAck a = (AppendAck) ((Outcome.Ok<AppendResult>) r.value()).value();
      assertEquals(previousEnd, a.start().seqNum(), "acks follow each other across migrations");
      previousEnd = a.end().seqNum();
    }
    long links = world.metadata().entries().stream().filter(kv -> MetaKey.typeOf(kv.key()) == MetaKey.Type.STREAMLET).count();
    assertTrue(links >= 5, "the stream migrated several times: " + links + " links");
    List<SequencedRecord> all = new ArrayList<>();
    while (all.size() < n) { // unary reads answer at most 1,000 records
      long from = all.size();
      Outcome<ReadResult> read = run(v -> data.read(B, s, new ReadFrom.SeqNum(from), false, new ReadEnd(null, null, null, 0L)));
      List<SequencedRecord> page = ((ReadResult.Batch) ((Outcome.Ok<ReadResult>) read).value()).records();
      assertFalse(page.isEmpty(), "records from " + from);
      all.addAll(page);
    }
    assertEquals(n, all.size());
    for (int i = 0; i < all.size(); i++) {
      assertEquals(i, all.get(i).seqNum());
      assertEquals("s-" + i, all.get(i).body().toStringUtf8(), "record " + i);
    }
    System.out.printf(java.util.Locale.ROOT, "append session across %d links: %d inputs acknowledged, %d re-sent after a seal%n",
        links, results.size(), data.sessionResends());
    return data.sessionResends();
  }

  /** Latencies of the appends that met a sealed link in {@link #rollingMigrations}, in virtual ms. */
  private final List<Long> crossingMs = new ArrayList<>();

  private List<Long> rollingMigrations(boolean speculative) {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 700, 1, 1.0));
    StreamName s = new StreamName("migrating");
    Outcome<AppendResult> first = run(v -> data.append(B, s, input("b-0")));
    assertTrue(first instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck);
    List<SequencedRecord> seen = new ArrayList<>();
    List<ReadSession.Event> ends = new ArrayList<>();
    start(v -> {
      data.openSession(B, s, new ReadFrom.SeqNum(0), false, new ReadEnd(null, null, null, null), e -> {
        if (e instanceof ReadSession.Batch b) {
          seen.addAll(b.records());
        } else if (!(e instanceof ReadSession.Heartbeat)) {
          ends.add(e);
        }
      });
      return Promise.completed(frontendProcess.incarnation().scheduler(), null);
    });
    long previousEnd = 1;
    int n = 1;
    long until = world.simulator().nowNanos() + 20 * Simulator.SECOND;
    crossingMs.clear();
    while (world.simulator().nowNanos() < until) {
      int k = n++;
      long metBefore = data.sealedRetries() + data.speculativeAppends();
      long invoked = world.simulator().nowNanos();
      Outcome<AppendResult> ack = run(v -> data.append(B, s, input("b-" + k)));
      if (data.sealedRetries() + data.speculativeAppends() > metBefore) {
        crossingMs.add((world.simulator().nowNanos() - invoked) / Simulator.MS); // this append met a seal
      }
      assertTrue(ack instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "append " + k + ": " + ack);
      AppendAck a = (AppendAck) ((Outcome.Ok<AppendResult>) ack).value();
      assertEquals(previousEnd, a.start().seqNum(), "acks follow each other across migrations");
      previousEnd = a.end().seqNum();
      world.simulator().runFor(20 * Simulator.MS);
    }
    world.simulator().runFor(3 * Simulator.SECOND);
    long links = world.metadata().entries().stream().filter(kv -> MetaKey.typeOf(kv.key()) == MetaKey.Type.STREAMLET).count();
    assertTrue(links >= 5, "the stream migrated several times: " + links + " links");
    assertTrue(ends.isEmpty(), "the session still follows: " + ends);
    assertEquals(n, seen.size(), "the tailing reader saw every record once");
    for (int i = 0; i < seen.size(); i++) {
      assertEquals(i, seen.get(i).seqNum());
      assertEquals("b-" + i, seen.get(i).body().toStringUtf8());
    }
    // A catch-up read from 0 walks the whole chain.
    long count = n;
    Outcome<ReadResult> read = run(v -> data.read(B, s, new ReadFrom.SeqNum(0), false, new ReadEnd(count, null, null, 0L)));
    List<SequencedRecord> all = ((ReadResult.Batch) ((Outcome.Ok<ReadResult>) read).value()).records();
    assertEquals(seen, all);
    Outcome<io.s2j.record.StreamPosition> tail = run(v -> data.checkTail(B, s));
    assertEquals(n, ((Outcome.Ok<io.s2j.record.StreamPosition>) tail).value().seqNum());
    // Pauses without faults: from each seal to the first append acknowledged on the new link (the
    // client appends back to back, so one is always waiting).
    TreeMap<Long, Long> sealed = new TreeMap<>();
    TreeMap<Long, Long> firstAck = new TreeMap<>();
    for (Channel c : channels) {
      c.migrationsSealedNanos().forEach((id, t) -> sealed.merge(id, t, Math::min));
      c.firstAckNanos().forEach((id, t) -> firstAck.merge(id, t, Math::min));
    }
    List<Long> pausesMs = new ArrayList<>();
    sealed.forEach((id, t) -> {
      if (firstAck.containsKey(id)) {
        pausesMs.add((firstAck.get(id) - t) / Simulator.MS);
      }
    });
    java.util.Collections.sort(pausesMs);
    assertTrue(pausesMs.size() >= 4, "pauses measured: " + pausesMs);
    System.out.printf(java.util.Locale.ROOT,
        "fault-free migration pauses, speculation %s (virtual ms, %d migrations, %d speculative appends): p50=%d max=%d all=%s%n",
        speculative ? "on" : "off", pausesMs.size(), data.speculativeAppends(), pausesMs.get((pausesMs.size() - 1) / 2),
        pausesMs.get(pausesMs.size() - 1), pausesMs);
    java.util.Collections.sort(crossingMs);
    System.out.printf(java.util.Locale.ROOT,
        "append latency across a seal, speculation %s (virtual ms, %d appends): p50=%d max=%d all=%s%n", speculative ? "on" : "off",
        crossingMs.size(), crossingMs.get((crossingMs.size() - 1) / 2), crossingMs.get(crossingMs.size() - 1), crossingMs);
    return pausesMs;
  }

  /**
   * A terminal trim (bgtask's deletion or delete-on-empty) retires its streamlet: a migration of it
   * must be refused, or the next link — which knows nothing of the terminal trim — accepts appends
   * after it (S2-API §12.2, case 163). The sweep found it (cell seeds 23, 151): a delete-on-empty
   * whose ack was lost was never marked, and the owner's next append was acknowledged past it.
   */
  @Test
  void aStreamletHoldingATerminalTrimIsNotMigrated() throws Exception {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 600_000, 2, 0.0));
    StreamName s = new StreamName("doomed");
    Outcome<AppendResult> first = run(v -> data.append(B, s, input("a")));
    assertTrue(first instanceof Outcome.Ok<AppendResult> ok && ok.value() instanceof AppendAck, "acked: " + first);
    io.s2j.metadata.proto.StreamMeta meta = io.s2j.metadata.proto.StreamMeta.parseFrom(
        world.metadata().peek(MetaKey.stream(B.value(), s.value())).orElseThrow().value());
    KeyValue linkKv = world.metadata().peek(MetaKey.streamlet(meta.getStreamId(), 0)).orElseThrow();
    StreamletMeta link = StreamletMeta.parseFrom(linkKv.value());
    NodeId source = NodeId.of(link.getChannelId() + "-a");
    String target = link.getChannelId().equals("ch-1") ? "ch-2" : "ch-1";

    // bgtask's terminal trim, as it sends it.
    io.s2j.record.AppendRecord trim = io.s2j.record.Command.toRecord(new io.s2j.record.Command.Trim(-1L));
    io.s2j.channel.proto.AppendRequest terminal = io.s2j.channel.proto.AppendRequest.newBuilder()
        .setStreamlet(io.s2j.channel.ChannelRpc.linkRef(meta.getStreamId(), 0, link,
            io.s2j.api.ConfigProtos.resolvedFromProto(meta.getConfig()), null))
        .addRecords(io.s2j.channel.ChannelRpc.toProto(trim)).setTerminalTrim(true).build();
    io.s2j.channel.proto.AppendResponse trimmed = run(v -> frontendEnv.network().call(source, io.s2j.channel.ChannelRpc.APPEND, terminal,
        Simulator.SECOND));
    assertTrue(trimmed.hasAck(), "the terminal trim is acknowledged: " + trimmed);
    assertEquals(1, trimmed.getAck().getStart().getSeqNum());

    // The cop's migration request for it, with the cop's current epoch value.
    io.s2j.channel.proto.MigrateRequest migrate = io.s2j.channel.proto.MigrateRequest.newBuilder()
        .setStreamlet(io.s2j.channel.ChannelRpc.linkRef(meta.getStreamId(), 0, link, null, null))
        .setLinkRevision(linkKv.modRevision()).setNewStreamletId(424242).setNewChannelId(target)
        .setCopValue(world.metadata().peek(MetaKey.cop()).orElseThrow().value()).build();
    io.s2j.channel.proto.MigrateResponse moved = run(v -> frontendEnv.network().call(source, io.s2j.channel.ChannelRpc.MIGRATE, migrate,
        Simulator.SECOND));
    assertTrue(moved.hasError() && !moved.hasSealedAt(), "a deleting streamlet is not migrated: " + moved);
    world.simulator().runFor(Simulator.SECOND);
    assertTrue(world.metadata().peek(MetaKey.streamlet(meta.getStreamId(), 1)).isEmpty(), "no next link");
    assertTrue(!StreamletMeta.parseFrom(world.metadata().peek(MetaKey.streamlet(meta.getStreamId(), 0)).orElseThrow().value())
        .hasEndSeqNum(), "the link is not sealed");

    // Every later append fails: the stream is being deleted (case 163).
    Outcome<AppendResult> after = run(v -> data.append(B, s, input("b")));
    assertTrue(after instanceof Outcome.Failed<AppendResult> f && f.error().code() == io.s2j.api.ErrorCode.STREAM_DELETION_PENDING,
        "refused as being deleted: " + after);
  }

  // ---------------------------------------------------------------- speculation, the target's side

  /** A stream with one acknowledged record on its first link, and what a speculative append to a next link needs. */
  private record Announced(io.s2j.metadata.proto.StreamMeta stream, KeyValue link0, StreamletMeta first, NodeId source, NodeId target,
      io.s2j.channel.proto.StreamletRef next) {}

  private Announced announce(String name, long newStreamletId) throws Exception {
    cell(new CopKnobs(2_000, 500, 300, 1_500, 600_000, 2, 0.0));
    StreamName s = new StreamName(name);
    Outcome<AppendResult> first = run(v -> data.append(B, s, input("a")));
    AppendAck ack = (AppendAck) ((Outcome.Ok<AppendResult>) first).value();
    io.s2j.metadata.proto.StreamMeta meta = io.s2j.metadata.proto.StreamMeta.parseFrom(
        world.metadata().peek(MetaKey.stream(B.value(), s.value())).orElseThrow().value());
    KeyValue linkKv = world.metadata().peek(MetaKey.streamlet(meta.getStreamId(), 0)).orElseThrow();
    StreamletMeta link = StreamletMeta.parseFrom(linkKv.value());
    String target = link.getChannelId().equals("ch-1") ? "ch-2" : "ch-1";
    StreamletMeta nextLink = StreamletMeta.newBuilder().setStreamletId(newStreamletId).setChannelId(target)
        .setStartSeqNum(ack.end().seqNum()).setStartTimestamp(ack.end().timestamp()).build();
    io.s2j.channel.proto.StreamletRef next = io.s2j.channel.ChannelRpc.linkRef(meta.getStreamId(), 1, nextLink,
            io.s2j.api.ConfigProtos.resolvedFromProto(meta.getConfig()), null).toBuilder()
        .setSpeculative(true).setPrevLinkRevision(linkKv.modRevision()).build();
    return new Announced(meta, linkKv, link, NodeId.of(link.getChannelId() + "-a"), NodeId.of(target + "-a"), next);
  }

  private Promise<io.s2j.channel.proto.AppendResponse> speculativeAppend(Announced a, String body) {
    io.s2j.channel.proto.AppendRequest request = io.s2j.channel.proto.AppendRequest.newBuilder().setStreamlet(a.next())
        .addRecords(io.s2j.channel.ChannelRpc.toProto(new AppendRecord(null, List.of(), ByteString.copyFromUtf8(body)))).build();
    return start(v -> frontendEnv.network().call(a.target(), io.s2j.channel.ChannelRpc.APPEND, request, 30 * Simulator.SECOND));
  }

  /** What the source's migration commit writes: link 0 sealed where link 1 (the announced one) starts. */
  private void commitNextLink(Announced a) {
    StreamletMeta sealed = a.first().toBuilder().setEndSeqNum(a.next().getStart().getSeqNum()).build();
    StreamletMeta next = StreamletMeta.newBuilder().setStreamletId(a.next().getStreamletId()).setChannelId(a.next().getChannelId())
        .setStartSeqNum(a.next().getStart().getSeqNum()).setStartTimestamp(a.next().getStart().getTimestamp()).build();
    io.s2j.runtime.metadata.TxnResult r = run(v -> frontendEnv.metadataStore().commit(io.s2j.runtime.metadata.Txn.builder()
        .ifRevision(a.link0().key(), a.link0().modRevision())
        .put(a.link0().key(), sealed.toByteString())
        .put(MetaKey.streamlet(a.stream().getStreamId(), 1), next.toByteString()).build()));
    assertTrue(r instanceof io.s2j.runtime.metadata.TxnResult.Committed, "committed: " + r);
  }

  @Test
  void aSpeculativeAppendIsAcknowledgedOnlyOnceItsLinkIsCommitted() throws Exception {
    Announced a = announce("held", 777_001);
    Promise<io.s2j.channel.proto.AppendResponse> response = speculativeAppend(a, "b");
    world.simulator().runFor(2 * Simulator.SECOND);
    assertTrue(!response.isDone(), "held while the link is not committed: " + (response.isDone() ? response.value() : ""));
    commitNextLink(a);
    world.simulator().runUntil(response::isDone, world.simulator().nowNanos() + 2 * Simulator.SECOND);
    assertTrue(response.isDone() && response.value().hasAck(), "acknowledged once the link is read: " + response.value());
    assertEquals(1, response.value().getAck().getStart().getSeqNum(), "sequenced from the announced start");
    // The chain now reaches it: a read from 0 sees both records, in order.
    Outcome<ReadResult> read = run(v -> data.read(B, new StreamName("held"), new ReadFrom.SeqNum(0), false, new ReadEnd(2L, null, null, 0L)));
    List<SequencedRecord> all = ((ReadResult.Batch) ((Outcome.Ok<ReadResult>) read).value()).records();
    assertEquals(List.of("a", "b"), all.stream().map(r -> r.body().toStringUtf8()).toList());
  }

  @Test
  void aSpeculationThatCanNeverCommitIsDiscardedAndItsAppendFailsDefinitely() throws Exception {
    Announced a = announce("abandoned", 777_002);
    Promise<io.s2j.channel.proto.AppendResponse> response = speculativeAppend(a, "lost");
    world.simulator().runFor(Simulator.SECOND);
    assertTrue(!response.isDone(), "held");
    // What a source that gives up does: link 0 rewritten unchanged, so no commit guarded by its old revision can land.
    io.s2j.runtime.metadata.TxnResult r = run(v -> frontendEnv.metadataStore().commit(io.s2j.runtime.metadata.Txn.builder()
        .ifRevision(a.link0().key(), a.link0().modRevision()).put(a.link0().key(), a.link0().value()).build()));
    assertTrue(r instanceof io.s2j.runtime.metadata.TxnResult.Committed);
    world.simulator().runUntil(response::isDone, world.simulator().nowNanos() + 2 * Simulator.SECOND);
    assertTrue(response.isDone() && response.value().hasError(), "refused: " + response.value());
    assertTrue(response.value().getError().getSealed() && !response.value().getError().getIndefinite(),
        "definitely, and the frontend reads the chain again: " + response.value());
    // Its record is garbage: the stream goes on from 1 on its first link.
    Outcome<AppendResult> next = run(v -> data.append(B, new StreamName("abandoned"), input("c")));
    assertEquals(1, ((AppendAck) ((Outcome.Ok<AppendResult>) next).value()).start().seqNum());
    // And the discarded streamlet refuses a late speculative append.
    Promise<io.s2j.channel.proto.AppendResponse> late = speculativeAppend(a, "late");
    world.simulator().runUntil(late::isDone, world.simulator().nowNanos() + 2 * Simulator.SECOND);
    assertTrue(late.value().hasError() && late.value().getError().getSealed(), "refused: " + late.value());
  }

  @Test
  void aSpeculationLeftUndecidedIsEndedByTheTarget() throws Exception {
    Announced a = announce("undecided", 777_003);
    long sent = world.simulator().nowNanos();
    Promise<io.s2j.channel.proto.AppendResponse> response = speculativeAppend(a, "never");
    world.simulator().runUntil(response::isDone, world.simulator().nowNanos() + 10 * Simulator.SECOND);
    // Nobody commits: after its limit the target moves link 0 on itself, so the commit can never land.
    assertTrue(response.isDone() && response.value().hasError() && response.value().getError().getSealed()
        && !response.value().getError().getIndefinite(), "refused definitely: " + response.value());
    assertTrue(world.simulator().nowNanos() - sent >= 4 * Simulator.SECOND, "not before the limit");
    KeyValue link0 = world.metadata().peek(a.link0().key()).orElseThrow();
    assertTrue(link0.modRevision() != a.link0().modRevision(), "link 0 rewritten");
    assertEquals(a.link0().value(), link0.value(), "unchanged");
    // A late commit guarded by the old revision fails; the stream goes on from 1 on its first link.
    io.s2j.runtime.metadata.TxnResult late = run(v -> frontendEnv.metadataStore().commit(io.s2j.runtime.metadata.Txn.builder()
        .ifRevision(a.link0().key(), a.link0().modRevision()).put(a.link0().key(), a.link0().value()).build()));
    assertTrue(!(late instanceof io.s2j.runtime.metadata.TxnResult.Committed), "the old revision is gone: " + late);
    Outcome<AppendResult> next = run(v -> data.append(B, new StreamName("undecided"), input("c")));
    assertEquals(1, ((AppendAck) ((Outcome.Ok<AppendResult>) next).value()).start().seqNum());
  }

  @Test
  void aRestartedTargetServesASpeculativeStreamletOnlyOnceItsLinkIsCommitted() throws Exception {
    Announced a = announce("restarted", 777_004);
    Promise<io.s2j.channel.proto.AppendResponse> first = speculativeAppend(a, "b");
    world.simulator().runFor(Simulator.SECOND); // durable in the target's log, its ack held
    assertTrue(!first.isDone());
    SimProcess target = channelProcesses.get(a.next().getChannelId());
    target.crash();
    target.start();
    world.simulator().runFor(3 * Simulator.SECOND);
    // The new incarnation recovered the streamlet from its log; it must not ack on it before the proof.
    Promise<io.s2j.channel.proto.AppendResponse> second = speculativeAppend(a, "c");
    world.simulator().runFor(Simulator.SECOND);
    assertTrue(!second.isDone(), "held by the new incarnation too: " + (second.isDone() ? second.value() : ""));
    commitNextLink(a);
    world.simulator().runUntil(second::isDone, world.simulator().nowNanos() + 2 * Simulator.SECOND);
    assertTrue(second.value().hasAck(), "acknowledged after the commit: " + second.value());
    assertEquals(2, second.value().getAck().getStart().getSeqNum(), "after the recovered record");
  }
}
