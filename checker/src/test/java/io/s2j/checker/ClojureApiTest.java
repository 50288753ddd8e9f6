package io.s2j.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the Clojure tests of the {@code s2j.checker} namespace ({@code src/test/clojure}) with
 * {@code clojure.test}, loaded through Clojure's Java API, and fails on any failure or error.
 */
class ClojureApiTest {
  @Test
  void clojureTestsOfTheCheckerNamespacePass() {
    IFn require = Clojure.var("clojure.core", "require");
    require.invoke(Clojure.read("clojure.test"));
    require.invoke(Clojure.read("s2j.checker-test"));
    Map<?, ?> summary = (Map<?, ?>) Clojure.var("clojure.test", "run-tests").invoke(Clojure.read("s2j.checker-test"));
    long tests = ((Number) summary.get(Clojure.read(":test"))).longValue();
    long pass = ((Number) summary.get(Clojure.read(":pass"))).longValue();
    long fail = ((Number) summary.get(Clojure.read(":fail"))).longValue();
    long error = ((Number) summary.get(Clojure.read(":error"))).longValue();
    assertTrue(tests >= 8, "the Clojure tests ran: " + summary);
    assertTrue(pass >= tests, "assertions passed: " + summary);
    assertEquals(0, fail, "clojure.test failures (see the test output): " + summary);
    assertEquals(0, error, "clojure.test errors (see the test output): " + summary);
  }
}
