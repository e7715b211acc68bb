package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.Fixtures.ManualClock;
import io.sluice.node.routing.OutlierDetector.Permit;
import io.sluice.node.routing.OutlierDetector.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class OutlierDetectorTest {
  /** Shipped defaults: 5 in a row, 50% of >= 10 in 10 s, cooldown 5 s doubling to 60 s, stable 60 s. */
  private static final HealthSettings DEFAULTS = Fixtures.health();

  private final ManualClock clock = new ManualClock();
  private final OutlierDetector detector = new OutlierDetector(DEFAULTS, clock);

  /** Settings that judge only the failure rate (the streak would need 1000 failures). */
  private static HealthSettings rateOnly(int minRequests) {
    HealthSettings d = DEFAULTS;
    return new HealthSettings(1000, d.failureRate(), d.window(), d.windowBuckets(), minRequests, d.baseEjection(),
        d.maxEjection(), d.stablePeriod(), d.probeTimeout());
  }

  /** Settings that judge only the streak (the rate would need a million requests in the window). */
  private static HealthSettings streakOnly() {
    HealthSettings d = DEFAULTS;
    return new HealthSettings(d.consecutiveFailures(), d.failureRate(), d.window(), d.windowBuckets(), 1_000_000,
        d.baseEjection(), d.maxEjection(), d.stablePeriod(), d.probeTimeout());
  }

  private static void fail(OutlierDetector det, ErrorClass error, int times) {
    for (int i = 0; i < times; i++) {
      det.onError(det.tryAcquire(), error);
    }
  }

  private static void succeed(OutlierDetector det, int times) {
    for (int i = 0; i < times; i++) {
      det.onSuccess(det.tryAcquire());
    }
  }

  private State state() {
    return detector.snapshot().state();
  }

  /** Ejects the detector (five server errors) and returns the cooldown it got. */
  private Duration eject() {
    fail(detector, ErrorClass.SERVER, DEFAULTS.consecutiveFailures());
    assertEquals(State.EJECTED, state());
    return Duration.between(clock.instant(), detector.snapshot().ejectedUntil().orElseThrow());
  }

  /** Lets the cooldown pass and takes the probe. */
  private Permit probeAfter(Duration cooldown) {
    clock.advance(cooldown);
    Permit p = detector.tryAcquire();
    assertTrue(p.granted() && p.probe(), "the probe is admitted after the cooldown");
    return p;
  }

  @Test
  void tryAcquire_fresh_grantsNonProbePermit() {
    Permit p = detector.tryAcquire();
    assertTrue(p.granted());
    assertFalse(p.probe());
    assertTrue(detector.admitsNow());
    assertEquals(new OutlierDetector.Snapshot(State.CLOSED, 0, 0, 0, Optional.empty(), 0), detector.snapshot());
  }

  @ParameterizedTest
  @EnumSource(value = ErrorClass.class, names = {"SERVER", "TIMEOUT", "CONNECT"})
  void onError_fiveConsecutiveCountingFailures_ejects(ErrorClass error) {
    fail(detector, error, 4);
    assertEquals(State.CLOSED, state());
    assertEquals(4, detector.snapshot().consecutiveFailures());
    fail(detector, error, 1);
    assertEquals(State.EJECTED, state());
    assertEquals(Permit.DENIED, detector.tryAcquire());
    assertFalse(detector.admitsNow());
  }

  @ParameterizedTest
  @EnumSource(value = ErrorClass.class, names = {"CLIENT", "AUTH", "RATE_LIMITED"})
  void onError_nonCountingErrors_neverEjectNorCount(ErrorClass error) {
    fail(detector, error, 1_000);
    assertEquals(new OutlierDetector.Snapshot(State.CLOSED, 0, 0, 0, Optional.empty(), 0), detector.snapshot());
  }

  @ParameterizedTest
  @EnumSource(value = ErrorClass.class, names = {"CLIENT", "AUTH", "RATE_LIMITED"})
  void onError_nonCountingBetweenFailures_neitherBreakNorExtendTheStreak(ErrorClass error) {
    fail(detector, ErrorClass.SERVER, 4);
    fail(detector, error, 20);
    assertEquals(4, detector.snapshot().consecutiveFailures());
    fail(detector, ErrorClass.SERVER, 1);
    assertEquals(State.EJECTED, state());
  }

  @Test
  void onSuccess_interleaved_resetsConsecutiveCount() {
    OutlierDetector det = new OutlierDetector(streakOnly(), clock);
    for (int round = 0; round < 50; round++) {
      fail(det, ErrorClass.TIMEOUT, 4);
      assertEquals(4, det.snapshot().consecutiveFailures());
      succeed(det, 1);
      assertEquals(0, det.snapshot().consecutiveFailures());
    }
    assertEquals(State.CLOSED, det.snapshot().state());
    assertEquals(0.8, det.snapshot().failureRate(), 1e-9);
  }

  @Test
  void onError_interleavedWithDefaults_rateEjectsWhenStreakDoesNot() {
    // 4 failures, 1 success, 4 failures... never 5 in a row, but 8 of 10 requests failed.
    fail(detector, ErrorClass.SERVER, 4);
    succeed(detector, 1);
    fail(detector, ErrorClass.SERVER, 4);
    succeed(detector, 1);
    assertEquals(State.CLOSED, state());
    fail(detector, ErrorClass.SERVER, 1);
    assertEquals(State.EJECTED, state());
  }

  @ParameterizedTest(name = "min-requests {0}: ejected at request {1}")
  @CsvSource({"1, 1", "4, 5", "7, 7", "10, 11", "20, 21"})
  void onError_failureRateAtThreshold_ejectsOnlyOnceMinRequestsReached(int minRequests, int ejectedAt) {
    // Alternating failure, success: never two failures in a row, 50%+ failures after each failure.
    OutlierDetector det = new OutlierDetector(rateOnly(minRequests), clock);
    for (int request = 1; request <= 100; request++) {
      if (request % 2 == 1) {
        fail(det, ErrorClass.SERVER, 1);
      } else {
        succeed(det, 1);
      }
      assertEquals(request >= ejectedAt ? State.EJECTED : State.CLOSED, det.snapshot().state(), "request " + request);
      if (request >= ejectedAt) {
        return;
      }
    }
  }

  @Test
  void onError_failureRateBelowThreshold_neverEjects() {
    OutlierDetector det = new OutlierDetector(rateOnly(10), clock);
    for (int i = 0; i < 1_000; i++) {
      fail(det, ErrorClass.SERVER, 1);
      succeed(det, 2);
      clock.advance(Duration.ofMillis(10));
    }
    assertEquals(State.CLOSED, det.snapshot().state());
  }

  @ParameterizedTest(name = "9 failures, then {0} ms later one more -> ejected={1}")
  @CsvSource({"0, true", "5000, true", "9999, true", "10000, false", "60000, false"})
  void onError_failuresOlderThanWindow_dropOut(long laterMillis, boolean ejected) {
    OutlierDetector det = new OutlierDetector(rateOnly(10), clock);
    fail(det, ErrorClass.SERVER, 9);
    clock.advance(Duration.ofMillis(laterMillis));
    fail(det, ErrorClass.SERVER, 1);
    assertEquals(ejected ? State.EJECTED : State.CLOSED, det.snapshot().state());
  }

  @Test
  void tryAcquire_duringCooldown_deniedUntilItEnds() {
    Duration cooldown = eject();
    assertEquals(DEFAULTS.baseEjection(), cooldown);
    clock.advance(cooldown.minusMillis(1));
    assertEquals(Permit.DENIED, detector.tryAcquire());
    assertEquals(State.EJECTED, state());
    clock.advance(Duration.ofMillis(1));
    assertEquals(State.HALF_OPEN, state());
    assertTrue(detector.admitsNow());
    assertTrue(detector.tryAcquire().probe());
  }

  @Test
  void tryAcquire_halfOpen_admitsExactlyOneProbe() {
    Permit probe = probeAfter(eject());
    for (int i = 0; i < 10; i++) {
      assertEquals(Permit.DENIED, detector.tryAcquire());
    }
    assertFalse(detector.admitsNow());
    assertEquals(State.HALF_OPEN, state());
    assertTrue(probe.probe());
  }

  @Test
  void onSuccess_probe_closesAndClearsHistory() {
    Permit probe = probeAfter(eject());
    detector.onSuccess(probe);
    Permit next = detector.tryAcquire();
    assertTrue(next.granted());
    assertFalse(next.probe());
    assertEquals(new OutlierDetector.Snapshot(State.CLOSED, 0, 0, 0, Optional.empty(), 1), detector.snapshot());
  }

  @Test
  void onError_probe_reEjectsWithDoubleCooldown() {
    Permit probe = probeAfter(eject());
    detector.onError(probe, ErrorClass.TIMEOUT);
    assertEquals(State.EJECTED, state());
    assertEquals(DEFAULTS.baseEjection().multipliedBy(2),
        Duration.between(clock.instant(), detector.snapshot().ejectedUntil().orElseThrow()));
    assertEquals(2, detector.snapshot().ejections());
  }

  @Test
  void onError_probeKeepsFailing_cooldownDoublesUpToMax() {
    List<Long> cooldowns = new ArrayList<>();
    Duration cooldown = eject();
    for (int i = 0; i < 7; i++) {
      cooldowns.add(cooldown.toSeconds());
      Permit probe = probeAfter(cooldown);
      detector.onError(probe, ErrorClass.SERVER);
      cooldown = Duration.between(clock.instant(), detector.snapshot().ejectedUntil().orElseThrow());
    }
    assertEquals(List.of(5L, 10L, 20L, 40L, 60L, 60L, 60L), cooldowns);
  }

  @ParameterizedTest
  @EnumSource(value = ErrorClass.class, names = {"CLIENT", "AUTH", "RATE_LIMITED"})
  void onError_probeWithNonCountingError_freesSlotStaysHalfOpen(ErrorClass error) {
    Permit probe = probeAfter(eject());
    detector.onError(probe, error);
    assertEquals(State.HALF_OPEN, state());
    assertTrue(detector.tryAcquire().probe(), "another probe may go");
  }

  @Test
  void onAbandoned_probe_freesSlot() {
    Permit probe = probeAfter(eject());
    detector.onAbandoned(probe);
    assertTrue(detector.admitsNow());
    Permit second = detector.tryAcquire();
    assertTrue(second.probe());
    detector.onSuccess(second);
    assertEquals(State.CLOSED, state());
  }

  @Test
  void tryAcquire_probeLost_anotherAfterProbeTimeoutAndLateOutcomeIgnored() {
    Permit lost = probeAfter(eject());
    clock.advance(DEFAULTS.probeTimeout().minusMillis(1));
    assertEquals(Permit.DENIED, detector.tryAcquire());
    clock.advance(Duration.ofMillis(1));
    Permit second = detector.tryAcquire();
    assertTrue(second.probe());
    detector.onSuccess(lost); // stale: must not close
    assertEquals(State.HALF_OPEN, state());
    detector.onSuccess(second);
    assertEquals(State.CLOSED, state());
  }

  @Test
  void onSuccess_permitFromBeforeEjection_doesNotCloseHalfOpen() {
    Permit old = detector.tryAcquire();
    Permit probe = probeAfter(eject());
    detector.onSuccess(old);
    assertEquals(State.HALF_OPEN, state());
    assertEquals(Permit.DENIED, detector.tryAcquire(), "the real probe is still out");
    detector.onSuccess(probe);
    assertEquals(State.CLOSED, state());
  }

  @Test
  void onError_permitsFromBeforeEjection_ignoredAfterRecovery() {
    List<Permit> old = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      old.add(detector.tryAcquire());
    }
    detector.onSuccess(probeAfter(eject()));
    old.forEach(p -> detector.onError(p, ErrorClass.SERVER));
    assertEquals(new OutlierDetector.Snapshot(State.CLOSED, 0, 0, 0, Optional.empty(), 1), detector.snapshot());
  }

  @Test
  void outcomes_whileEjected_ignored() {
    Permit old = detector.tryAcquire();
    eject();
    detector.onSuccess(old);
    detector.onError(old, ErrorClass.SERVER);
    detector.onAbandoned(old);
    assertEquals(State.EJECTED, state());
  }

  @Test
  void outcomes_deniedPermit_ignored() {
    detector.onError(Permit.DENIED, ErrorClass.SERVER);
    detector.onSuccess(Permit.DENIED);
    detector.onAbandoned(Permit.DENIED);
    assertEquals(0, detector.snapshot().requestsInWindow());
  }

  @ParameterizedTest(name = "closed {0} s then ejected again -> cooldown {1} s")
  @CsvSource({"0, 20", "30, 20", "59, 20", "60, 5", "600, 5"})
  void eject_afterStablePeriodClosed_cooldownStartsAgainAtBase(long closedSeconds, long expectedCooldown) {
    detector.onError(probeAfter(eject()), ErrorClass.SERVER); // two ejections: 5 s, 10 s
    detector.onSuccess(probeAfter(DEFAULTS.baseEjection().multipliedBy(2)));
    clock.advance(Duration.ofSeconds(closedSeconds));
    assertEquals(Duration.ofSeconds(expectedCooldown), eject());
  }

  @Test
  void snapshot_stablePeriodPassed_reportsEjectionsForgotten() {
    detector.onSuccess(probeAfter(eject()));
    assertEquals(1, detector.snapshot().ejections());
    clock.advance(DEFAULTS.stablePeriod());
    assertEquals(0, detector.snapshot().ejections());
  }

  @Test
  void snapshot_ejected_reportsUntilAndRate() {
    fail(detector, ErrorClass.SERVER, 2);
    succeed(detector, 2);
    OutlierDetector.Snapshot s = detector.snapshot();
    assertEquals(0.5, s.failureRate(), 1e-9);
    assertEquals(4, s.requestsInWindow());
    eject();
    assertEquals(Optional.of(clock.instant().plus(DEFAULTS.baseEjection())), detector.snapshot().ejectedUntil());
    assertEquals(1, detector.snapshot().ejections());
  }

  @Test
  void tryAcquire_halfOpenUnderContention_grantsOneProbe() throws Exception {
    clock.advance(eject());
    int threads = 16;
    AtomicInteger probes = new AtomicInteger();
    AtomicInteger denied = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 1_000; i++) {
          Permit p = detector.tryAcquire();
          (p.granted() ? probes : denied).incrementAndGet();
        }
      });
      w.start();
      workers.add(w);
    }
    go.countDown();
    for (Thread w : workers) {
      w.join(TimeUnit.SECONDS.toMillis(10));
    }
    assertEquals(1, probes.get());
    assertEquals(threads * 1_000 - 1, denied.get());
  }

  @Test
  void onOutcome_concurrentFailuresAndSuccesses_stateStaysConsistent() throws Exception {
    // Many threads report at once, one failure in four: no update may be lost, so the window must
    // hold every request and exactly a 25% failure rate (below the threshold: never ejected).
    OutlierDetector det = new OutlierDetector(rateOnly(10), clock);
    int threads = 8;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 2_000; i++) {
          Permit p = det.tryAcquire();
          if (i % 4 == 0) {
            det.onError(p, ErrorClass.SERVER);
          } else {
            det.onSuccess(p);
          }
        }
      });
      w.start();
      workers.add(w);
    }
    go.countDown();
    for (Thread w : workers) {
      w.join(TimeUnit.SECONDS.toMillis(10));
    }
    OutlierDetector.Snapshot s = det.snapshot();
    assertEquals(State.CLOSED, s.state());
    assertEquals(threads * 2_000, s.requestsInWindow());
    assertEquals(0.25, s.failureRate(), 1e-9);
  }
}
