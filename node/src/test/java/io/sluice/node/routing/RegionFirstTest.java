package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegionFirstTest {
  private static final Predicate<Deployment> ALL = d -> true;

  /** Keeps the given order: the region ordering is then visible on its own. */
  private static final Balancer IN_ORDER = (ds, available) -> ds.stream().filter(available).toList();

  private static List<String> names(List<Deployment> plan) {
    return plan.stream().map(Deployment::name).toList();
  }

  @Test
  void plan_samePriority_ownRegionThenNoRegionThenOthers() {
    List<Deployment> ds = List.of(deployment("r2-a", 0, "r2", false), deployment("none", 0, null, false),
        deployment("r1-a", 0, "r1", false), deployment("r3-a", 0, "r3", false), deployment("r1-b", 0, "r1", false));
    assertEquals(List.of("r1-a", "r1-b", "none", "r2-a", "r3-a"),
        names(new RegionFirst("r1", IN_ORDER).plan(ds, ALL)));
    assertEquals(List.of("r2-a", "none", "r1-a", "r3-a", "r1-b"),
        names(new RegionFirst("r2", IN_ORDER).plan(ds, ALL)));
  }

  @Test
  void plan_otherRegionAtBetterPriority_priorityRanksBeforeRegion() {
    List<Deployment> ds = List.of(deployment("own-backup", 1, "r1", false), deployment("far-primary", 0, "r2", false),
        deployment("own-primary", 0, "r1", false));
    assertEquals(List.of("own-primary", "far-primary", "own-backup"),
        names(new RegionFirst("r1", IN_ORDER).plan(ds, ALL)));
  }

  @Test
  void plan_ownRegionUnavailable_fallsBackToOtherRegionOfSamePriorityFirst() {
    List<Deployment> ds = List.of(deployment("own", 0, "r1", false), deployment("far", 0, "r2", false),
        deployment("own-backup", 1, "r1", false));
    Predicate<Deployment> ownDown = d -> !d.name().equals("own");
    assertEquals(List.of("far", "own-backup"), names(new RegionFirst("r1", IN_ORDER).plan(ds, ownDown)));
  }

  @Test
  void plan_noOwnRegion_delegatesUnchanged() {
    List<Deployment> ds = List.of(deployment("r2-a", 0, "r2", false), deployment("r1-a", 0, "r1", false));
    assertEquals(List.of("r2-a", "r1-a"), names(new RegionFirst(null, IN_ORDER).plan(ds, ALL)));
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(ints = {1, 2, 3, 4, 5})
  void plan_weightedWithinRegions_ownRegionAlwaysFirstAndEveryDeploymentOnce(int seed) {
    List<Deployment> ds = List.of(deployment("far-1", 0, "r2", false), deployment("own-1", 0, "r1", false),
        deployment("far-2", 0, "r2", false), deployment("own-2", 0, "r1", false));
    RegionFirst balancer = new RegionFirst("r1", new WeightedRandom(new SplittableRandom(seed)));
    Set<String> firsts = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      List<String> plan = names(balancer.plan(ds, ALL));
      assertEquals(Set.of("own-1", "own-2"), Set.copyOf(plan.subList(0, 2)));
      assertEquals(Set.of("far-1", "far-2"), Set.copyOf(plan.subList(2, 4)));
      firsts.add(plan.get(0));
    }
    assertEquals(Set.of("own-1", "own-2"), firsts, "the weighted draw still spreads within the own region");
  }

  @Test
  void plan_leastLoadedWithinRegions_picksCheaperOwnOverCheapestFar() {
    List<Deployment> ds = List.of(deployment("far", 0, "r2", false), deployment("own-slow", 0, "r1", false),
        deployment("own-fast", 0, "r1", false));
    RegionFirst balancer = new RegionFirst("r1", new LeastLoaded(new SplittableRandom(3),
        d -> switch (d.name()) {
          case "far" -> 1.0;
          case "own-slow" -> 50.0;
          default -> 10.0;
        }));
    assertEquals(List.of("own-fast", "own-slow", "far"), names(balancer.plan(ds, ALL)));
  }

  @Test
  void plan_throughPlanner_ownRegionFirstThenFallbackModel() {
    ModelCatalog.Model main = Fixtures.model("m", RoutingStrategy.WEIGHTED, List.of("fb"),
        deployment("m-far", 0, "r2", false), deployment("m-own", 0, "r1", false));
    ModelCatalog.Model fb = Fixtures.model("fb", RoutingStrategy.WEIGHTED, List.of(), deployment("fb-own", 0, "r1", false));
    ModelCatalog catalog = new ModelCatalog(java.util.Map.of("m", main, "fb", fb));
    RoutePlanner planner = new RoutePlanner(catalog, Fixtures.routing(3), java.util.Map.of(
        RoutingStrategy.WEIGHTED, new RegionFirst("r1", new WeightedRandom(new SplittableRandom(1))),
        RoutingStrategy.LATENCY, new RegionFirst("r1", IN_ORDER)));
    List<String> plan = planner.plan("m", x -> true, ALL).attempts().stream().map(a -> a.deployment().name()).toList();
    assertEquals(List.of("m-own", "m-far", "fb-own"), plan);
  }
}
