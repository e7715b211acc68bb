package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Pieces longer than a slice: counted slice by slice, close to the whole piece's count. */
class TokenEstimatorTest {
  private static final TokenEstimator ESTIMATOR = new TokenEstimator(1000);

  private static String randomLetters(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append((char) ('a' + random.nextInt(26)));
    }
    return b.toString();
  }

  @Test
  void countO200k_pieceOfExactlyOneSlice_equalsJtokkit() {
    Encoding o200k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    String text = randomLetters(TokenEstimator.MAX_EXACT_PIECE, 3);
    assertEquals(o200k.countTokensOrdinary(text), ESTIMATOR.countO200k(text));
  }

  @Test
  void countO200k_pieceOfSeveralSlices_withinOneTokenPerSliceOfJtokkit() {
    Encoding o200k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    for (String text : new String[] {randomLetters(5 * TokenEstimator.MAX_EXACT_PIECE + 17, 5),
        "a".repeat(3 * TokenEstimator.MAX_EXACT_PIECE + 1), "ab".repeat(2 * TokenEstimator.MAX_EXACT_PIECE)}) {
      int slices = (text.length() + TokenEstimator.MAX_EXACT_PIECE - 1) / TokenEstimator.MAX_EXACT_PIECE;
      int expected = o200k.countTokensOrdinary(text);
      int counted = ESTIMATOR.countO200k(text);
      assertTrue(Math.abs(counted - expected) <= slices, () -> counted + " vs jtokkit's " + expected);
    }
  }

  @Test
  void countO200k_sliceBoundaryInsideASurrogatePair_keepsThePairWhole() {
    // An emoji straddling the slice boundary: the slice ends before its high surrogate.
    String text = "a".repeat(TokenEstimator.MAX_EXACT_PIECE - 1) + "\uD83D\uDE00" + "b".repeat(100);
    Encoding o200k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    assertTrue(Math.abs(ESTIMATOR.countO200k(text) - o200k.countTokensOrdinary(text)) <= 2);
  }

  @Test
  void cl100kCounter_textLongerThanASlice_withinOneTokenPerSliceOfJtokkit() {
    Encoding cl100k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
    String text = randomLetters(3 * TokenEstimator.MAX_EXACT_PIECE, 9);
    int expected = cl100k.countTokensOrdinary(text);
    int counted = ESTIMATOR.counter("cl100k").count(text);
    assertTrue(Math.abs(counted - expected) <= 3, () -> counted + " vs jtokkit's " + expected);
  }

  @Test
  void forRequest_textsWithinTheBudget_countExactly() {
    var counter = ESTIMATOR.forRequest("o200k", 1 << 20);
    for (String text : new String[] {"Hello, world!", "The quick brown fox", randomLetters(20_000, 13)}) {
      assertEquals(ESTIMATOR.countO200k(text), counter.count(text));
    }
  }

  @Test
  void budgeted_requestBeyondItsBudget_exactCounterSeesAtMostTheBudget() {
    long[] seen = {0};
    io.sluice.node.inference.TokenCounter recording = text -> {
      seen[0] += text.length();
      return ESTIMATOR.countO200k(text);
    };
    var counter = TokenEstimator.budgeted(recording, 50_000);
    long total = 0;
    for (int i = 0; i < 40; i++) {
      total += counter.count(randomLetters(10_000, 100 + i)); // 400,000 chars in 40 texts
    }
    assertEquals(50_000, seen[0]);
    long exact = 0;
    for (int i = 0; i < 40; i++) {
      exact += ESTIMATOR.countO200k(randomLetters(10_000, 100 + i));
    }
    long expected = exact;
    long estimated = total;
    // Homogeneous text: the estimate from the counted eighth is within 5% of the exact count.
    assertTrue(Math.abs(estimated - expected) <= expected / 20, () -> estimated + " vs exact " + expected);
  }

  @Test
  void budgeted_zeroBudget_estimatesAQuarterTokenPerChar() {
    var counter = TokenEstimator.budgeted(text -> {
      throw new AssertionError("no exact counting with a zero budget");
    }, 0);
    assertEquals(250, counter.count("x".repeat(1000)));
  }
}
