package io.s2j.channel;

import io.s2j.record.SequencedRecord;
import io.s2j.runtime.Invariants;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The durable records a channel holds for one streamlet, oldest first, with contiguous seq_nums:
 * a ring buffer, so that a read finds its start by arithmetic instead of walking from one end
 * (reads of a large held region used to be quadratic in its size).
 */
final class HeldRecords implements Iterable<SequencedRecord> {
  private SequencedRecord[] items = new SequencedRecord[16];
  private int head;
  private int size;

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  /** The oldest held record, or null. */
  SequencedRecord peekFirst() {
    return size == 0 ? null : items[head];
  }

  SequencedRecord pollFirst() {
    if (size == 0) {
      return null;
    }
    SequencedRecord r = items[head];
    items[head] = null;
    head = (head + 1) & (items.length - 1);
    size--;
    return r;
  }

  void addLast(SequencedRecord r) {
    if (size > 0) {
      SequencedRecord last = items[(head + size - 1) & (items.length - 1)];
      Invariants.check(r.seqNum() == last.seqNum() + 1, "held records must be contiguous: %d after %d", r.seqNum(), last.seqNum());
    }
    if (size == items.length) {
      SequencedRecord[] bigger = new SequencedRecord[items.length * 2];
      for (int i = 0; i < size; i++) {
        bigger[i] = items[(head + i) & (items.length - 1)];
      }
      items = bigger;
      head = 0;
    }
    items[(head + size) & (items.length - 1)] = r;
    size++;
  }

  /** The held records from {@code seqNum} on (all of them if it is older than the oldest, none if newer than the newest). */
  Iterator<SequencedRecord> from(long seqNum) {
    if (size == 0) {
      return iteratorAt(0);
    }
    long offset = seqNum - items[head].seqNum();
    return iteratorAt((int) Math.max(0, Math.min(size, offset)));
  }

  @Override
  public Iterator<SequencedRecord> iterator() {
    return iteratorAt(0);
  }

  private Iterator<SequencedRecord> iteratorAt(int start) {
    return new Iterator<>() {
      private int next = start;

      @Override
      public boolean hasNext() {
        return next < size;
      }

      @Override
      public SequencedRecord next() {
        if (next >= size) {
          throw new NoSuchElementException();
        }
        return items[(head + next++) & (items.length - 1)];
      }
    };
  }
}
