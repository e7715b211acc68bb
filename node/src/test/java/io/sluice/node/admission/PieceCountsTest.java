package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PieceCountsTest {

  @Test
  void get_rangeOfAnotherStringWithTheSameText_rememberedCount() {
    PieceCounts counts = new PieceCounts(100);
    counts.put("say hello world", 3, 9, 1); // " hello"
    assertEquals(1, counts.get("oh hello", 2, 8));
    assertEquals(-1, counts.get("oh hello", 3, 8)); // "hello" without the space is another piece
    assertEquals(-1, counts.get("oh hellO", 2, 8));
  }

  @Test
  void put_beyondMaxEntries_notRemembered() {
    PieceCounts counts = new PieceCounts(3);
    for (int i = 0; i < 10; i++) {
      counts.put("w" + i, 0, 2, i + 1);
    }
    assertEquals(3, counts.size());
    int held = 0;
    for (int i = 0; i < 10; i++) {
      int c = counts.get("w" + i, 0, 2);
      if (c >= 0) {
        assertEquals(i + 1, c);
        held++;
      }
    }
    assertEquals(3, held);
  }

  @Test
  void put_samePieceTwice_oneEntry() {
    PieceCounts counts = new PieceCounts(10);
    counts.put("abc", 0, 3, 2);
    counts.put("xabc", 1, 4, 2);
    assertEquals(1, counts.size());
  }

  @Test
  void get_collidingPiecesFromManyThreads_eachItsOwnCount() throws Exception {
    PieceCounts counts = new PieceCounts(50_000);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> wrong = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        wrong.add(pool.submit(() -> {
          int bad = 0;
          for (int i = 0; i < 20_000; i++) {
            String text = "piece" + i;
            int c = counts.get(text, 0, text.length());
            if (c < 0) {
              counts.put(text, 0, text.length(), i);
            } else if (c != i) {
              bad++;
            }
          }
          return bad;
        }));
      }
      for (Future<Integer> f : wrong) {
        assertEquals(0, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(20_000, counts.size());
  }

  @Test
  void constructor_noEntries_rejected() {
    assertThrows(IllegalArgumentException.class, () -> new PieceCounts(0));
  }
}
