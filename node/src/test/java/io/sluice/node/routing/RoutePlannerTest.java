package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static io.sluice.node.routing.Fixtures.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RoutePlannerTest {
  private static final Predicate<ModelCatalog.Model> ANY_MODEL = m -> true;
  private static final Predicate<Deployment> ALL = d -> true;

  /** Config order for weighted models, reversed config order for latency ones: shows which ran. */
  private static final Balancer IN_ORDER = (ds, available) -> ds.stream().filter(available).toList();
  private static final Balancer REVERSED = (ds, available) -> {
    List<Deployment> r = new ArrayList<>(ds.stream().filter(available).toList());
    Collections.reverse(r);
    return r;
  };
  private static final Map<RoutingStrategy, Balancer> BALANCERS =
      Map.of(RoutingStrategy.WEIGHTED, IN_ORDER, RoutingStrategy.LATENCY, REVERSED);

  private static ModelCatalog catalog(ModelCatalog.Model... models) {
    Map<String, ModelCatalog.Model> map = new LinkedHashMap<>();
    for (ModelCatalog.Model m : models) {
      map.put(m.name(), m);
    }
    return new ModelCatalog(map);
  }

  /** "model@deployment" of each planned attempt. */
  private static List<String> plan(ModelCatalog catalog, int maxAttempts, String model,
      Predicate<ModelCatalog.Model> allowed, Predicate<Deployment> available) {
    return new RoutePlanner(catalog, Fixtures.routing(maxAttempts), BALANCERS).plan(model, allowed, available)
        .attempts().stream().map(Attempt::toString).toList();
  }

  private static final ModelCatalog CATALOG = catalog(
      model("mini", RoutingStrategy.WEIGHTED, List.of("big", "other"), deployment("m1"), deployment("m2")),
      model("big", RoutingStrategy.LATENCY, List.of("mini"), deployment("b1"), deployment("b2")),
      model("other", RoutingStrategy.WEIGHTED, List.of(), deployment("o1")),
      model("solo", RoutingStrategy.WEIGHTED, List.of(), deployment("s1")));

  @ParameterizedTest(name = "max {0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "1 | mini@m1",
      "3 | mini@m1 mini@m2 big@b2",
      "5 | mini@m1 mini@m2 big@b2 big@b1 other@o1",
      "7 | mini@m1 mini@m2 big@b2 big@b1 other@o1 mini@m1 mini@m2"})
  void plan_modelWithFallbacks_ownDeploymentsThenFallbacksInOrderBoundedAndCycled(int max, String expected) {
    assertEquals(List.of(expected.split(" ")), plan(CATALOG, max, "mini", ANY_MODEL, ALL));
  }

  @ParameterizedTest(name = "max {0}")
  @CsvSource({"1", "3", "5"})
  void plan_singleDeployment_repeatsItForRetries(int max) {
    assertEquals(Collections.nCopies(max, "solo@s1"), plan(CATALOG, max, "solo", ANY_MODEL, ALL));
  }

  @Test
  void plan_fallbackOfFallback_notFollowed() {
    // big falls back to mini, whose own fallbacks (big, other) are not followed.
    assertEquals(List.of("big@b2", "big@b1", "mini@m1", "mini@m2"), plan(CATALOG, 4, "big", ANY_MODEL, ALL));
    assertEquals(List.of("big@b2", "big@b1", "mini@m1", "mini@m2", "big@b2"),
        plan(CATALOG, 5, "big", ANY_MODEL, ALL));
  }

  @Test
  void plan_fallbackTenantMayNotUse_skipped() {
    assertEquals(List.of("mini@m1", "mini@m2", "other@o1"),
        plan(CATALOG, 3, "mini", m -> !m.name().equals("big"), ALL));
  }

  @Test
  void plan_unavailableDeployments_skippedAcrossModels() {
    assertEquals(List.of("mini@m2", "big@b1", "mini@m2"),
        plan(CATALOG, 3, "mini", ANY_MODEL, d -> d.name().equals("m2") || d.name().equals("b1")));
  }

  @Test
  void plan_ownDeploymentsAllDown_startsWithFallback() {
    assertEquals(List.of("big@b2", "big@b1", "other@o1"),
        plan(CATALOG, 3, "mini", ANY_MODEL, d -> !d.name().startsWith("m")));
  }

  @Test
  void plan_nothingAvailable_isEmpty() {
    assertEquals(List.of(), plan(CATALOG, 3, "mini", ANY_MODEL, d -> false));
    AttemptPlan p = new RoutePlanner(CATALOG, Fixtures.routing(3), BALANCERS).plan("mini", ANY_MODEL, d -> false);
    assertEquals(java.util.Optional.empty(), p.next());
  }

  @Test
  void plan_fallbackAttempt_carriesFallbackModelForPricing() {
    AttemptPlan p = new RoutePlanner(CATALOG, Fixtures.routing(3), BALANCERS).plan("mini", ANY_MODEL, ALL);
    Attempt third = p.attempts().get(2);
    assertEquals("big", third.model().name());
    assertEquals("b2", third.deployment().name());
  }

  @Test
  void plan_unknownModel_throws() {
    RoutePlanner planner = new RoutePlanner(CATALOG, Fixtures.routing(3), BALANCERS);
    assertThrows(IllegalArgumentException.class, () -> planner.plan("nope", ANY_MODEL, ALL));
  }

  @Test
  void constructor_missingBalancerForAStrategy_throws() {
    assertThrows(IllegalArgumentException.class,
        () -> new RoutePlanner(CATALOG, Fixtures.routing(3), Map.of(RoutingStrategy.WEIGHTED, IN_ORDER)));
  }
}
