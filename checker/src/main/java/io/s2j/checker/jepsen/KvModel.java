package io.s2j.checker.jepsen;

import io.s2j.checker.Model;
import io.s2j.checker.Operation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Porcupine's key-value store over Jepsen calls: {@code :get} (output: the value), {@code :put}
 * and {@code :append} of string values on keys given by {@code :key}; every key starts as
 * {@code ""}. Partitioned per key (keys are independent), so a partition's state holds one key.
 */
public final class KvModel implements Model<KvModel.Store> {
  /** The store's non-initial values (an absent key holds {@code ""}); immutable. */
  public record Store(Map<Object, String> values) {
    public Store {
      values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    String get(Object key) {
      return values.getOrDefault(key, "");
    }

    Store with(Object key, String value) {
      Map<Object, String> next = new LinkedHashMap<>(values);
      next.put(key, value);
      return new Store(next);
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("{");
      values.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(JepsenEdn.print(k)).append(' ')
          .append(JepsenEdn.print(v)));
      return sb.append('}').toString();
    }
  }

  @Override
  public Store init() {
    return new Store(Collections.emptyMap());
  }

  @Override
  public Store step(Store state, Operation op) {
    JepsenCall call = (JepsenCall) op.input();
    Object key = call.key();
    return switch (call.f()) {
      case "get" -> op.indefinite() || Objects.equals(op.output(), state.get(key)) ? state : null;
      case "put" -> state.with(key, string(call));
      case "append" -> state.with(key, state.get(key) + string(call));
      default -> throw new IllegalArgumentException("kv has no :" + call.f());
    };
  }

  private static String string(JepsenCall call) {
    if (!(call.value() instanceof String s)) {
      throw new IllegalArgumentException("kv :" + call.f() + " needs a string :value, got " + JepsenEdn.print(call.value()));
    }
    return s;
  }

  @Override
  public List<List<Operation>> partition(List<Operation> history) {
    Map<Object, List<Operation>> byKey = new LinkedHashMap<>();
    for (Operation op : history) {
      byKey.computeIfAbsent(((JepsenCall) op.input()).key(), k -> new ArrayList<>()).add(op);
    }
    return List.copyOf(byKey.values());
  }

  @Override
  public String describe(Operation op) {
    return CasRegisterModel.describeJepsen(op);
  }
}
