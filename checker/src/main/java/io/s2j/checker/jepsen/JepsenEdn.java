package io.s2j.checker.jepsen;

import clojure.java.api.Clojure;
import clojure.lang.AFn;
import clojure.lang.IFn;
import clojure.lang.Keyword;
import clojure.lang.Named;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Jepsen histories in EDN, read with Clojure's own {@code clojure.edn/read} and written with
 * {@code pr-str}, through Clojure's Java API (no EDN parsing of our own).
 *
 * <p>A history file is either one op map per line or one EDN vector of op maps (any mix of
 * top-level maps and top-level vectors/lists of maps is accepted). Like Knossos, only <em>client
 * ops</em> count: maps with an integer {@code :process} and a {@code :type} of {@code :invoke},
 * {@code :ok}, {@code :fail} or {@code :info}; {@code :process :nemesis} ops and anything else
 * are ignored. Unknown tagged literals (e.g. {@code #jepsen.history.Op{...}}) read as their
 * value.
 */
public final class JepsenEdn {
  private static final Keyword PROCESS = Keyword.intern("process");
  private static final Keyword TYPE = Keyword.intern("type");
  private static final Keyword F = Keyword.intern("f");
  private static final Keyword KEY = Keyword.intern("key");
  private static final Keyword VALUE = Keyword.intern("value");
  private static final Keyword TIME = Keyword.intern("time");

  private static final Object EOF = new Object();
  private static final IFn EDN_READ;
  private static final Object READ_OPTS;
  private static final IFn PR_STR = Clojure.var("clojure.core", "pr-str");
  private static final IFn APPLY = Clojure.var("clojure.core", "apply");
  private static final IFn ARRAY_MAP = Clojure.var("clojure.core", "array-map");
  private static final IFn VEC = Clojure.var("clojure.core", "vec");
  private static final IFn SET = Clojure.var("clojure.core", "set");

  static {
    Clojure.var("clojure.core", "require").invoke(Clojure.read("clojure.edn"));
    EDN_READ = Clojure.var("clojure.edn", "read");
    READ_OPTS = Clojure.var("clojure.core", "hash-map").invoke(
        Keyword.intern("eof"), EOF, Keyword.intern("default"), new TagValue());
  }

  private JepsenEdn() {}

  /** {@code :default} for clojure.edn/read: an unknown tagged literal reads as its value. */
  private static final class TagValue extends AFn {
    @Override
    public Object invoke(Object tag, Object value) {
      return value;
    }
  }

  /** Reads every top-level EDN form of {@code reader}. */
  public static List<Object> readForms(Reader reader) {
    PushbackReader in = new PushbackReader(reader);
    List<Object> forms = new ArrayList<>();
    while (true) {
      Object form = EDN_READ.invoke(READ_OPTS, in);
      if (form == EOF) {
        return forms;
      }
      forms.add(form);
    }
  }

  /** Reads the client ops of a history file (UTF-8). */
  public static List<JepsenEvent> read(Path file) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return events(readForms(reader));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Reads the client ops of a history from {@code reader}. */
  public static List<JepsenEvent> read(Reader reader) {
    return events(readForms(reader));
  }

  /**
   * The client ops among {@code forms}: each form is an op map or a collection of op maps (a
   * history vector; a Clojure seq of maps passed from Clojure is a collection of forms).
   */
  public static List<JepsenEvent> events(Iterable<?> forms) {
    List<Map<?, ?>> maps = new ArrayList<>();
    for (Object form : forms) {
      if (form instanceof Map<?, ?> m) {
        maps.add(m);
      } else if (form instanceof Collection<?> c) {
        for (Object inner : c) {
          if (inner instanceof Map<?, ?> m) {
            maps.add(m);
          }
        }
      }
    }
    List<JepsenEvent> events = new ArrayList<>();
    for (Map<?, ?> m : maps) {
      JepsenEvent e = event(m, events.size());
      if (e != null) {
        events.add(e);
      }
    }
    return events;
  }

  /** The client op that {@code m} is, at {@code position}; null when it is not one. */
  public static JepsenEvent event(Map<?, ?> m, int position) {
    JepsenEvent.Type type = type(m.get(TYPE));
    Object process = m.get(PROCESS);
    if (type == null || !isIntegral(process)) {
      return null;
    }
    Object f = m.get(F);
    if (f == null) {
      throw new IllegalArgumentException("op " + print(m) + " has no :f");
    }
    String fName = f instanceof Named n ? n.getName() : f.toString();
    Object time = m.get(TIME);
    return new JepsenEvent(position, ((Number) process).longValue(), type, fName,
        m.containsKey(KEY) ? normalize(m.get(KEY)) : null, normalize(m.get(VALUE)),
        isIntegral(time) ? ((Number) time).longValue() : null);
  }

  private static JepsenEvent.Type type(Object t) {
    if (!(t instanceof Keyword k)) {
      return null;
    }
    return switch (k.getName()) {
      case "invoke" -> JepsenEvent.Type.INVOKE;
      case "ok" -> JepsenEvent.Type.OK;
      case "fail" -> JepsenEvent.Type.FAIL;
      case "info" -> JepsenEvent.Type.INFO;
      default -> null;
    };
  }

  private static boolean isIntegral(Object o) {
    return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte;
  }

  /**
   * A plain-Java, immutable copy of an EDN value that models can compare with {@code equals}:
   * integers become {@link Long}, vectors/lists/seqs unmodifiable {@link List}s, maps and sets
   * insertion-ordered unmodifiable ones; strings, keywords, symbols, booleans and nil stay.
   */
  public static Object normalize(Object v) {
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float fl) {
      return fl.doubleValue();
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object x : l) {
        out.add(normalize(x));
      }
      return Collections.unmodifiableList(out);
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.put(normalize(e.getKey()), normalize(e.getValue()));
      }
      return Collections.unmodifiableMap(out);
    }
    if (v instanceof Set<?> s) {
      Set<Object> out = new LinkedHashSet<>();
      for (Object x : s) {
        out.add(normalize(x));
      }
      return Collections.unmodifiableSet(out);
    }
    return v;
  }

  /** The Clojure value for a (normalized) Java value: lists become vectors, maps and sets Clojure's. */
  static Object toClojure(Object v) {
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object x : l) {
        out.add(toClojure(x));
      }
      return VEC.invoke(out);
    }
    if (v instanceof Map<?, ?> m) {
      List<Object> kvs = new ArrayList<>(2 * m.size());
      for (Map.Entry<?, ?> e : m.entrySet()) {
        kvs.add(toClojure(e.getKey()));
        kvs.add(toClojure(e.getValue()));
      }
      return APPLY.invoke(ARRAY_MAP, kvs);
    }
    if (v instanceof Set<?> s) {
      List<Object> out = new ArrayList<>(s.size());
      for (Object x : s) {
        out.add(toClojure(x));
      }
      return SET.invoke(out);
    }
    return v;
  }

  /** {@code pr-str} of a value (Java collections printed as the EDN vectors/maps/sets they stand for). */
  public static String print(Object v) {
    return (String) PR_STR.invoke(toClojure(v));
  }

  /** The op map of {@code e}, e.g. {@code {:process 0, :type :ok, :f :read, :value 3}}. */
  public static String print(JepsenEvent e) {
    List<Object> kvs = new ArrayList<>(12);
    kvs.add(PROCESS);
    kvs.add(e.process());
    kvs.add(TYPE);
    kvs.add(Keyword.intern(e.type().edn()));
    kvs.add(F);
    kvs.add(Keyword.intern(e.f()));
    if (e.key() != null) {
      kvs.add(KEY);
      kvs.add(toClojure(e.key()));
    }
    kvs.add(VALUE);
    kvs.add(toClojure(e.value()));
    if (e.time() != null) {
      kvs.add(TIME);
      kvs.add(e.time());
    }
    return (String) PR_STR.invoke(APPLY.invoke(ARRAY_MAP, kvs));
  }

  /** Writes {@code events} one op map per line. */
  public static void write(List<JepsenEvent> events, Writer out) throws IOException {
    for (JepsenEvent e : events) {
      out.write(print(e));
      out.write('\n');
    }
  }

  /** Writes {@code events} one op map per line to {@code file} (UTF-8). */
  public static void write(List<JepsenEvent> events, Path file) {
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      write(events, out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
