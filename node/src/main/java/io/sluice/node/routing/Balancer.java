package io.sluice.node.routing;

import java.util.List;
import java.util.function.Predicate;

/**
 * Orders a model's deployments for one request. It exists so that each {@link RoutingStrategy}
 * is a small pure class, and the request path only iterates a list.
 */
public interface Balancer {

  /**
   * The deployments to try, in order, without repeats: the chosen one first, then the others in
   * the order to fall back to them. Deployments {@code available} rejects (ejected, circuit open,
   * at their concurrency limit) are left out; the list is empty when none is available.
   */
  List<Deployment> plan(List<Deployment> deployments, Predicate<Deployment> available);
}
