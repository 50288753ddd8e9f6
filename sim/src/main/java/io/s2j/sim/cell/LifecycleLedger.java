package io.s2j.sim.cell;

import io.s2j.record.SequencedRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * What the lifecycle workload knows about its streams (each written by one owner, one call at a
 * time, and read by everyone): incarnations (create completed, delete invoked), acknowledged
 * records with their positions, acknowledged trims, and the uncertainty left by indefinite
 * outcomes. It checks every read against that knowledge, so the checks know nothing of how trims,
 * retention, deletion or garbage collection are implemented:
 *
 * <ul>
 *   <li>a trimmed record is never served: no record below a trim point acknowledged before the
 *       read began;
 *   <li>a re-created stream never shows its old incarnation: no record of incarnation {@code k} in
 *       a read that began after incarnation {@code k+1} was created; a fresh incarnation starts at
 *       seq 0;
 *   <li>nothing acknowledged is lost: an owner's read of a stream without age retention returns
 *       every acknowledged record at or above its start and the highest trim point that may have
 *       applied, each at its acknowledged position;
 *   <li>delete-on-empty deletes only empty streams, and nothing else makes a stream vanish.
 * </ul>
 */
public final class LifecycleLedger {
  /** One stream name's history. */
  static final class Life {
    final String name;
    /** Incarnation number → when its create completed (virtual nanos). */
    final TreeMap<Integer, Long> createdAt = new TreeMap<>();
    int current;
    boolean live;
    /** A delete was invoked and not yet acknowledged. */
    boolean deleting;
    boolean ageRetention;
    long doeMinAgeSecs;
    Long certainTail;
    /** Incarnation → body → acknowledged seq num. */
    final TreeMap<Integer, TreeMap<String, Long>> acked = new TreeMap<>();
    /** Incarnation → acknowledged trims (ack time, trim point). */
    final TreeMap<Integer, List<long[]>> trims = new TreeMap<>();
    /** Incarnation → the highest trim point any trim invoked so far may have set. */
    final TreeMap<Integer, Long> possibleTrim = new TreeMap<>();

    Life(String name) {
      this.name = name;
    }
  }

  private final TreeMap<String, Life> lives = new TreeMap<>();
  private final List<String> violations = new ArrayList<>();
  private long readsChecked;
  private long recordsChecked;
  private long incarnations;
  private long vanishedByDeleteOnEmpty;

  Life life(String name) {
    return lives.computeIfAbsent(name, Life::new);
  }

  List<String> streamNames() {
    return new ArrayList<>(lives.keySet());
  }

  public List<String> violations() {
    return violations;
  }

  void violation(String what) {
    if (violations.size() < 50) {
      violations.add(what);
    }
  }

  static String body(String stream, int incarnation, long op, int j) {
    return stream + "/i" + incarnation + "/" + op + "/" + j;
  }

  /** The incarnation a body belongs to, or -1 for a record the workload did not write as data (a command). */
  static int incarnationOf(String stream, String body) {
    String prefix = stream + "/i";
    if (!body.startsWith(prefix)) {
      return -1;
    }
    int end = body.indexOf('/', prefix.length());
    try {
      return end < 0 ? -1 : Integer.parseInt(body.substring(prefix.length(), end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  void created(Life l, int incarnation, long nowNanos, boolean ageRetention, long doeMinAgeSecs) {
    l.current = incarnation;
    l.live = true;
    l.deleting = false;
    l.createdAt.put(incarnation, nowNanos);
    l.ageRetention = ageRetention;
    l.doeMinAgeSecs = doeMinAgeSecs;
    l.certainTail = 0L;
    incarnations++;
  }

  void acked(Life l, List<String> bodies, long start, long end) {
    if (l.certainTail != null && start != l.certainTail) {
      violation(String.format(Locale.ROOT, "%s incarnation %d: an append was acknowledged at %d where the tail was %d",
          l.name, l.current, start, l.certainTail));
    }
    TreeMap<String, Long> positions = l.acked.computeIfAbsent(l.current, k -> new TreeMap<>());
    for (int j = 0; j < bodies.size(); j++) {
      if (bodies.get(j) != null) {
        positions.put(bodies.get(j), start + j);
      }
    }
    l.certainTail = end;
  }

  void trimInvoked(Life l, long point) {
    l.possibleTrim.merge(l.current, point, Math::max);
  }

  void trimAcked(Life l, long ackNanos, long point) {
    l.trims.computeIfAbsent(l.current, k -> new ArrayList<>()).add(new long[] {ackNanos, point});
  }

  void tailSeen(Life l, long tail, boolean byOwner) {
    if (byOwner && l.certainTail != null && l.doeMinAgeSecs != 0 && tail == l.certainTail + 1) {
      // Delete-on-empty appended its terminal trim (it takes a seq num, S2-API §12.2); the
      // stream is about to be marked deleted.
      return;
    }
    if (byOwner && l.certainTail != null && tail != l.certainTail) {
      violation(String.format(Locale.ROOT, "%s incarnation %d: check-tail says %d where the tail is %d", l.name, l.current,
          tail, l.certainTail));
    }
    if (byOwner) {
      l.certainTail = tail;
    }
  }

  /**
   * The owner found its stream gone ({@code stream_not_found} or {@code stream_deletion_pending})
   * without deleting it: only delete-on-empty may do that, and only to a stream with nothing left.
   */
  void vanished(Life l, String how) {
    if (l.deleting) {
      return; // its own deletion, not acknowledged yet
    }
    if (l.doeMinAgeSecs == 0) {
      violation(l.name + " incarnation " + l.current + " vanished (" + how + ") though nobody deleted it");
    } else if (!l.ageRetention) {
      long trim = l.possibleTrim.getOrDefault(l.current, 0L);
      for (var e : l.acked.getOrDefault(l.current, new TreeMap<>()).entrySet()) {
        if (e.getValue() >= trim) {
          violation(l.name + " incarnation " + l.current + " was deleted on empty while record " + e.getValue() + " ("
              + e.getKey() + ") was acknowledged and not trimmed");
          break;
        }
      }
    }
    vanishedByDeleteOnEmpty++;
    l.live = false;
  }

  void deleted(Life l) {
    l.live = false;
    l.deleting = false;
  }

  /**
   * Checks a read of {@code stream} from {@code from} (at most {@code count} records) invoked at
   * {@code invokeNanos}. {@code byOwner} reads run between the owner's own calls, so the owner's
   * knowledge is exact for them.
   */
  void checkRead(String stream, long from, long count, List<SequencedRecord> records, long invokeNanos, boolean byOwner) {
    Life l = lives.get(stream);
    if (l == null) {
      return;
    }
    readsChecked++;
    // The newest incarnation created before the read began.
    Integer newest = null;
    for (var e : l.createdAt.entrySet()) {
      if (e.getValue() < invokeNanos) {
        newest = e.getKey();
      }
    }
    long previous = -1;
    for (SequencedRecord r : records) {
      recordsChecked++;
      if (r.seqNum() <= previous) {
        violation(stream + ": a read delivered seq " + r.seqNum() + " after " + previous);
      }
      previous = r.seqNum();
      String body = r.body().toStringUtf8();
      int k = incarnationOf(stream, body);
      if (k < 0) {
        continue;
      }
      if (newest != null && k < newest) {
        violation(String.format(Locale.ROOT, "%s: a read begun after incarnation %d was created served %s (seq %d) of incarnation %d",
            stream, newest, body, r.seqNum(), k));
      }
      Long at = l.acked.getOrDefault(k, new TreeMap<>()).get(body);
      if (at != null && at != r.seqNum()) {
        violation(stream + ": " + body + " was acknowledged at " + at + " but read at " + r.seqNum());
      }
      for (long[] t : l.trims.getOrDefault(k, List.of())) {
        if (t[0] < invokeNanos && r.seqNum() < t[1]) {
          violation(String.format(Locale.ROOT, "%s: a read begun after a trim to %d was acknowledged served trimmed record %d (%s)",
              stream, t[1], r.seqNum(), body));
          break;
        }
      }
    }
    if (byOwner && l.live && !l.ageRetention) {
      long floor = Math.max(from, l.possibleTrim.getOrDefault(l.current, 0L));
      java.util.TreeSet<Long> got = new java.util.TreeSet<>();
      records.forEach(r -> got.add(r.seqNum()));
      long upTo = records.size() < count ? Long.MAX_VALUE : (got.isEmpty() ? -1 : got.last());
      for (var e : l.acked.getOrDefault(l.current, new TreeMap<>()).entrySet()) {
        long s = e.getValue();
        if (s >= floor && s <= upTo && !got.contains(s)) {
          violation(String.format(Locale.ROOT, "%s incarnation %d: a read from %d (count %d) lost acknowledged record %d (%s); got %s",
              stream, l.current, from, count, s, e.getKey(), got.size() > 20 ? got.size() + " records" : got));
          break;
        }
      }
    }
  }

  public String describe() {
    return String.format(Locale.ROOT, "lifecycle: streams=%d incarnations=%d reads_checked=%d records_checked=%d deleted_on_empty=%d",
        lives.size(), incarnations, readsChecked, recordsChecked, vanishedByDeleteOnEmpty);
  }
}
