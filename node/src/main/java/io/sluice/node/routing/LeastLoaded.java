package io.sluice.node.routing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.random.RandomGenerator;

/**
 * The {@code latency} strategy: power of two choices over each deployment's cost (peak-EWMA
 * latency × (requests in flight + 1), {@link PeakEwma#cost()}). It exists for interchangeable
 * deployments that differ in speed or load: requests go mostly to the one that will answer
 * soonest, without the herding of always picking the single best.
 *
 * <p>Among the available deployments of the lowest priority, two distinct ones are drawn at
 * random and the cheaper one is chosen (the first drawn on a tie). The others follow, by priority
 * and then by cost, cheapest first. Each deployment's cost is read once per plan. Weights are
 * not used. Randomness and costs are injected.
 */
public final class LeastLoaded implements Balancer {
  private final RandomGenerator random;
  private final ToDoubleFunction<Deployment> cost;

  /**
   * @param cost the current cost of a deployment, e.g. {@code d -> states.get(d).latency().cost()}
   */
  public LeastLoaded(RandomGenerator random, ToDoubleFunction<Deployment> cost) {
    this.random = random;
    this.cost = cost;
  }

  @Override
  public List<Deployment> plan(List<Deployment> deployments, Predicate<Deployment> available) {
    Map<Deployment, Double> costs = new IdentityHashMap<>();
    List<Deployment> candidates = new ArrayList<>(deployments.size());
    for (Deployment d : deployments) {
      if (available.test(d) && !costs.containsKey(d)) {
        costs.put(d, cost.applyAsDouble(d));
        candidates.add(d);
      }
    }
    if (candidates.isEmpty()) {
      return List.of();
    }
    candidates.sort(Comparator.<Deployment>comparingInt(Deployment::priority).thenComparing(costs::get));
    int best = candidates.get(0).priority();
    int tier = 0;
    while (tier < candidates.size() && candidates.get(tier).priority() == best) {
      tier++;
    }
    Deployment chosen = candidates.get(0);
    if (tier >= 2) {
      int i = random.nextInt(tier);
      int j = random.nextInt(tier - 1);
      if (j >= i) {
        j++;
      }
      Deployment a = candidates.get(i);
      Deployment b = candidates.get(j);
      chosen = costs.get(b) < costs.get(a) ? b : a;
    }
    List<Deployment> plan = new ArrayList<>(candidates.size());
    plan.add(chosen);
    for (Deployment d : candidates) {
      if (d != chosen) {
        plan.add(d);
      }
    }
    return plan;
  }
}
