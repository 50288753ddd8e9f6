package io.s2j.bench;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Every JMH benchmark's setup and each benchmark method run once with each value of each
 * {@code @Param} (the others at their first value), so that a benchmark broken by a change fails
 * the build instead of silently dropping out of a JMH run. Measures nothing.
 */
class BenchmarksSmokeTest {
  @ParameterizedTest
  @ValueSource(strings = {"io.s2j.bench.FormatBenchmark", "io.s2j.bench.EncryptionBenchmark", "io.s2j.bench.CacheyBenchmark",
      "io.s2j.server.S2sFramingBenchmark"})
  void everyBenchmarkRunsOnceWithEveryParameterValue(String className) throws Exception {
    Class<?> type = Class.forName(className);
    List<Field> params = java.util.Arrays.stream(type.getFields()).filter(f -> f.isAnnotationPresent(Param.class)).toList();
    for (Field varied : params) {
      for (String value : varied.getAnnotation(Param.class).value()) {
        Object bench = type.getDeclaredConstructor().newInstance();
        for (Field p : params) {
          set(bench, p, p == varied ? value : p.getAnnotation(Param.class).value()[0]);
        }
        for (Method m : type.getMethods()) {
          if (m.isAnnotationPresent(Setup.class)) {
            m.invoke(bench);
          }
        }
        for (Method m : type.getMethods()) {
          if (m.isAnnotationPresent(Benchmark.class)) {
            assertNotNull(m.invoke(bench), className + "." + m.getName() + " with " + varied.getName() + "=" + value);
          }
        }
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void set(Object bench, Field f, String value) throws IllegalAccessException {
    Class<?> t = f.getType();
    if (t == int.class) {
      f.setInt(bench, Integer.parseInt(value));
    } else if (t == String.class) {
      f.set(bench, value);
    } else if (t.isEnum()) {
      f.set(bench, Enum.valueOf((Class<? extends Enum>) t, value));
    } else {
      throw new IllegalArgumentException("unhandled @Param type " + t + " of " + f);
    }
  }
}
