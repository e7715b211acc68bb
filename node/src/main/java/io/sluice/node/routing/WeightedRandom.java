package io.sluice.node.routing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * The {@code weighted} strategy: lowest priority value first, weighted random within a priority.
 * It exists for deployments that differ in capacity or cost rather than in speed, and for
 * primary/backup setups (priority 0 first, priority 1 only when no priority-0 deployment is
 * available).
 *
 * <p>The plan orders each priority, lowest first, by successive weighted draws without
 * replacement, so a retry also goes to a deployment in proportion to its weight. Deployments of
 * weight 0 come last in their priority, in config order. The first pick is the same as the
 * former {@link Router#pick} for the same random source. Randomness is injected.
 */
public final class WeightedRandom implements Balancer {
  private final RandomGenerator random;

  public WeightedRandom(RandomGenerator random) {
    this.random = random;
  }

  @Override
  public List<Deployment> plan(List<Deployment> deployments, Predicate<Deployment> available) {
    List<Deployment> candidates = new ArrayList<>(deployments.size());
    for (Deployment d : deployments) {
      if (available.test(d)) {
        candidates.add(d);
      }
    }
    candidates.sort(Comparator.comparingInt(Deployment::priority)); // stable: config order within a priority
    List<Deployment> plan = new ArrayList<>(candidates.size());
    int from = 0;
    while (from < candidates.size()) {
      int to = from;
      while (to < candidates.size() && candidates.get(to).priority() == candidates.get(from).priority()) {
        to++;
      }
      drawInOrder(new ArrayList<>(candidates.subList(from, to)), plan);
      from = to;
    }
    return plan;
  }

  /** Appends {@code tier} to {@code plan} in weighted-random order. */
  private void drawInOrder(List<Deployment> tier, List<Deployment> plan) {
    long total = 0;
    for (Deployment d : tier) {
      total += Math.max(0, d.weight());
    }
    while (total > 0) {
      // nextInt while it can: the same draws as the former Router.pick, so the first pick is unchanged.
      long ticket = total <= Integer.MAX_VALUE ? random.nextInt((int) total) : random.nextLong(total);
      for (int i = 0; i < tier.size(); i++) {
        Deployment d = tier.get(i);
        long w = Math.max(0, d.weight());
        ticket -= w;
        if (w > 0 && ticket < 0) {
          plan.add(d);
          tier.remove(i);
          total -= w;
          break;
        }
      }
    }
    plan.addAll(tier); // weight 0: only when the weighted ones are not enough
  }
}
