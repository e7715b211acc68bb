package io.sluice.node.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Region preference around any {@link Balancer}: within each priority, the deployments of this
 * node's region come first, then those of no region, then those of other regions; each such group
 * is ordered by the wrapped balancer. It exists so that a node serves from its own region while
 * that region has a healthy deployment, and still falls back to the others, without every
 * strategy knowing about regions.
 *
 * <p>Priority always ranks before region: a priority-0 deployment of another region comes before
 * a priority-1 deployment of this one. A group whose deployments are all unavailable adds nothing,
 * so the next group moves up. Without a region of its own ({@code self} null, a single-region
 * node) or when every deployment ranks alike, the plan is the wrapped balancer's unchanged.
 */
public final class RegionFirst implements Balancer {
  private static final int OWN = 0;
  private static final int NONE = 1;
  private static final int OTHER = 2;

  private final String self;
  private final Balancer inner;

  /** @param self this node's region, or null for none (then nothing is reordered) */
  public RegionFirst(String self, Balancer inner) {
    this.self = self;
    this.inner = inner;
  }

  /** Where {@code d} ranks within its priority for a node of region {@code self}: 0 own, 1 no region, 2 another. */
  static int rank(String self, Deployment d) {
    if (d.region() == null) {
      return NONE;
    }
    return d.region().equals(self) ? OWN : OTHER;
  }

  @Override
  public List<Deployment> plan(List<Deployment> deployments, Predicate<Deployment> available) {
    if (self == null || alike(deployments)) {
      return inner.plan(deployments, available);
    }
    List<Deployment> sorted = new ArrayList<>(deployments);
    // Stable: config order within a (priority, rank) group, as the wrapped balancer expects.
    sorted.sort((a, b) -> a.priority() != b.priority() ? Integer.compare(a.priority(), b.priority())
        : Integer.compare(rank(self, a), rank(self, b)));
    List<Deployment> plan = new ArrayList<>(sorted.size());
    int from = 0;
    while (from < sorted.size()) {
      Deployment first = sorted.get(from);
      int to = from + 1;
      while (to < sorted.size() && sorted.get(to).priority() == first.priority()
          && rank(self, sorted.get(to)) == rank(self, first)) {
        to++;
      }
      plan.addAll(inner.plan(sorted.subList(from, to), available));
      from = to;
    }
    return plan;
  }

  /** Whether every deployment ranks the same, so region changes nothing (the common case of no regions). */
  private boolean alike(List<Deployment> deployments) {
    if (deployments.isEmpty()) {
      return true;
    }
    int r = rank(self, deployments.get(0));
    for (int i = 1; i < deployments.size(); i++) {
      if (rank(self, deployments.get(i)) != r) {
        return false;
      }
    }
    return true;
  }
}
