package io.s2j.checker.jepsen;

import io.s2j.checker.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a Jepsen history's client ops into {@link Operation}s, and back.
 *
 * <p>Each {@code :invoke} pairs with the next {@code :ok}/{@code :fail}/{@code :info} of the same
 * {@code :process}: {@code :ok} is a completed operation (input from the invocation, output the
 * completion's {@code :value}); {@code :fail} did not happen and is dropped; {@code :info}, and an
 * invocation that never completes, is indefinite. Virtual time is the op's position among the
 * client ops, or its {@code :time} when every client op has one. An operation's id is the
 * position of its invocation.
 */
public final class JepsenHistory {
  private JepsenHistory() {}

  /** The operations of {@code events}, in invocation order. */
  public static List<Operation> operations(List<JepsenEvent> events) {
    boolean timed = !events.isEmpty() && events.stream().allMatch(e -> e.time() != null);
    Map<Long, JepsenEvent> open = new LinkedHashMap<>();
    List<Operation> ops = new ArrayList<>();
    for (JepsenEvent e : events) {
      long time = timed ? e.time() : e.position();
      if (e.type() == JepsenEvent.Type.INVOKE) {
        JepsenEvent earlier = open.put(e.process(), e);
        if (earlier != null) {
          throw new IllegalArgumentException("process " + e.process() + " invokes at op " + e.position()
              + " while its invocation at op " + earlier.position() + " is still open");
        }
        continue;
      }
      JepsenEvent invoke = open.remove(e.process());
      if (invoke == null) {
        if (e.type() == JepsenEvent.Type.INFO) {
          continue; // an :info with no invocation carries nothing to check (Jepsen logs some)
        }
        throw new IllegalArgumentException("op " + e.position() + " (" + JepsenEdn.print(e)
            + ") completes an operation process " + e.process() + " never invoked");
      }
      if (!invoke.f().equals(e.f())) {
        throw new IllegalArgumentException("op " + e.position() + " completes :" + e.f() + " but process "
            + e.process() + " invoked :" + invoke.f() + " at op " + invoke.position());
      }
      if (!Objects.equals(invoke.key(), e.key()) && e.key() != null) {
        throw new IllegalArgumentException("op " + e.position() + " completes key " + JepsenEdn.print(e.key())
            + " but the invocation at op " + invoke.position() + " was for " + JepsenEdn.print(invoke.key()));
      }
      long invokeTime = timed ? invoke.time() : invoke.position();
      JepsenCall call = new JepsenCall(invoke.f(), invoke.key(), invoke.value());
      switch (e.type()) {
        case OK -> ops.add(new Operation(invoke.position(), e.process(), invokeTime, time, call, e.value(), false));
        case INFO -> ops.add(indefinite(invoke, invokeTime, call));
        case FAIL -> { } // definitely did not happen
        case INVOKE -> throw new IllegalStateException("unreachable");
      }
    }
    for (JepsenEvent invoke : open.values()) {
      long invokeTime = timed ? invoke.time() : invoke.position();
      ops.add(indefinite(invoke, invokeTime, new JepsenCall(invoke.f(), invoke.key(), invoke.value())));
    }
    ops.sort(Comparator.comparingInt(Operation::id));
    return ops;
  }

  private static Operation indefinite(JepsenEvent invoke, long invokeTime, JepsenCall call) {
    return new Operation(invoke.position(), invoke.process(), invokeTime, Long.MAX_VALUE, call, null, true);
  }

  /**
   * A Jepsen history of {@code ops} (whose inputs are {@link JepsenCall}s): an {@code :invoke} and
   * an {@code :ok} (or {@code :info} when indefinite) per operation, ordered by time with
   * invocations before completions at equal times (so positions keep exactly which operations
   * overlap, and no {@code :time} is written); indefinite operations get their {@code :info} at
   * the end.
   */
  public static List<JepsenEvent> events(List<Operation> ops) {
    record At(long time, int kind, int id, JepsenEvent event) {}
    List<At> at = new ArrayList<>();
    for (Operation op : ops) {
      if (!(op.input() instanceof JepsenCall call)) {
        throw new IllegalArgumentException("operation " + op.id() + " is not a Jepsen call: " + op.input());
      }
      at.add(new At(op.invokeTime(), 0, op.id(),
          new JepsenEvent(0, op.process(), JepsenEvent.Type.INVOKE, call.f(), call.key(), call.value(), null)));
      at.add(op.indefinite()
          ? new At(Long.MAX_VALUE, 1, op.id(),
              new JepsenEvent(0, op.process(), JepsenEvent.Type.INFO, call.f(), call.key(), call.value(), null))
          : new At(op.completeTime(), 1, op.id(),
              new JepsenEvent(0, op.process(), JepsenEvent.Type.OK, call.f(), call.key(), op.output(), null)));
    }
    at.sort(Comparator.comparingLong(At::time).thenComparingInt(At::kind).thenComparingInt(At::id));
    List<JepsenEvent> events = new ArrayList<>(at.size());
    for (At a : at) {
      JepsenEvent e = a.event();
      events.add(new JepsenEvent(events.size(), e.process(), e.type(), e.f(), e.key(), e.value(), e.time()));
    }
    return events;
  }
}
