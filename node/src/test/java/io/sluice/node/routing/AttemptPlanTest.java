package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static io.sluice.node.routing.Fixtures.model;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.node.routing.AttemptPlan.Step;
import io.sluice.node.routing.RetryDecision.Retry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AttemptPlanTest {
  private static final ModelCatalog.Model M =
      model("m", RoutingStrategy.WEIGHTED, List.of(), deployment("a"), deployment("b"));
  private static final Attempt A = new Attempt(M, M.deployments().get(0));
  private static final Attempt B = new Attempt(M, M.deployments().get(1));

  private static final Duration BACKOFF = Duration.ofMillis(100);
  private static final Retry WITH_BACKOFF = new Retry(BACKOFF, Optional.of(BACKOFF));
  private static final Retry AFTER_RETRY_AFTER = new Retry(Duration.ZERO, Optional.of(Duration.ofSeconds(3)));
  private static final Retry NOT_HERE_AGAIN = new Retry(Duration.ZERO, Optional.empty());

  @Test
  void next_walksPlanThenEmpty() {
    AttemptPlan p = new AttemptPlan(List.of(A, B, A));
    assertEquals(Optional.of(A), p.next());
    assertEquals(Optional.of(B), p.next());
    assertEquals(Optional.of(A), p.next());
    assertEquals(Optional.empty(), p.next());
    assertEquals(Optional.empty(), p.next());
  }

  @Test
  void afterFailure_otherDeploymentNext_waitsOtherDelay() {
    AttemptPlan p = new AttemptPlan(List.of(A, B));
    p.next();
    assertEquals(Optional.of(new Step(B, BACKOFF)), p.afterFailure(A, WITH_BACKOFF));
    AttemptPlan q = new AttemptPlan(List.of(A, B));
    q.next();
    assertEquals(Optional.of(new Step(B, Duration.ZERO)), q.afterFailure(A, AFTER_RETRY_AFTER));
  }

  @Test
  void afterFailure_sameDeploymentNext_waitsItsRetryAfter() {
    AttemptPlan p = new AttemptPlan(List.of(A, A));
    p.next();
    assertEquals(Optional.of(new Step(A, Duration.ofSeconds(3))), p.afterFailure(A, AFTER_RETRY_AFTER));
  }

  @Test
  void afterFailure_deploymentExcluded_skipsItForTheRestOfTheRequest() {
    AttemptPlan p = new AttemptPlan(List.of(A, B, A, B));
    p.next();
    assertEquals(Optional.of(new Step(B, Duration.ZERO)), p.afterFailure(A, NOT_HERE_AGAIN));
    // b fails with an ordinary backoff; the next planned attempt (a) is excluded, so b again.
    assertEquals(Optional.of(new Step(B, BACKOFF)), p.afterFailure(B, WITH_BACKOFF));
    assertEquals(Optional.empty(), p.afterFailure(B, WITH_BACKOFF));
  }

  @Test
  void afterFailure_onlyDeploymentExcluded_isEmpty() {
    AttemptPlan p = new AttemptPlan(List.of(A, A, A));
    p.next();
    assertEquals(Optional.empty(), p.afterFailure(A, NOT_HERE_AGAIN));
  }

  @Test
  void attempts_unaffectedByCursor() {
    AttemptPlan p = new AttemptPlan(List.of(A, B));
    p.next();
    p.next();
    assertEquals(List.of(A, B), p.attempts());
  }
}
