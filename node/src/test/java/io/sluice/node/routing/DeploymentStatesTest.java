package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static io.sluice.node.routing.Fixtures.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.Fixtures.ManualClock;
import io.sluice.node.routing.Fixtures.ManualNanos;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DeploymentStatesTest {
  private final ManualClock clock = new ManualClock();
  private final ManualNanos nanos = new ManualNanos();
  private final Deployment limited = deployment("limited", 1, 0, 1);
  private final Deployment shared = deployment("shared");
  private final ModelCatalog catalog = new ModelCatalog(Map.of(
      "a", model("a", RoutingStrategy.LATENCY, List.of("b"), limited, shared),
      "b", model("b", RoutingStrategy.WEIGHTED, List.of(), shared)));
  private final DeploymentStates states =
      DeploymentStates.create(catalog, Fixtures.routing(), Fixtures.health(), clock, nanos);

  @Test
  void create_sharedDeploymentName_oneState() {
    assertEquals(2, states.all().size());
    assertSame(states.get(shared), states.get(catalog.get("b").deployments().get(0)));
  }

  @Test
  void available_atConcurrencyLimit_false() {
    assertTrue(states.available(limited));
    assertTrue(states.get(limited).limiter().tryAcquire());
    assertFalse(states.available(limited));
    states.get(limited).limiter().release();
    assertTrue(states.available(limited));
  }

  @Test
  void available_ejected_falseUntilCooldownEnds() {
    OutlierDetector health = states.get(shared).health();
    for (int i = 0; i < 5; i++) {
      health.onError(health.tryAcquire(), ErrorClass.CONNECT);
    }
    assertFalse(states.available(shared));
    clock.advance(Fixtures.health().baseEjection());
    assertTrue(states.available(shared));
  }

  @Test
  void cost_followsLatencyTracker() {
    PeakEwma latency = states.get(shared).latency();
    assertEquals(latency.cost(), states.cost(shared));
    latency.start();
    assertEquals(2 * latency.rttNanos(), states.cost(shared), 1);
  }

  @Test
  void get_unknownDeployment_throws() {
    assertThrows(IllegalArgumentException.class, () -> states.get(deployment("elsewhere")));
  }

  @Test
  void planner_wiredWithStates_skipsEjectedAndFallsBack() {
    RoutePlanner planner = new RoutePlanner(catalog, Fixtures.routing(), Map.of(
        RoutingStrategy.WEIGHTED, new WeightedRandom(new SplittableRandom(1)),
        RoutingStrategy.LATENCY, new LeastLoaded(new SplittableRandom(1), states::cost)));
    assertTrue(states.get(limited).limiter().tryAcquire());
    AttemptPlan plan = planner.plan("a", m -> true, states::available);
    assertEquals(List.of("a@shared", "b@shared", "a@shared"), plan.attempts().stream().map(Attempt::toString).toList());
  }
}
