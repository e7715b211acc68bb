package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RouterTest {
  private static final int PICKS = 10_000;

  private static Deployment d(String name, int weight, int priority) {
    return new Deployment(name, "openai", "http://" + name + "/v1", "m", null, weight, priority,
        Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1);
  }

  private static Map<String, Integer> counts(List<Deployment> deployments, long seed) {
    Router router = new Router(new Random(seed));
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < PICKS; i++) {
      counts.merge(router.pick(deployments).name(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void pick_singleDeployment_alwaysIt() {
    Deployment only = d("a", 1, 0);
    Router router = new Router(new Random(1));
    for (int i = 0; i < 100; i++) {
      assertSame(only, router.pick(List.of(only)));
    }
  }

  static Stream<Arguments> priorityCases() {
    return Stream.of(
        Arguments.of(List.of(d("best", 1, 0), d("worse", 100, 1)), "best"),
        Arguments.of(List.of(d("worse", 100, 1), d("best", 1, 0)), "best"),
        Arguments.of(List.of(d("p5", 1, 5), d("p2", 1, 2), d("p9", 1, 9)), "p2"),
        Arguments.of(List.of(d("neg", 1, -1), d("zero", 1000, 0)), "neg"),
        Arguments.of(List.of(d("worse", 1, 1), d("best", 0, 0)), "best"));
  }

  @ParameterizedTest(name = "[{index}] -> {1}")
  @MethodSource("priorityCases")
  void pick_mixedPriorities_lowestPriorityValueAlwaysWins(List<Deployment> deployments, String expected) {
    Map<String, Integer> counts = counts(deployments, 7);
    assertEquals(Map.of(expected, PICKS), counts);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 42, 20260301})
  void pick_weights1And3_splitAboutQuarterThreeQuarters(long seed) {
    Map<String, Integer> counts = counts(List.of(d("a", 1, 0), d("b", 3, 0)), seed);
    assertBand(counts.getOrDefault("a", 0), 0.25);
    assertBand(counts.getOrDefault("b", 0), 0.75);
  }

  @Test
  void pick_threeWeights_proportionalShares() {
    Map<String, Integer> counts = counts(List.of(d("a", 5, 0), d("b", 3, 0), d("c", 2, 0)), 99);
    assertBand(counts.getOrDefault("a", 0), 0.5);
    assertBand(counts.getOrDefault("b", 0), 0.3);
    assertBand(counts.getOrDefault("c", 0), 0.2);
  }

  @Test
  void pick_weightsOnlyAmongBestPriority_lowerPriorityNeverPicked() {
    Map<String, Integer> counts = counts(
        List.of(d("backup", 1000, 1), d("a", 1, 0), d("b", 1, 0)), 5);
    assertEquals(null, counts.get("backup"));
    assertBand(counts.getOrDefault("a", 0), 0.5);
    assertBand(counts.getOrDefault("b", 0), 0.5);
  }

  @Test
  void pick_zeroWeightAmongWeighted_neverPicked() {
    Map<String, Integer> counts = counts(List.of(d("zero", 0, 0), d("a", 1, 0), d("neg", -5, 0)), 3);
    assertEquals(Map.of("a", PICKS), counts);
  }

  static Stream<Arguments> zeroWeightCases() {
    return Stream.of(
        Arguments.of(List.of(d("first", 0, 0), d("second", 0, 0)), "first"),
        Arguments.of(List.of(d("other", 5, 1), d("first", 0, 0), d("second", 0, 0)), "first"),
        Arguments.of(List.of(d("first", -1, 0), d("second", 0, 0)), "first"),
        Arguments.of(List.of(d("only", 0, 3)), "only"));
  }

  @ParameterizedTest(name = "[{index}] -> {1}")
  @MethodSource("zeroWeightCases")
  void pick_allBestPriorityWeightsZero_firstOfBestPriority(List<Deployment> deployments, String expected) {
    assertEquals(Map.of(expected, PICKS), counts(deployments, 11));
  }

  @Test
  void pick_sameSeed_sameSequence() {
    List<Deployment> ds = List.of(d("a", 1, 0), d("b", 1, 0), d("c", 1, 0));
    Router r1 = new Router(new Random(123));
    Router r2 = new Router(new Random(123));
    for (int i = 0; i < 1000; i++) {
      assertSame(r1.pick(ds), r2.pick(ds));
    }
  }

  /** Within 2.5 percentage points of the expected share: about 5 standard deviations at 10,000 picks. */
  private static void assertBand(int count, double expectedShare) {
    double share = (double) count / PICKS;
    assertTrue(Math.abs(share - expectedShare) < 0.025,
        () -> "share " + share + " is not within 0.025 of " + expectedShare);
  }
}
