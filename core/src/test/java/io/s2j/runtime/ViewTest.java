package io.s2j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViewTest {
  @Test
  void anUpdateReplacesTheSnapshotRaisesTheVersionAndTellsListenersInOrder() {
    View<List<String>> view = View.of(List.of("a"));
    assertEquals(List.of("a"), view.current());
    assertEquals(0, view.version());
    List<String> heard = new ArrayList<>();
    view.onChange(now -> heard.add("first " + now));
    view.onChange(now -> heard.add("second " + now + " at v" + view.version()));
    assertTrue(view.update(List.of("a", "b")));
    assertEquals(List.of("a", "b"), view.current());
    assertEquals(1, view.version());
    assertEquals(List.of("first [a, b]", "second [a, b] at v1"), heard);
  }

  @Test
  void anEqualSnapshotChangesNothing() {
    View<List<String>> view = View.of(List.of("a"));
    List<Object> heard = new ArrayList<>();
    view.onChange(heard::add);
    assertFalse(view.update(new ArrayList<>(List.of("a"))));
    assertEquals(0, view.version());
    assertTrue(heard.isEmpty());
    assertTrue(view.update(List.of()));
    assertTrue(view.update(List.of("a")));
    assertEquals(2, view.version());
    assertEquals(2, heard.size());
  }

  @Test
  void nullIsNoSnapshot() {
    assertThrows(NullPointerException.class, () -> View.of(null));
    View<String> view = View.of("x");
    assertThrows(NullPointerException.class, () -> view.update(null));
    assertEquals("x", view.current());
  }
}
