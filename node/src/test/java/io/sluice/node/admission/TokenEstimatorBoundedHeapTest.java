package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Counting a huge unbroken run in a small heap. Surefire runs this class alone in a JVM with
 * {@code -Xmx64m} (see node/pom.xml, execution {@code bounded-heap}): a merge over the whole run
 * would need ~36 bytes per byte of it (~150 MB for 4 MiB) and fail with OutOfMemoryError.
 */
class TokenEstimatorBoundedHeapTest {
  private static final int FOUR_MIB = 4 << 20;

  @Test
  void countO200k_fourMiBRunOfOneLetter_countsInASmallHeap() {
    char[] run = new char[FOUR_MIB];
    Arrays.fill(run, 'a');
    String text = new String(run);
    run = null;
    int count = new TokenEstimator(1000).countO200k(text);
    // o200k has tokens of many 'a's; the count lies between one per longest token and one per char.
    assertTrue(count > 0 && count < FOUR_MIB / 2, () -> "count " + count);
  }

  @Test
  void countO200k_fourMiBRunOfMixedLetters_countsInASmallHeap() {
    char[] run = new char[FOUR_MIB];
    for (int i = 0; i < run.length; i++) {
      run[i] = (char) ('a' + (i * 7 + i / 13) % 26);
    }
    String text = new String(run);
    run = null;
    int count = new TokenEstimator(1000).countO200k(text);
    assertTrue(count > FOUR_MIB / 64 && count <= FOUR_MIB, () -> "count " + count);
  }

  @Test
  void cl100kCounter_fourMiBRun_countsInASmallHeap() {
    String text = "Z".repeat(FOUR_MIB);
    int count = new TokenEstimator(0).counter("cl100k").count(text);
    assertTrue(count > 0 && count <= FOUR_MIB, () -> "count " + count);
  }
}
