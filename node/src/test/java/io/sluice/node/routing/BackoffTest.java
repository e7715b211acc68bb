package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.routing.RoutingSettings.BackoffSettings;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackoffTest {
  private static final BackoffSettings SETTINGS = Fixtures.routing().backoff(); // 100ms, 2s, x2, 0.2

  /** A "random" source that always returns {@code value} from nextDouble. */
  private static RandomGenerator fixed(double value) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        throw new UnsupportedOperationException();
      }

      @Override
      public double nextDouble() {
        return value;
      }
    };
  }

  @ParameterizedTest(name = "retry {0} -> {1} ms")
  @CsvSource({"1, 100", "2, 200", "3, 400", "4, 800", "5, 1600", "6, 2000", "7, 2000", "64, 2000", "1000, 2000",
      "2147483647, 2000"})
  void base_retry_growsExponentiallyThenCaps(int retry, long millis) {
    assertEquals(Duration.ofMillis(millis), new Backoff(SETTINGS, new SplittableRandom(1)).base(retry));
  }

  @ParameterizedTest(name = "retry {0}")
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 10})
  void delay_seededRandom_staysWithinJitterBoundsAndCap(int retry) {
    Backoff backoff = new Backoff(SETTINGS, new SplittableRandom(42));
    long base = backoff.base(retry).toNanos();
    long low = (long) (base * 0.8);
    long high = Math.min(SETTINGS.max().toNanos(), (long) Math.ceil(base * 1.2));
    long seenMin = Long.MAX_VALUE;
    long seenMax = Long.MIN_VALUE;
    for (int i = 0; i < 2_000; i++) {
      long d = backoff.delay(retry).toNanos();
      assertTrue(d >= low && d <= high, d + " outside [" + low + ", " + high + "]");
      seenMin = Math.min(seenMin, d);
      seenMax = Math.max(seenMax, d);
    }
    // The jitter really spreads the delays over most of the allowed range.
    assertTrue(seenMin < low + (high - low) / 10, "smallest delay " + seenMin);
    assertTrue(seenMax > high - (high - low) / 10, "largest delay " + seenMax);
  }

  @ParameterizedTest(name = "u={0} -> {1} ms")
  @CsvSource({"0.0, 80", "0.5, 100", "0.75, 110", "0.999999999, 120"})
  void delay_randomExtremes_mapToJitterEnds(double u, long millis) {
    Duration d = new Backoff(SETTINGS, fixed(u)).delay(1);
    assertEquals(millis, Math.round(d.toNanos() / 1e6));
  }

  @Test
  void delay_atCapWithPositiveJitter_neverExceedsMax() {
    assertEquals(SETTINGS.max(), new Backoff(SETTINGS, fixed(0.999)).delay(20));
  }

  @Test
  void delay_zeroJitter_isExactlyBase() {
    BackoffSettings noJitter = new BackoffSettings(SETTINGS.initial(), SETTINGS.max(), SETTINGS.multiplier(), 0);
    Backoff backoff = new Backoff(noJitter, new SplittableRandom(7));
    for (int retry = 1; retry <= 8; retry++) {
      assertEquals(backoff.base(retry), backoff.delay(retry));
    }
  }

  @Test
  void delay_multiplierOne_isConstant() {
    BackoffSettings flat = new BackoffSettings(Duration.ofMillis(250), Duration.ofSeconds(2), 1, 0);
    Backoff backoff = new Backoff(flat, new SplittableRandom(7));
    assertEquals(Duration.ofMillis(250), backoff.delay(1));
    assertEquals(Duration.ofMillis(250), backoff.delay(30));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1})
  void base_retryBelowOne_throws(int retry) {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(SETTINGS, new SplittableRandom(1)).base(retry));
  }
}
