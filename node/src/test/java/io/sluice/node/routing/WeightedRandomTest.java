package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WeightedRandomTest {
  private static final Predicate<Deployment> ALL = d -> true;
  private static final int RUNS = 40_000;

  private static List<String> names(List<Deployment> plan) {
    return plan.stream().map(Deployment::name).toList();
  }

  /** How often each deployment comes first, as a fraction of {@link #RUNS} plans. */
  private static Map<String, Double> firstPickShares(List<Deployment> ds, Predicate<Deployment> available) {
    WeightedRandom w = new WeightedRandom(new SplittableRandom(11));
    Map<String, Double> shares = new HashMap<>();
    for (int i = 0; i < RUNS; i++) {
      shares.merge(w.plan(ds, available).get(0).name(), 1.0 / RUNS, Double::sum);
    }
    return shares;
  }

  @ParameterizedTest(name = "weights {0}:{1}")
  @CsvSource({"1, 1", "1, 3", "1, 9", "5, 2", "100, 1"})
  void plan_samePriority_firstPickFollowsWeights(int wa, int wb) {
    List<Deployment> ds = List.of(deployment("a", wa, 0), deployment("b", wb, 0));
    Map<String, Double> shares = firstPickShares(ds, ALL);
    assertEquals((double) wb / (wa + wb), shares.getOrDefault("b", 0.0), 0.01);
  }

  @Test
  void plan_threeWeights_firstPickFollowsWeights() {
    List<Deployment> ds = List.of(deployment("a", 1, 0), deployment("b", 2, 0), deployment("c", 5, 0));
    Map<String, Double> shares = firstPickShares(ds, ALL);
    assertEquals(1 / 8.0, shares.get("a"), 0.01);
    assertEquals(2 / 8.0, shares.get("b"), 0.01);
    assertEquals(5 / 8.0, shares.get("c"), 0.01);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void plan_priorities_lowestFirstThenNext(long seed) {
    List<Deployment> ds = List.of(deployment("backup", 100, 1), deployment("p1", 1, 0), deployment("last", 1, 2),
        deployment("p2", 1, 0));
    List<String> plan = names(new WeightedRandom(new SplittableRandom(seed)).plan(ds, ALL));
    assertEquals(4, plan.size());
    assertEquals(new HashSet<>(List.of("p1", "p2")), new HashSet<>(plan.subList(0, 2)));
    assertEquals(List.of("backup", "last"), plan.subList(2, 4));
  }

  @Test
  void plan_bestPriorityUnavailable_fallsToNextPriority() {
    List<Deployment> ds = List.of(deployment("primary", 1, 0), deployment("backup", 1, 1));
    List<String> plan = names(new WeightedRandom(new SplittableRandom(1)).plan(ds, d -> !d.name().equals("primary")));
    assertEquals(List.of("backup"), plan);
  }

  @ParameterizedTest(name = "unavailable {0}")
  @ValueSource(strings = {"a", "b", "c"})
  void plan_unavailable_neverPlanned(String down) {
    List<Deployment> ds = List.of(deployment("a", 1, 0), deployment("b", 5, 0), deployment("c", 1, 1));
    WeightedRandom w = new WeightedRandom(new SplittableRandom(3));
    for (int i = 0; i < 1_000; i++) {
      List<String> plan = names(w.plan(ds, d -> !d.name().equals(down)));
      assertFalse(plan.contains(down));
      assertEquals(2, plan.size());
    }
  }

  @Test
  void plan_noneAvailable_isEmpty() {
    List<Deployment> ds = List.of(deployment("a"), deployment("b"));
    assertEquals(List.of(), new WeightedRandom(new SplittableRandom(1)).plan(ds, d -> false));
    assertEquals(List.of(), new WeightedRandom(new SplittableRandom(1)).plan(List.of(), ALL));
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void plan_anySeed_everyAvailableDeploymentExactlyOnce(long seed) {
    List<Deployment> ds = List.of(deployment("a", 3, 0), deployment("b", 0, 0), deployment("c", 1, 0),
        deployment("d", 2, 1), deployment("e", 0, 1));
    List<String> plan = names(new WeightedRandom(new SplittableRandom(seed)).plan(ds, ALL));
    assertEquals(5, plan.size());
    assertEquals(5, new HashSet<>(plan).size());
  }

  @Test
  void plan_zeroWeight_lastInItsPriority() {
    List<Deployment> ds = List.of(deployment("zero", 0, 0), deployment("one", 1, 0), deployment("two", 2, 0));
    WeightedRandom w = new WeightedRandom(new SplittableRandom(5));
    for (int i = 0; i < 1_000; i++) {
      assertEquals("zero", w.plan(ds, ALL).get(2).name());
    }
  }

  @Test
  void plan_allZeroWeights_configOrder() {
    List<Deployment> ds = List.of(deployment("x", 0, 0), deployment("y", 0, 0), deployment("z", -3, 0));
    assertEquals(List.of("x", "y", "z"), names(new WeightedRandom(new SplittableRandom(1)).plan(ds, ALL)));
  }

  @Test
  void plan_secondPosition_alsoWeighted() {
    // a:1 b:1 c:8. When c comes first (80%), the second is a or b, half each.
    List<Deployment> ds = List.of(deployment("a", 1, 0), deployment("b", 1, 0), deployment("c", 8, 0));
    WeightedRandom w = new WeightedRandom(new SplittableRandom(9));
    int cFirst = 0;
    int aSecond = 0;
    for (int i = 0; i < RUNS; i++) {
      List<String> plan = names(w.plan(ds, ALL));
      if (plan.get(0).equals("c")) {
        cFirst++;
        aSecond += plan.get(1).equals("a") ? 1 : 0;
      }
    }
    assertEquals(0.8, (double) cFirst / RUNS, 0.01);
    assertEquals(0.5, (double) aSecond / cFirst, 0.015);
  }
}
