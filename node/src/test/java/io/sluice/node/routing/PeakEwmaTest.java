package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.routing.Fixtures.ManualNanos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PeakEwmaTest {
  private static final Duration TAU = Duration.ofSeconds(10);
  private static final double MS = 1e6;

  private final ManualNanos clock = new ManualNanos();

  private PeakEwma ewma(Duration defaultRtt) {
    return new PeakEwma(TAU, defaultRtt, clock);
  }

  /** One request that takes {@code latency} on the hand-driven clock. */
  private void request(PeakEwma e, Duration latency) {
    long start = e.start();
    clock.advance(latency);
    e.end(start);
  }

  @Test
  void rttNanos_beforeAnySample_isDefault() {
    PeakEwma e = ewma(Duration.ofMillis(500));
    assertEquals(500 * MS, e.rttNanos(), 1);
    assertEquals(500 * MS, e.cost(), 1);
  }

  @Test
  void observe_spikeAboveEstimate_replacesItAtOnce() {
    PeakEwma e = ewma(Duration.ofMillis(1));
    for (int i = 0; i < 20; i++) {
      request(e, Duration.ofMillis(5));
      clock.advance(Duration.ofMillis(100));
    }
    assertTrue(e.rttNanos() < 6 * MS, "settled near 5 ms: " + e.rttNanos() / MS);
    request(e, Duration.ofMillis(500));
    assertEquals(500 * MS, e.rttNanos(), 1);
  }

  @Test
  void observe_fastSamplesAfterSpike_decayBackTowardsThem() {
    PeakEwma e = ewma(Duration.ofMillis(1));
    e.observe(Duration.ofMillis(500).toNanos());
    double previous = e.rttNanos();
    for (int second = 1; second <= 60; second++) {
      clock.advance(Duration.ofSeconds(1));
      e.observe(Duration.ofMillis(5).toNanos());
      double now = e.rttNanos();
      assertTrue(now < previous, "estimate keeps falling");
      assertTrue(now > 5 * MS, "but never below the samples while they arrive");
      previous = now;
    }
    // 495 ms of excess × e^(-60/10) ≈ 1.2 ms left after a minute of 5 ms samples.
    assertEquals(5 + 495 * Math.exp(-6), previous / MS, 0.5);
  }

  @ParameterizedTest(name = "idle {0} s -> {1} ms")
  @CsvSource({"0, 100", "1, 90.48", "10, 36.79", "20, 13.53", "100, 0.0045"})
  void rttNanos_idle_decaysTowardsZeroWithTau(long seconds, double expectedMs) {
    PeakEwma e = ewma(Duration.ofMillis(1));
    e.observe(Duration.ofMillis(100).toNanos());
    clock.advance(Duration.ofSeconds(seconds));
    assertEquals(expectedMs, e.rttNanos() / MS, 0.01);
  }

  @Test
  void observe_lowerSampleWithNoTimeElapsed_keepsEstimate() {
    PeakEwma e = ewma(Duration.ofMillis(1));
    e.observe(Duration.ofMillis(100).toNanos());
    e.observe(Duration.ofMillis(1).toNanos());
    assertEquals(100 * MS, e.rttNanos(), 1);
  }

  @Test
  void observe_lowerSampleAfterTau_blendsWithWeightOfElapsedTime() {
    PeakEwma e = ewma(Duration.ofMillis(1));
    e.observe(Duration.ofMillis(100).toNanos());
    clock.advance(TAU);
    e.observe(Duration.ofMillis(10).toNanos());
    double w = Math.exp(-1);
    assertEquals(100 * w + 10 * (1 - w), e.rttNanos() / MS, 0.001);
  }

  @Test
  void observe_negativeSample_countsAsZero() {
    PeakEwma e = ewma(Duration.ofMillis(100));
    clock.advance(TAU);
    double before = e.rttNanos();
    e.observe(-5);
    assertEquals(before, e.rttNanos(), 1);
  }

  @Test
  void cost_requestsInFlight_multiplyEstimate() {
    PeakEwma e = ewma(Duration.ofMillis(20));
    e.start();
    e.start();
    e.start();
    assertEquals(3, e.inFlight());
    assertEquals(4 * 20 * MS, e.cost(), 1);
  }

  @Test
  void end_takesLatencyFromStart_andLeavesFlight() {
    PeakEwma e = ewma(Duration.ofMillis(1));
    long start = e.start();
    clock.advance(Duration.ofMillis(250));
    e.end(start);
    assertEquals(0, e.inFlight());
    assertEquals(250 * MS, e.rttNanos(), 1);
  }

  @Test
  void endWithoutSample_leavesFlightWithoutLearning() {
    PeakEwma e = ewma(Duration.ofMillis(40));
    e.start();
    clock.advance(Duration.ofSeconds(5));
    double before = e.rttNanos();
    e.endWithoutSample();
    assertEquals(0, e.inFlight());
    assertEquals(before, e.rttNanos(), 1);
  }

  @Test
  void observe_concurrentWritersWithFrozenClock_keepThePeakAndBalanceFlight() throws Exception {
    // With no time passing, a lower sample never moves the estimate, so the result must be the
    // largest sample: a lost compare-and-set would show as a smaller one.
    PeakEwma e = ewma(Duration.ofNanos(1));
    int threads = 8;
    int perThread = 5_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    long[] maxima = new long[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w = new Thread(() -> {
        SplittableRandom random = new SplittableRandom(id);
        awaitQuietly(go);
        for (int i = 0; i < perThread; i++) {
          long sample = random.nextLong(1, 1_000_000_000L);
          maxima[id] = Math.max(maxima[id], sample);
          e.start();
          e.observe(sample);
          e.endWithoutSample();
        }
      });
      w.start();
      workers.add(w);
    }
    go.countDown();
    for (Thread w : workers) {
      w.join(TimeUnit.SECONDS.toMillis(10));
    }
    long max = 0;
    for (long m : maxima) {
      max = Math.max(max, m);
    }
    assertEquals(max, e.rttNanos(), 0.5);
    assertEquals(0, e.inFlight());
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }
}
