package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.routing.Fixtures.ManualNanos;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LeastLoadedTest {
  private static final Predicate<Deployment> ALL = d -> true;

  private static LeastLoaded balancer(long seed, Map<String, Double> costs) {
    return new LeastLoaded(new SplittableRandom(seed), d -> costs.get(d.name()));
  }

  private static List<String> names(List<Deployment> plan) {
    return plan.stream().map(Deployment::name).toList();
  }

  @ParameterizedTest(name = "a={0} b={1} -> {2}")
  @CsvSource({"1, 2, a", "2, 1, b", "0.001, 1000, a", "50, 5, b"})
  void plan_twoDeployments_alwaysCheaperFirst(double a, double b, String expected) {
    List<Deployment> ds = List.of(deployment("a"), deployment("b"));
    for (long seed = 0; seed < 200; seed++) {
      assertEquals(expected, balancer(seed, Map.of("a", a, "b", b)).plan(ds, ALL).get(0).name());
    }
  }

  @Test
  void plan_equalCosts_spreadsRandomly() {
    List<Deployment> ds = List.of(deployment("a"), deployment("b"), deployment("c"));
    Map<String, Integer> firsts = new HashMap<>();
    LeastLoaded l = balancer(3, Map.of("a", 1.0, "b", 1.0, "c", 1.0));
    for (int i = 0; i < 3_000; i++) {
      firsts.merge(l.plan(ds, ALL).get(0).name(), 1, Integer::sum);
    }
    firsts.values().forEach(n -> assertEquals(1_000, n, 100));
  }

  @Test
  void plan_fourDeployments_mostExpensiveNeverFirstCheapestHalfTheTime() {
    // Power of two choices: the worst loses every pairing; the best is in a pair with p = 2/n.
    List<Deployment> ds = List.of(deployment("a"), deployment("b"), deployment("c"), deployment("d"));
    LeastLoaded l = balancer(5, Map.of("a", 1.0, "b", 2.0, "c", 3.0, "d", 4.0));
    int runs = 20_000;
    Map<String, Integer> firsts = new HashMap<>();
    for (int i = 0; i < runs; i++) {
      firsts.merge(l.plan(ds, ALL).get(0).name(), 1, Integer::sum);
    }
    assertEquals(0, firsts.getOrDefault("d", 0));
    assertEquals(0.5, firsts.get("a") / (double) runs, 0.015);
    assertEquals(1 / 3.0, firsts.get("b") / (double) runs, 0.015);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4})
  void plan_rest_byPriorityThenCostWithoutRepeats(long seed) {
    List<Deployment> ds = List.of(deployment("p1-slow", 1, 1), deployment("p0-a"), deployment("p0-b"),
        deployment("p1-fast", 1, 1), deployment("p0-c"));
    Map<String, Double> costs = Map.of("p0-a", 3.0, "p0-b", 1.0, "p0-c", 2.0, "p1-slow", 9.0, "p1-fast", 0.1);
    List<String> plan = names(balancer(seed, costs).plan(ds, ALL));
    assertEquals(5, new HashSet<>(plan).size());
    assertTrue(plan.get(0).startsWith("p0"), "a cheap lower priority does not jump the queue");
    List<String> rest = plan.subList(1, 5);
    List<String> expected = new java.util.ArrayList<>(List.of("p0-b", "p0-c", "p0-a", "p1-fast", "p1-slow"));
    expected.remove(plan.get(0));
    assertEquals(expected, rest);
  }

  @Test
  void plan_unavailable_skippedAndEmptyWhenNone() {
    List<Deployment> ds = List.of(deployment("a"), deployment("b"), deployment("c", 1, 1));
    Map<String, Double> costs = Map.of("a", 1.0, "b", 5.0, "c", 0.5);
    assertEquals(List.of("b", "c"), names(balancer(1, costs).plan(ds, d -> !d.name().equals("a"))));
    assertEquals(List.of("c"), names(balancer(1, costs).plan(ds, d -> d.name().equals("c"))));
    assertEquals(List.of(), balancer(1, costs).plan(ds, d -> false));
  }

  /**
   * An event-driven simulation: a request arrives every {@code gapMillis}, each deployment
   * answers after its latency (±10%), and costs come from real {@link PeakEwma}s on a simulated
   * clock. Returns how many requests each deployment got.
   */
  private static Map<String, Integer> simulate(Map<String, Integer> latencyMillis, int requests, long gapMillis,
      long seed) {
    ManualNanos clock = new ManualNanos();
    Map<String, PeakEwma> ewmas = new HashMap<>();
    Map<String, Deployment> byName = new LinkedHashMap<>();
    for (String name : latencyMillis.keySet()) {
      byName.put(name, deployment(name));
      ewmas.put(name, new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(500), clock));
    }
    List<Deployment> ds = List.copyOf(byName.values());
    LeastLoaded l = new LeastLoaded(new SplittableRandom(seed), d -> ewmas.get(d.name()).cost());
    SplittableRandom noise = new SplittableRandom(seed + 1);
    record Done(long atNanos, String name, long startNanos) {}
    PriorityQueue<Done> inFlight = new PriorityQueue<>((x, y) -> Long.compare(x.atNanos(), y.atNanos()));
    Map<String, Integer> counts = new HashMap<>();
    long t = clock.getAsLong();
    for (int i = 0; i < requests; i++) {
      t += Duration.ofMillis(gapMillis).toNanos();
      while (!inFlight.isEmpty() && inFlight.peek().atNanos() <= t) {
        Done done = inFlight.poll();
        clock.set(done.atNanos());
        ewmas.get(done.name()).end(done.startNanos());
      }
      clock.set(t);
      String name = l.plan(ds, ALL).get(0).name();
      counts.merge(name, 1, Integer::sum);
      long start = ewmas.get(name).start();
      long latency = (long) (Duration.ofMillis(latencyMillis.get(name)).toNanos() * noise.nextDouble(0.9, 1.1));
      inFlight.add(new Done(start + latency, name, start));
    }
    return counts;
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void plan_simulated5msVs50ms_fasterGetsOverEightyPercent(long seed) {
    Map<String, Integer> latency = new LinkedHashMap<>();
    latency.put("fast", 5);
    latency.put("slow", 50);
    int requests = 20_000;
    Map<String, Integer> counts = simulate(latency, requests, 2, seed);
    double fastShare = counts.get("fast") / (double) requests;
    assertTrue(fastShare > 0.8, "fast share " + fastShare);
  }

  @Test
  void plan_simulatedThreeDeployments_sharesOrderedBySpeed() {
    Map<String, Integer> latency = new LinkedHashMap<>();
    latency.put("fast", 5);
    latency.put("medium", 20);
    latency.put("slow", 100);
    Map<String, Integer> counts = simulate(latency, 20_000, 1, 7);
    assertTrue(counts.get("fast") > counts.get("medium"), counts.toString());
    assertTrue(counts.getOrDefault("medium", 0) > counts.getOrDefault("slow", 0), counts.toString());
  }

  @Test
  void plan_heavyLoad_spillsOverToSlowerDeployment() {
    // One request every ms to a 5 ms deployment keeps ~5 in flight: cost 5 ms × 6 = 30 ms, so a
    // 20 ms deployment with nothing in flight is cheaper and takes part of the load.
    Map<String, Integer> latency = new LinkedHashMap<>();
    latency.put("fast", 5);
    latency.put("slower", 20);
    Map<String, Integer> counts = simulate(latency, 20_000, 1, 3);
    assertTrue(counts.get("slower") > 1_000, counts.toString());
    assertTrue(counts.get("fast") > counts.get("slower"), counts.toString());
  }

  @Test
  void plan_fastDeploymentTurnsSlow_trafficMovesWithinAFewRequests() {
    ManualNanos clock = new ManualNanos();
    PeakEwma a = new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(500), clock);
    PeakEwma b = new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(500), clock);
    Deployment da = deployment("a");
    Deployment db = deployment("b");
    LeastLoaded l = new LeastLoaded(new SplittableRandom(1), d -> (d == da ? a : b).cost());
    List<Deployment> ds = List.of(da, db);
    // Warm up: a answers in 10 ms, b in 50 ms.
    for (int i = 0; i < 200; i++) {
      PeakEwma e = l.plan(ds, ALL).get(0) == da ? a : b;
      long start = e.start();
      clock.advance(Duration.ofMillis(e == a ? 10 : 50));
      e.end(start);
    }
    assertEquals(da, l.plan(ds, ALL).get(0));
    // a suddenly takes 2 s: one such answer makes its estimate peak, and b takes over at once.
    long start = a.start();
    clock.advance(Duration.ofSeconds(2));
    a.end(start);
    assertNotEquals(da, l.plan(ds, ALL).get(0));
  }
}
