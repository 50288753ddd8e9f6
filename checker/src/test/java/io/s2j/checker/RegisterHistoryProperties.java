package io.s2j.checker;

import io.s2j.checker.jepsen.CasRegisterModel;
import io.s2j.checker.jepsen.JepsenEdn;
import io.s2j.checker.jepsen.JepsenEvent;
import io.s2j.checker.jepsen.JepsenHistory;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;

/**
 * Histories made by running one sequential register under random interleavings of concurrent
 * clients are linearizable by construction (each operation takes effect atomically between its
 * invocation and completion); corrupting one read to a value never written makes them not.
 */
class RegisterHistoryProperties {
  static final CasRegisterModel MODEL = new CasRegisterModel();
  static final long NEVER_WRITTEN = 999;

  /** What a client process is doing. */
  private static final class Client {
    JepsenEvent invoke; // null when idle
    boolean applied;
    Object result; // the read value, or whether the cas matched
  }

  /**
   * Interprets {@code choices}: each picks a process and an action for it (invoke a new
   * operation, apply its pending one to the register, or complete it), sometimes crashing the
   * client before or after the effect ({@code :info}). Clients still busy at the end never
   * complete.
   */
  static List<JepsenEvent> run(int processes, List<Integer> choices) {
    Object register = null;
    Client[] clients = new Client[processes];
    for (int p = 0; p < processes; p++) {
      clients[p] = new Client();
    }
    List<JepsenEvent> events = new ArrayList<>();
    for (int choice : choices) {
      int p = choice % processes;
      int r = choice / processes;
      Client c = clients[p];
      if (c.invoke == null) {
        JepsenEvent invoke = switch (r % 3) {
          case 0 -> event(events, p, JepsenEvent.Type.INVOKE, "read", null);
          case 1 -> event(events, p, JepsenEvent.Type.INVOKE, "write", (long) (r / 3 % 5));
          default -> event(events, p, JepsenEvent.Type.INVOKE, "cas",
              List.of((long) (r / 3 % 5), (long) (r / 15 % 5)));
        };
        c.invoke = invoke;
        c.applied = false;
      } else if (!c.applied && r % 8 == 7) {
        event(events, p, JepsenEvent.Type.INFO, c.invoke.f(), c.invoke.value()); // crashed, no effect
        c.invoke = null;
      } else if (!c.applied) {
        switch (c.invoke.f()) {
          case "read" -> c.result = register;
          case "write" -> register = c.invoke.value();
          default -> {
            List<?> fromTo = (List<?>) c.invoke.value();
            c.result = Objects.equals(register, fromTo.get(0));
            if ((Boolean) c.result) {
              register = fromTo.get(1);
            }
          }
        }
        c.applied = true;
      } else {
        if (r % 8 == 7) {
          event(events, p, JepsenEvent.Type.INFO, c.invoke.f(), c.invoke.value()); // took effect, unknown
        } else if (c.invoke.f().equals("read")) {
          event(events, p, JepsenEvent.Type.OK, "read", c.result);
        } else if (c.invoke.f().equals("cas") && !(Boolean) c.result) {
          event(events, p, JepsenEvent.Type.FAIL, "cas", c.invoke.value());
        } else {
          event(events, p, JepsenEvent.Type.OK, c.invoke.f(), c.invoke.value());
        }
        c.invoke = null;
      }
    }
    return events;
  }

  private static JepsenEvent event(List<JepsenEvent> events, long process, JepsenEvent.Type type, String f, Object value) {
    JepsenEvent e = new JepsenEvent(events.size(), process, type, f, null, value, null);
    events.add(e);
    return e;
  }

  @Property(tries = 300)
  void sequentialRegisterUnderInterleavingsIsLinearizable(
      @ForAll @IntRange(min = 1, max = 5) int processes,
      @ForAll @Size(min = 10, max = 120) List<@IntRange(min = 0, max = 100_000) Integer> choices) {
    List<Operation> history = JepsenHistory.operations(run(processes, choices));
    CheckResult r = Linearizability.check(MODEL, history);
    if (r.verdict() != Verdict.LINEARIZABLE) {
      throw new AssertionError(r.verdict() + ": " + r.explanation());
    }
  }

  @Property(tries = 300)
  void aReadOfANeverWrittenValueIsNeverLinearizable(
      @ForAll @IntRange(min = 1, max = 5) int processes,
      @ForAll @Size(min = 10, max = 120) List<@IntRange(min = 0, max = 100_000) Integer> choices,
      @ForAll @IntRange(min = 0, max = 1000) int which) {
    List<JepsenEvent> events = run(processes, choices);
    List<Integer> okReads = new ArrayList<>();
    for (JepsenEvent e : events) {
      if (e.type() == JepsenEvent.Type.OK && e.f().equals("read")) {
        okReads.add(e.position());
      }
    }
    Assume.that(!okReads.isEmpty());
    int corrupt = okReads.get(which % okReads.size());
    JepsenEvent e = events.get(corrupt);
    events.set(corrupt, new JepsenEvent(e.position(), e.process(), e.type(), e.f(), e.key(), NEVER_WRITTEN, e.time()));
    // through the printer and reader too, so the property covers the EDN path
    StringBuilder edn = new StringBuilder();
    events.forEach(ev -> edn.append(JepsenEdn.print(ev)).append('\n'));
    List<Operation> history = JepsenHistory.operations(JepsenEdn.read(new StringReader(edn.toString())));
    CheckResult r = Linearizability.check(MODEL, history);
    if (r.verdict() != Verdict.NOT_LINEARIZABLE) {
      throw new AssertionError(r.verdict() + ": " + r.explanation() + "\n" + edn);
    }
    if (r.unplaced().isEmpty()) {
      throw new AssertionError("no unplaced operations named: " + r.explanation());
    }
  }

  /**
   * On small histories whose reads return arbitrary values (so either verdict happens), the
   * checker agrees with a brute-force search over every order of every subset that keeps all
   * definite operations and respects real time.
   */
  @Property(tries = 500)
  @StatisticsReport(onFailureOnly = true)
  void agreesWithBruteForceOnSmallHistories(
      @ForAll @IntRange(min = 1, max = 4) int processes,
      @ForAll @Size(max = 22) List<@IntRange(min = 0, max = 100_000) Integer> choices,
      @ForAll @Size(max = 22) List<@IntRange(min = 0, max = 6) Integer> readValues) {
    List<JepsenEvent> events = run(processes, choices);
    for (int i = 0, k = 0; i < events.size(); i++) {
      JepsenEvent e = events.get(i);
      if (e.type() == JepsenEvent.Type.OK && e.f().equals("read") && k < readValues.size()) {
        int v = readValues.get(k++);
        Object value = v >= 5 ? e.value() : v == 4 ? null : (Object) (long) v; // keep some reads honest
        events.set(i, new JepsenEvent(e.position(), e.process(), e.type(), e.f(), e.key(), value, e.time()));
      }
    }
    List<Operation> history = JepsenHistory.operations(events);
    boolean expected = bruteForce(history, new boolean[history.size()], MODEL.init());
    CheckResult r = Linearizability.check(MODEL, history);
    Verdict want = expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE;
    Statistics.collect(want);
    if (r.verdict() != want) {
      StringBuilder edn = new StringBuilder();
      events.forEach(ev -> edn.append(JepsenEdn.print(ev)).append('\n'));
      throw new AssertionError("brute force says " + want + ", checker " + r.verdict() + ": " + r.explanation() + "\n" + edn);
    }
    // both verdicts must be common, or the comparison says little
    Statistics.coverage(c -> {
      c.check(Verdict.LINEARIZABLE).percentage(pct -> pct > 10);
      c.check(Verdict.NOT_LINEARIZABLE).percentage(pct -> pct > 10);
    });
  }

  static boolean bruteForce(List<Operation> ops, boolean[] placed, CasRegisterModel.Register state) {
    boolean definiteLeft = false;
    for (int i = 0; i < ops.size(); i++) {
      definiteLeft |= !placed[i] && !ops.get(i).indefinite();
    }
    if (!definiteLeft) {
      return true;
    }
    for (int i = 0; i < ops.size(); i++) {
      if (placed[i] || !predecessorsPlaced(ops, placed, i)) {
        continue;
      }
      CasRegisterModel.Register next = MODEL.step(state, ops.get(i));
      if (next != null) {
        placed[i] = true;
        boolean ok = bruteForce(ops, placed, next);
        placed[i] = false;
        if (ok) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean predecessorsPlaced(List<Operation> ops, boolean[] placed, int i) {
    for (int j = 0; j < ops.size(); j++) {
      if (!placed[j] && ops.get(j).completeTime() < ops.get(i).invokeTime()) {
        return false;
      }
    }
    return true;
  }
}
