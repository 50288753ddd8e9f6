package io.s2j.checker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The linearizability checker: is there a total order of a history's operations that respects
 * real time and that the sequential {@link Model} accepts?
 *
 * <p><b>Search (Wing &amp; Gong).</b> The history becomes a doubly linked list of entries, a
 * <em>call</em> entry at each operation's invocation and a <em>return</em> entry at its
 * completion, ordered by time (calls before returns on equal times: such operations overlap).
 * Walking the list from the head, every call entry met before the first return entry is an
 * operation that may be linearized next; the search tries them in order. Linearizing one applies
 * it to the model and <em>lifts</em> its call and return entries out of the list (dancing-links
 * style, so <em>unlifting</em> on backtrack is O(1)), and the walk restarts at the head. Reaching
 * a return entry means that operation has to be linearized by now and was not: the search
 * backtracks (pops the last linearized operation, restores its state, unlifts it and tries the
 * next candidate after it). The history is linearizable once every definite operation is
 * lifted; it is not when a return entry is reached with nothing left to pop.
 *
 * <p><b>Memoisation (Lowe).</b> Two paths that have linearized the same set of operations and
 * reached equal model states have the same future, so the search keeps a cache of (linearized
 * set as a bitset, state) and never extends a configuration it has seen. This is what makes
 * Jepsen-sized histories tractable (as in Porcupine and Knossos' linear checker); model states
 * must be immutable values with {@code equals}/{@code hashCode}.
 *
 * <p><b>P-compositionality.</b> {@link Model#partition} splits the history into independent
 * sub-histories (e.g. one per key); a history is linearizable iff every partition is, so each
 * is searched on its own with its own cache. The partitions' searches take turns of a fixed
 * number of explored configurations (round-robin, deterministic), the way Porcupine races them
 * in parallel: the first partition found not linearizable decides at once, even while a hard
 * partition before it is still undecided.
 *
 * <p><b>Indefinite operations</b> ({@link Operation#indefinite()}: Jepsen's {@code :info}, an
 * invocation without completion) have a call entry but no return entry: they may be linearized
 * at any point after their invocation, and nothing ever forces them, so the search succeeds as
 * soon as all <em>definite</em> operations are linearized, leaving the indefinite rest out
 * ("never happened"). An indefinite operation whose step leaves the state unchanged (a read
 * with unknown output, a compare-and-set that would not match) is not linearized at all: doing
 * so is equivalent to leaving it out, and skipping it keeps such operations out of the cache.
 * Indefinite operations with equal input and output (e.g. several timed-out {@code :write 3})
 * are interchangeable once invoked, since none has a deadline: they are linearized in
 * invocation order only, which removes the permutations among them from the search.
 *
 * <p><b>Budget.</b> The search is bounded by the number of cache entries (explored
 * configurations) summed over all partitions, not by time: the checker is deterministic (same
 * input and budget, same verdict and explanation), and the budget bounds both memory and time
 * (each configuration costs at most one walk of the entry list). When it runs out before every
 * partition is decided and none was refuted, the verdict is {@link Verdict#UNKNOWN}.
 *
 * <p><b>Explanation.</b> For a non-linearizable partition the search remembers its deepest
 * configuration (most operations linearized). There, some operation's return entry was reached
 * while it could not be placed: that operation comes first in {@link CheckResult#unplaced()},
 * followed by the other operations that were pending (invoked, not linearized) at that point and
 * could not be placed either (leaving out indefinite ones that would have had no effect there).
 */
public final class Linearizability {
  /** The default budget: explored (linearized set, state) configurations, over all partitions. */
  public static final long STATES_MAX_DEFAULT = 5_000_000L;

  /** How many new configurations a partition explores before the next partition's turn. */
  static final long SLICE_STATES = 4_096;

  private Linearizability() {}

  /** Checks {@code history} against {@code model} with {@link #STATES_MAX_DEFAULT}. */
  public static <S> CheckResult check(Model<S> model, List<Operation> history) {
    return check(model, history, STATES_MAX_DEFAULT);
  }

  /**
   * Checks {@code history} against {@code model}, exploring at most {@code statesMax}
   * configurations in total over all partitions.
   */
  public static <S> CheckResult check(Model<S> model, List<Operation> history, long statesMax) {
    if (statesMax <= 0) {
      throw new IllegalArgumentException("statesMax must be positive: " + statesMax);
    }
    Set<Integer> ids = new LinkedHashSet<>();
    for (Operation op : history) {
      if (!ids.add(op.id())) {
        throw new IllegalArgumentException("duplicate operation id " + op.id());
      }
    }
    List<List<Operation>> partitions = model.partition(history);
    List<Search<S>> undecided = new ArrayList<>();
    for (int p = 0; p < partitions.size(); p++) {
      undecided.add(new Search<>(model, partitions.get(p), p));
    }
    // Partitions take turns of SLICE_STATES new configurations each, as Porcupine's parallel
    // partitions race: a non-linearizable partition that is quick to refute is not held up by a
    // hard one before it, and the order of turns is fixed, so the verdict is deterministic.
    long statesUsed = 0;
    while (!undecided.isEmpty() && statesUsed < statesMax) {
      for (int i = 0; i < undecided.size() && statesUsed < statesMax; ) {
        Search<S> search = undecided.get(i);
        long before = search.explored();
        Verdict verdict = search.advance(before + Math.min(SLICE_STATES, statesMax - statesUsed));
        statesUsed += search.explored() - before;
        if (verdict == Verdict.NOT_LINEARIZABLE) {
          return new CheckResult(Verdict.NOT_LINEARIZABLE, search.unplaced(),
              where(model, partitions, search.partition) + " is not linearizable: " + search.explanation());
        }
        if (verdict == Verdict.LINEARIZABLE) {
          undecided.remove(i);
        } else {
          i++;
        }
      }
    }
    if (!undecided.isEmpty()) {
      Search<S> first = undecided.get(0);
      return new CheckResult(Verdict.UNKNOWN, List.of(), "the budget of " + statesMax
          + " explored states ran out with " + undecided.size() + " of " + partitions.size()
          + " partition(s) undecided and none refuted; " + where(model, partitions, first.partition)
          + " got deepest to " + Math.max(0, first.depthBest) + " of " + first.ops.length + " operations linearized");
    }
    return new CheckResult(Verdict.LINEARIZABLE, List.of(), history.size() + " operations in "
        + partitions.size() + " partition(s) are linearizable (" + statesUsed + " states explored)");
  }

  private static <S> String where(Model<S> model, List<List<Operation>> partitions, int p) {
    if (partitions.size() == 1) {
      return "the history";
    }
    List<Operation> part = partitions.get(p);
    return "partition " + (p + 1) + " of " + partitions.size()
        + (part.isEmpty() ? "" : " (first operation: " + model.describe(part.get(0)) + ")");
  }

  /** One partition's search, resumable: {@link #advance} runs it until a verdict or a limit. */
  private static final class Search<S> {
    private static final int NIL = -1;
    private static final int HEAD = 0;

    private final Model<S> model;
    private final Operation[] ops;
    private final int partition;
    private Set<Config> cache = new LinkedHashSet<>();
    private long explored;

    // The entry list: entry 0 is the head sentinel; entries 1..n are calls and returns.
    private final int[] next;
    private final int[] prev;
    private final int[] opOfEntry;
    private final boolean[] isCall;
    private final int[] returnOfOp; // NIL for indefinite operations
    // Indefinite operations with equal (input, output) are interchangeable once invoked: each
    // such class is linearized in invocation order only (see canGo).
    private final int[] classOfOp; // NIL for definite operations
    private final int[] rankInClass; // an indefinite operation's place in its class, by invocation
    private final int[] linearizedInClass;

    // The search's position, kept between turns.
    private final long[] bits;
    private long bitsHash;
    private final int[] stackCall;
    private final Object[] stackState;
    private int depth;
    private int definiteLeft;
    private S state;
    private int entry;

    // The deepest configuration, for the explanation.
    int depthBest = -1;
    private int[] pathBest = new int[0];
    private int blockedBest = NIL;
    private int[] pendingBest = new int[0];
    private Object stateBest;

    Search(Model<S> model, List<Operation> part, int partition) {
      this.model = model;
      this.ops = part.toArray(new Operation[0]);
      this.partition = partition;
      int n = ops.length;
      List<long[]> entries = new ArrayList<>(); // {time, kind (0 call, 1 return), op index}
      int definite = 0;
      for (int i = 0; i < n; i++) {
        entries.add(new long[] {ops[i].invokeTime(), 0, i});
        if (!ops[i].indefinite()) {
          entries.add(new long[] {ops[i].completeTime(), 1, i});
          definite++;
        }
      }
      entries.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1])
          .thenComparingInt(e -> ops[(int) e[2]].id()));
      int size = entries.size() + 1;
      next = new int[size];
      prev = new int[size];
      opOfEntry = new int[size];
      isCall = new boolean[size];
      returnOfOp = new int[n];
      Arrays.fill(returnOfOp, NIL);
      opOfEntry[HEAD] = NIL;
      for (int e = 0; e < size; e++) {
        next[e] = e + 1 < size ? e + 1 : NIL;
        prev[e] = e - 1;
      }
      for (int k = 0; k < entries.size(); k++) {
        long[] en = entries.get(k);
        int e = k + 1;
        int op = (int) en[2];
        opOfEntry[e] = op;
        isCall[e] = en[1] == 0;
        if (!isCall[e]) {
          returnOfOp[op] = e;
        }
      }
      classOfOp = new int[n];
      rankInClass = new int[n];
      Arrays.fill(classOfOp, NIL);
      Map<List<Object>, Integer> classes = new LinkedHashMap<>();
      List<Integer> classSizes = new ArrayList<>();
      for (int k = 0; k < entries.size(); k++) { // list order, so ranks follow invocation order
        long[] en = entries.get(k);
        int op = (int) en[2];
        if (en[1] == 0 && ops[op].indefinite()) {
          int c = classes.computeIfAbsent(Arrays.asList(ops[op].input(), ops[op].output()), key -> classes.size());
          if (c == classSizes.size()) {
            classSizes.add(0);
          }
          classOfOp[op] = c;
          rankInClass[op] = classSizes.get(c);
          classSizes.set(c, classSizes.get(c) + 1);
        }
      }
      linearizedInClass = new int[classSizes.size()];
      bits = new long[(n + 63) >>> 6];
      stackCall = new int[n];
      stackState = new Object[n];
      definiteLeft = definite;
      state = model.init();
      entry = next[HEAD];
    }

    long explored() {
      return explored;
    }

    /**
     * Searches on until a verdict or until {@code exploredLimit} configurations have been
     * explored; null when the limit came first (call again to resume).
     */
    Verdict advance(long exploredLimit) {
      if (definiteLeft == 0) {
        return done(Verdict.LINEARIZABLE);
      }
      while (true) {
        if (entry == NIL) {
          // Every unlinearized definite operation keeps its return entry in the list, so the walk
          // always stops at one before the end while any is left.
          throw new IllegalStateException("search walked off the entry list with " + definiteLeft
              + " definite operations left");
        }
        if (isCall[entry]) {
          int op = opOfEntry[entry];
          Operation operation = ops[op];
          S stepped = model.step(state, operation);
          if (stepped != null && (!operation.indefinite() || canGo(op, stepped))) {
            if (explored >= exploredLimit) {
              return null; // resume here: the same step is retried next turn
            }
            bits[op >>> 6] |= 1L << op;
            long hashNext = bitsHash ^ mix(op);
            if (cache.add(new Config(bits.clone(), hashNext, stepped))) {
              explored++;
              bitsHash = hashNext;
              stackCall[depth] = entry;
              stackState[depth] = state;
              depth++;
              state = stepped;
              lift(entry);
              if (operation.indefinite()) {
                linearizedInClass[classOfOp[op]]++;
              } else {
                definiteLeft--;
                if (definiteLeft == 0) {
                  return done(Verdict.LINEARIZABLE);
                }
              }
              entry = next[HEAD];
              continue;
            }
            bits[op >>> 6] &= ~(1L << op);
          }
          entry = next[entry];
        } else {
          if (depth > depthBest) {
            remember();
          }
          if (depth == 0) {
            return done(Verdict.NOT_LINEARIZABLE);
          }
          depth--;
          entry = stackCall[depth];
          @SuppressWarnings("unchecked")
          S restored = (S) stackState[depth];
          stackState[depth] = null;
          state = restored;
          int op = opOfEntry[entry];
          bits[op >>> 6] &= ~(1L << op);
          bitsHash ^= mix(op);
          unlift(entry);
          if (ops[op].indefinite()) {
            linearizedInClass[classOfOp[op]]--;
          } else {
            definiteLeft++;
          }
          entry = next[entry];
        }
      }
    }

    /**
     * Whether indefinite operation {@code op}, stepping to {@code stepped}, is worth linearizing
     * now. Not if it changes nothing (the same as leaving it out). Not if an earlier-invoked
     * operation of its class is still unlinearized: that one is a candidate too (invoked earlier,
     * no deadline) and does exactly the same, so only orders that take a class's operations in
     * invocation order are explored; any linearization can swap its members into that order.
     */
    private boolean canGo(int op, S stepped) {
      return !stepped.equals(state) && linearizedInClass[classOfOp[op]] == rankInClass[op];
    }

    private Verdict done(Verdict verdict) {
      cache = null; // decided: the memo is garbage now
      return verdict;
    }

    /** Removes a call entry and its return entry (if any) from the list. */
    private void lift(int call) {
      next[prev[call]] = next[call];
      if (next[call] != NIL) {
        prev[next[call]] = prev[call];
      }
      int ret = returnOfOp[opOfEntry[call]];
      if (ret != NIL) {
        next[prev[ret]] = next[ret];
        if (next[ret] != NIL) {
          prev[next[ret]] = prev[ret];
        }
      }
    }

    /** Puts back what {@link #lift} removed; lifts and unlifts nest, so the links are intact. */
    private void unlift(int call) {
      int ret = returnOfOp[opOfEntry[call]];
      if (ret != NIL) {
        next[prev[ret]] = ret;
        if (next[ret] != NIL) {
          prev[next[ret]] = ret;
        }
      }
      next[prev[call]] = call;
      if (next[call] != NIL) {
        prev[next[call]] = call;
      }
    }

    private void remember() {
      int blockedReturn = entry;
      depthBest = depth;
      pathBest = new int[depth];
      for (int d = 0; d < depth; d++) {
        pathBest[d] = opOfEntry[stackCall[d]];
      }
      blockedBest = opOfEntry[blockedReturn];
      List<Integer> pending = new ArrayList<>();
      pending.add(blockedBest);
      for (int e = next[HEAD]; e != NIL && e != blockedReturn; e = next[e]) {
        int op = opOfEntry[e];
        if (isCall[e] && op != blockedBest) {
          // an indefinite operation that could have no effect here is not part of the problem
          S stepped = ops[op].indefinite() ? model.step(state, ops[op]) : null;
          if (!ops[op].indefinite() || (stepped != null && !stepped.equals(state))) {
            pending.add(op);
          }
        }
      }
      pendingBest = pending.stream().mapToInt(Integer::intValue).toArray();
      stateBest = state;
    }

    List<Operation> unplaced() {
      List<Operation> out = new ArrayList<>();
      for (int op : pendingBest) {
        out.add(ops[op]);
      }
      return out;
    }

    String explanation() {
      @SuppressWarnings("unchecked")
      S s = (S) stateBest;
      StringBuilder sb = new StringBuilder();
      sb.append("the deepest search linearized ").append(depthBest).append(" of ").append(ops.length)
          .append(" operations, reaching state ").append(s).append("; there ")
          .append(model.describe(ops[blockedBest]))
          .append(" must take effect before it completes, but no pending operation can go next:");
      for (int i = 0; i < pendingBest.length; i++) {
        Operation op = ops[pendingBest[i]];
        S stepped = model.step(s, op);
        sb.append(i == 0 ? " " : "; ").append(model.describe(op)).append(
            stepped == null ? " (impossible in that state)"
                : " (leads to a dead end)");
      }
      if (pathBest.length > 0) {
        int from = Math.max(0, pathBest.length - 3);
        sb.append(". Last linearized:");
        for (int d = from; d < pathBest.length; d++) {
          sb.append(d == from ? " " : ", ").append(model.describe(ops[pathBest[d]]));
        }
      }
      return sb.append('.').toString();
    }

    /** A 64-bit mix of an operation index: the bitset's hash is the XOR over its members. */
    private static long mix(int op) {
      long z = (op + 1) * 0x9E3779B97F4A7C15L;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }
  }

  /** A memoised configuration: the linearized operations (a bitset) and the state they reached. */
  private static final class Config {
    private final long[] bits;
    private final Object state;
    private final int hash;

    Config(long[] bits, long bitsHash, Object state) {
      this.bits = bits;
      this.state = state;
      this.hash = (int) (bitsHash ^ (bitsHash >>> 32)) * 31 + state.hashCode();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Config c && c.hash == hash && Arrays.equals(c.bits, bits) && c.state.equals(state);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
