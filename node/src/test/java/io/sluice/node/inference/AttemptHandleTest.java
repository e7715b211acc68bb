package io.sluice.node.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.ConcurrencyLimiter;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.OutlierDetector;
import io.sluice.node.routing.PeakEwma;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One attempt's hold on a deployment: whatever its outcome and in whatever order the calls come,
 * the limiter slot is released once, the latency tracker counts the attempt in flight until its one
 * outcome, and the outlier detector hears one outcome (so a half-open probe is never held).
 */
class AttemptHandleTest {
  private final PipelineRig.ManualNanos nanos = new PipelineRig.ManualNanos();
  private final PipelineRig.ManualWall wall = new PipelineRig.ManualWall();
  private final DeploymentStates.State state = new DeploymentStates.State(
      PipelineRig.deployment("a", "fake-same", 0, 1), new ConcurrencyLimiter(1),
      new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(100), nanos),
      new OutlierDetector(PipelineRig.HEALTH, wall));

  private AttemptHandle open(boolean pinned) {
    return assertInstanceOf(AttemptHandle.class, AttemptHandle.open(state, pinned));
  }

  private void eject() {
    for (int i = 0; i < PipelineRig.HEALTH.consecutiveFailures(); i++) {
      state.health().onError(state.health().tryAcquire(), ErrorClass.SERVER);
    }
    assertEquals(OutlierDetector.State.EJECTED, state.health().snapshot().state());
  }

  private void halfOpen() {
    eject();
    wall.advance(PipelineRig.HEALTH.baseEjection().plusMillis(1));
  }

  private void assertNothingHeld() {
    assertEquals(0, state.limiter().inFlight(), "limiter slot");
    assertEquals(0, state.latency().inFlight(), "latency in flight");
  }

  @Test
  void open_slotFree_takesTheSlotAndCountsTheAttemptInFlight() {
    AttemptHandle h = open(false);

    assertEquals(1, state.limiter().inFlight());
    assertEquals(1, state.latency().inFlight());
    assertFalse(h.released());
  }

  @Test
  void open_atTheConcurrencyLimit_refusedTakingNothing() {
    AttemptHandle first = open(false);

    assertEquals(AttemptHandle.Unavailable.AT_CONCURRENCY_LIMIT, AttemptHandle.open(state, false));
    assertEquals(AttemptHandle.Unavailable.AT_CONCURRENCY_LIMIT, AttemptHandle.open(state, true));
    assertEquals(1, state.limiter().inFlight());
    assertEquals(1, state.latency().inFlight());
    first.close();
    assertNothingHeld();
  }

  @Test
  void open_ejected_refusedWithTheSlotGivenBack() {
    eject();

    assertEquals(AttemptHandle.Unavailable.EJECTED, AttemptHandle.open(state, false));
    assertNothingHeld();
  }

  @Test
  void open_ejectedButPinned_sentWithoutJudgingTheDeployment() {
    eject();
    AttemptHandle h = open(true);

    h.responded();
    h.close();

    assertEquals(OutlierDetector.State.EJECTED, state.health().snapshot().state(), "a pinned success is no probe");
    assertNothingHeld();
  }

  @Test
  void open_halfOpen_oneProbeAtATimeUntilItEnds() {
    DeploymentStates.State roomy = new DeploymentStates.State(PipelineRig.deployment("r", "fake-same", 0, 2),
        new ConcurrencyLimiter(2), new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(100), nanos),
        new OutlierDetector(PipelineRig.HEALTH, wall));
    for (int i = 0; i < PipelineRig.HEALTH.consecutiveFailures(); i++) {
      roomy.health().onError(roomy.health().tryAcquire(), ErrorClass.SERVER);
    }
    wall.advance(PipelineRig.HEALTH.baseEjection().plusMillis(1));

    AttemptHandle probe = assertInstanceOf(AttemptHandle.class, AttemptHandle.open(roomy, false));
    assertEquals(AttemptHandle.Unavailable.EJECTED, AttemptHandle.open(roomy, false), "the one probe is out");
    assertEquals(1, roomy.limiter().inFlight(), "the refused open gave its slot back");
    probe.close();
    assertTrue(roomy.health().admitsNow(), "an abandoned probe frees the probe's turn");

    AttemptHandle again = assertInstanceOf(AttemptHandle.class, AttemptHandle.open(roomy, false));
    again.responded();
    again.close();

    assertEquals(OutlierDetector.State.CLOSED, roomy.health().snapshot().state(), "the probe's success closes it");
    assertEquals(0, roomy.limiter().inFlight());
    assertEquals(0, roomy.latency().inFlight());
  }

  @Test
  void responded_thenClose_oneLatencySampleAndTheSlotReleasedAtTheEnd() {
    AttemptHandle h = open(false);
    nanos.advance(Duration.ofMillis(700));

    h.responded();
    assertEquals(1, state.limiter().inFlight(), "held while the body is read");
    assertEquals(0, state.latency().inFlight(), "the answer came: no longer waiting on the deployment");
    h.close();
    h.close();

    assertTrue(h.released());
    assertEquals(700, state.latency().rttNanos() / 1e6, 1, "the sample is the time to the answer");
    assertNothingHeld();
  }

  @ParameterizedTest
  @EnumSource(ErrorClass.class)
  void failed_anyClass_recordedOnceAndTheSlotReleased(ErrorClass error) {
    AttemptHandle h = open(false);
    nanos.advance(Duration.ofSeconds(5));
    double before = state.latency().rttNanos() / 1e6;

    h.failed(error);
    h.failed(error);
    h.close();

    assertTrue(h.released());
    assertNothingHeld();
    assertEquals(error.countsAgainstDeployment() ? 1 : 0, state.health().snapshot().consecutiveFailures());
    boolean sampled = error == ErrorClass.TIMEOUT;
    assertEquals(sampled ? 5000 : before, state.latency().rttNanos() / 1e6, 1,
        sampled ? "a timeout measured how slow the deployment is" : "a fast failure is no latency sample");
  }

  @ParameterizedTest
  @EnumSource(ErrorClass.class)
  void failed_asTheProbe_probeEndsEitherWay(ErrorClass error) {
    halfOpen();
    AttemptHandle h = open(false);

    h.failed(error);

    OutlierDetector.State after = state.health().snapshot().state();
    assertEquals(error.countsAgainstDeployment() ? OutlierDetector.State.EJECTED : OutlierDetector.State.HALF_OPEN,
        after);
    assertEquals(!error.countsAgainstDeployment(), state.health().admitsNow(), "no probe left held");
    assertNothingHeld();
  }

  @Test
  void failed_afterResponded_notCountedAgainstTheDeployment() {
    AttemptHandle h = open(false);
    h.responded();

    h.failed(ErrorClass.SERVER); // the body broke off after the head: the one outcome was recorded

    assertEquals(0, state.health().snapshot().consecutiveFailures());
    assertNothingHeld();
  }

  @Test
  void close_withoutAnOutcome_abandonedAndTheProbeFreed() {
    halfOpen();
    AttemptHandle h = open(false);

    h.close();

    assertEquals(OutlierDetector.State.HALF_OPEN, state.health().snapshot().state());
    assertTrue(state.health().admitsNow(), "the next request may probe");
    assertNothingHeld();
  }

  @Test
  void outcomes_fromManyThreadsAtOnce_recordedOnceReleasedOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 200; round++) {
        AttemptHandle h = open(false);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> calls = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          int which = t;
          calls.add(pool.submit(() -> {
            start.await();
            switch (which) {
              case 0 -> h.responded();
              case 1 -> h.failed(ErrorClass.CLIENT); // not a health failure: 200 rounds must not eject it
              default -> h.close();
            }
            return null;
          }));
        }
        start.countDown();
        for (Future<?> f : calls) {
          f.get(10, TimeUnit.SECONDS); // a second release would throw here
        }
        assertNothingHeld();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void open_unlimitedDeployment_neverAtALimit() {
    DeploymentStates.State unlimited = new DeploymentStates.State(
        PipelineRig.deployment("u", "fake-same", 0, Deployment.UNLIMITED),
        new ConcurrencyLimiter(Deployment.UNLIMITED), new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(100), nanos),
        new OutlierDetector(PipelineRig.HEALTH, wall));
    List<AttemptHandle> handles = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      handles.add(assertInstanceOf(AttemptHandle.class, AttemptHandle.open(unlimited, false)));
    }
    handles.forEach(AttemptHandle::close);

    assertEquals(0, unlimited.limiter().inFlight());
    assertEquals(0, unlimited.latency().inFlight());
  }
}
