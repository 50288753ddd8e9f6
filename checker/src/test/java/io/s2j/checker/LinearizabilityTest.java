package io.s2j.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.s2j.checker.jepsen.CasRegisterModel;
import io.s2j.checker.jepsen.JepsenCall;
import io.s2j.checker.jepsen.JepsenEdn;
import io.s2j.checker.jepsen.JepsenHistory;
import io.s2j.checker.jepsen.KvModel;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Small hand-made histories with known verdicts. */
class LinearizabilityTest {
  static final CasRegisterModel REGISTER = new CasRegisterModel();
  static final KvModel KV = new KvModel();

  static List<Operation> edn(String history) {
    return JepsenHistory.operations(JepsenEdn.read(new StringReader(history)));
  }

  static CheckResult register(String history) {
    return Linearizability.check(REGISTER, edn(history));
  }

  static Operation op(int id, long invoke, long complete, String f, Object value, Object output) {
    return new Operation(id, id, invoke, complete, new JepsenCall(f, null, value), output, false);
  }

  @Test
  void anEmptyHistoryIsLinearizable() {
    assertEquals(Verdict.LINEARIZABLE, Linearizability.check(REGISTER, List.of()).verdict());
  }

  @Test
  void sequentialWriteThenReadOfIt() {
    assertEquals(Verdict.LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        """).verdict());
  }

  @Test
  void aReadOfAValueNeverWrittenIsNotLinearizableAndIsTheUnplacedOperation() {
    CheckResult r = register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 2}
        """);
    assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict());
    assertEquals(List.of(2), r.unplaced().stream().map(Operation::id).toList());
    assertTrue(r.explanation().contains("linearized 1 of 2"), r.explanation());
    assertTrue(r.explanation().contains("op 2 (process 1) :read nil -> 2"), r.explanation());
    assertTrue(r.explanation().contains("(impossible in that state)"), r.explanation());
  }

  @Test
  void aStaleReadAfterACompletedWriteIsNotLinearizable() {
    assertEquals(Verdict.NOT_LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value nil}
        """).verdict());
  }

  @Test
  void aReadConcurrentWithAWriteMaySeeEitherValue() {
    for (String seen : List.of("nil", "1")) {
      assertEquals(Verdict.LINEARIZABLE, register("""
          {:process 1, :type :invoke, :f :read, :value nil}
          {:process 0, :type :invoke, :f :write, :value 1}
          {:process 1, :type :ok, :f :read, :value %s}
          {:process 0, :type :ok, :f :write, :value 1}
          """.formatted(seen)).verdict(), seen);
    }
  }

  @Test
  void twoReadsConcurrentWithAWriteCannotSeeNewThenOld() {
    // read 1 completes before read 2 starts; 1 then nil would need the register to go back
    assertEquals(Verdict.NOT_LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        {:process 2, :type :invoke, :f :read, :value nil}
        {:process 2, :type :ok, :f :read, :value nil}
        {:process 0, :type :ok, :f :write, :value 1}
        """).verdict());
  }

  @Test
  void anIndefiniteWriteMayTakeEffectLongAfterItsInvocation() {
    assertEquals(Verdict.LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :info, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value nil}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value nil}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        """).verdict());
  }

  @Test
  void anIndefiniteWriteMayNeverTakeEffect() {
    assertEquals(Verdict.LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :info, :f :write, :value 1}
        {:process 1, :type :invoke, :f :write, :value 2}
        {:process 1, :type :ok, :f :write, :value 2}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 2}
        """).verdict());
  }

  @Test
  void anInvocationWithoutCompletionIsIndefinite() {
    List<Operation> ops = edn("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        """);
    assertTrue(ops.get(0).indefinite());
    assertEquals(Verdict.LINEARIZABLE, Linearizability.check(REGISTER, ops).verdict());
  }

  @Test
  void anIndefiniteWriteCannotTakeEffectBeforeItsInvocation() {
    assertEquals(Verdict.NOT_LINEARIZABLE, register("""
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :info, :f :write, :value 1}
        """).verdict());
  }

  @Test
  void anIndefiniteWriteTakesEffectOnceAndForAll() {
    assertEquals(Verdict.NOT_LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :info, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value nil}
        """).verdict());
  }

  @Test
  void aFailedWriteDidNotHappen() {
    assertEquals(Verdict.NOT_LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :fail, :f :write, :value 1}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        """).verdict());
  }

  @Test
  void equalIndefiniteWritesEachTakeEffectOnceInAnyOrderOfNeed() {
    String twoInfoWritesOfOne = """
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 1, :type :invoke, :f :write, :value 1}
        {:process 0, :type :info, :f :write, :value 1}
        {:process 1, :type :info, :f :write, :value 1}
        {:process 2, :type :invoke, :f :read, :value nil}
        {:process 2, :type :ok, :f :read, :value nil}
        {:process 2, :type :invoke, :f :read, :value nil}
        {:process 2, :type :ok, :f :read, :value 1}
        {:process 2, :type :invoke, :f :write, :value 2}
        {:process 2, :type :ok, :f :write, :value 2}
        {:process 2, :type :invoke, :f :read, :value nil}
        {:process 2, :type :ok, :f :read, :value 1}
        """;
    assertEquals(Verdict.LINEARIZABLE, register(twoInfoWritesOfOne).verdict());
    // a third "1 after 2" needs a third write of 1
    assertEquals(Verdict.NOT_LINEARIZABLE, register(twoInfoWritesOfOne + """
        {:process 2, :type :invoke, :f :write, :value 2}
        {:process 2, :type :ok, :f :write, :value 2}
        {:process 2, :type :invoke, :f :read, :value nil}
        {:process 2, :type :ok, :f :read, :value 1}
        """).verdict());
  }

  @Test
  void anIndefiniteReadConstrainsNothing() {
    assertEquals(Verdict.LINEARIZABLE, register("""
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :info, :f :read, :value 7}
        """).verdict());
  }

  @Test
  void compareAndSetMatchesTheCurrentValue() {
    String prefix = """
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        """;
    assertEquals(Verdict.LINEARIZABLE, register(prefix + """
        {:process 0, :type :invoke, :f :cas, :value [1 2]}
        {:process 0, :type :ok, :f :cas, :value [1 2]}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 2}
        """).verdict());
    assertEquals(Verdict.NOT_LINEARIZABLE, register(prefix + """
        {:process 0, :type :invoke, :f :cas, :value [3 2]}
        {:process 0, :type :ok, :f :cas, :value [3 2]}
        """).verdict());
    // an indefinite cas that would not match may be left out
    assertEquals(Verdict.LINEARIZABLE, register(prefix + """
        {:process 0, :type :invoke, :f :cas, :value [3 2]}
        {:process 0, :type :info, :f :cas, :value [3 2]}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 1}
        """).verdict());
    // a cas from nil on the fresh register
    assertEquals(Verdict.LINEARIZABLE, register("""
        {:process 0, :type :invoke, :f :cas, :value [nil 5]}
        {:process 0, :type :ok, :f :cas, :value [nil 5]}
        {:process 1, :type :invoke, :f :read, :value nil}
        {:process 1, :type :ok, :f :read, :value 5}
        """).verdict());
  }

  @Test
  void operationsThatTouchInTimeOverlap() {
    // a completes at 5 and b is invoked at 5: neither precedes the other (precedence is strict)
    Operation write = op(0, 0, 5, "write", 1L, 1L);
    Operation read = op(1, 5, 9, "read", null, null);
    assertEquals(Verdict.LINEARIZABLE, Linearizability.check(REGISTER, List.of(write, read)).verdict());
    Operation readLater = op(1, 6, 9, "read", null, null);
    assertEquals(Verdict.NOT_LINEARIZABLE, Linearizability.check(REGISTER, List.of(write, readLater)).verdict());
  }

  @Test
  void aSmallBudgetGivesUnknownDeterministically() {
    String history = """
        {:process 0, :type :invoke, :f :write, :value 1}
        {:process 0, :type :ok, :f :write, :value 1}
        {:process 0, :type :invoke, :f :write, :value 2}
        {:process 0, :type :ok, :f :write, :value 2}
        {:process 0, :type :invoke, :f :write, :value 3}
        {:process 0, :type :ok, :f :write, :value 3}
        """;
    CheckResult r = Linearizability.check(REGISTER, edn(history), 2);
    assertEquals(Verdict.UNKNOWN, r.verdict());
    assertTrue(r.explanation().contains("budget of 2"), r.explanation());
    assertEquals(r, Linearizability.check(REGISTER, edn(history), 2));
    assertEquals(Verdict.LINEARIZABLE, Linearizability.check(REGISTER, edn(history), 3).verdict());
  }

  @Test
  void duplicateOperationIdsAreRejected() {
    Operation a = op(0, 0, 1, "write", 1L, 1L);
    assertThrows(IllegalArgumentException.class, () -> Linearizability.check(REGISTER, List.of(a, a)));
  }

  @Test
  void kvKeysAreCheckedIndependentlyAndTheFailingPartitionIsNamed() {
    CheckResult r = Linearizability.check(KV, edn("""
        {:process 0, :type :invoke, :f :put, :key "a", :value "x"}
        {:process 0, :type :ok, :f :put, :key "a", :value "x"}
        {:process 0, :type :invoke, :f :append, :key "b", :value "y"}
        {:process 0, :type :ok, :f :append, :key "b", :value "y"}
        {:process 1, :type :invoke, :f :get, :key "a", :value nil}
        {:process 1, :type :ok, :f :get, :key "a", :value "x"}
        {:process 1, :type :invoke, :f :get, :key "b", :value nil}
        {:process 1, :type :ok, :f :get, :key "b", :value "yy"}
        """));
    assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict());
    assertTrue(r.explanation().startsWith("partition 2 of 2 (first operation: op 2 (process 0) :append \"b\""),
        r.explanation());
    assertEquals(6, r.unplaced().get(0).id());
  }

  @Test
  void kvAppendsConcatenateFromTheEmptyString() {
    assertEquals(Verdict.LINEARIZABLE, Linearizability.check(KV, edn("""
        {:process 0, :type :invoke, :f :get, :key "k", :value nil}
        {:process 0, :type :ok, :f :get, :key "k", :value ""}
        {:process 0, :type :invoke, :f :append, :key "k", :value "a"}
        {:process 1, :type :invoke, :f :append, :key "k", :value "b"}
        {:process 0, :type :ok, :f :append, :key "k", :value "a"}
        {:process 1, :type :ok, :f :append, :key "k", :value "b"}
        {:process 0, :type :invoke, :f :get, :key "k", :value nil}
        {:process 0, :type :ok, :f :get, :key "k", :value "ba"}
        """)).verdict());
  }

  /**
   * Key "hard" has 9 concurrent appends and a final read no order explains (hundreds of
   * thousands of configurations to refute); key "bad" has a plain stale read. Partitions take
   * turns, so the bad key is refuted long before the hard one would be, on a small budget.
   */
  @Test
  void aQuicklyRefutedPartitionIsNotHeldUpByAHardOneBeforeIt() {
    StringBuilder h = new StringBuilder();
    int appends = 9;
    for (int p = 0; p < appends; p++) {
      h.append("{:process %d, :type :invoke, :f :append, :key \"hard\", :value \"%d\"}\n".formatted(p, p));
    }
    for (int p = 0; p < appends; p++) {
      h.append("{:process %d, :type :ok, :f :append, :key \"hard\", :value \"%d\"}\n".formatted(p, p));
    }
    h.append("""
        {:process 20, :type :invoke, :f :get, :key "hard", :value nil}
        {:process 20, :type :ok, :f :get, :key "hard", :value "impossible"}
        {:process 21, :type :invoke, :f :put, :key "bad", :value "v"}
        {:process 21, :type :ok, :f :put, :key "bad", :value "v"}
        {:process 21, :type :invoke, :f :get, :key "bad", :value nil}
        {:process 21, :type :ok, :f :get, :key "bad", :value ""}
        """);
    List<Operation> ops = edn(h.toString());
    List<Operation> hardOnly = new ArrayList<>(ops.subList(0, appends + 1));
    assertEquals(Verdict.UNKNOWN, Linearizability.check(KV, hardOnly, 50_000).verdict(),
        "the hard key alone is not refuted within the budget");
    CheckResult r = Linearizability.check(KV, ops, 50_000);
    assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), r.explanation());
    assertTrue(r.explanation().startsWith("partition 2 of 2"), r.explanation());
  }
}
