package io.sluice.node.routing;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Picks the deployment for a request: among the deployments with the best (lowest) priority,
 * weighted random. Pure: randomness is injected, so tests are deterministic.
 *
 * <p>Superseded by {@link WeightedRandom} (the same first pick, plus a fallback order) and {@link
 * RoutePlanner}; kept until the request path moves to them.
 */
public final class Router {
  private final RandomGenerator random;

  public Router(RandomGenerator random) {
    this.random = random;
  }

  public Deployment pick(List<Deployment> deployments) {
    int best = Integer.MAX_VALUE;
    int total = 0;
    for (Deployment d : deployments) {
      if (d.priority() < best) {
        best = d.priority();
        total = 0;
      }
      if (d.priority() == best) {
        total += Math.max(0, d.weight());
      }
    }
    if (total == 0) {
      for (Deployment d : deployments) {
        if (d.priority() == best) {
          return d;
        }
      }
    }
    int ticket = random.nextInt(total);
    for (Deployment d : deployments) {
      if (d.priority() == best) {
        ticket -= Math.max(0, d.weight());
        if (ticket < 0) {
          return d;
        }
      }
    }
    throw new IllegalStateException("unreachable: weights changed during pick");
  }
}
