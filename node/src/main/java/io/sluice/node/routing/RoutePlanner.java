package io.sluice.node.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Plans the attempts of a request for a model: the model's deployments in its strategy's order,
 * then each fallback model's, in the order the model lists them. It exists so that strategy,
 * fallbacks and the attempt bound are combined in one pure place.
 *
 * <p>The plan holds at most {@code max-attempts} attempts. When there are fewer distinct
 * (model, deployment) pairs than that, the sequence starts over, so a model with one deployment
 * still gets its retries. Fallback models are not followed transitively.
 */
public final class RoutePlanner {
  private final ModelCatalog catalog;
  private final int maxAttempts;
  private final Map<RoutingStrategy, Balancer> balancers;

  public RoutePlanner(ModelCatalog catalog, RoutingSettings settings, Map<RoutingStrategy, Balancer> balancers) {
    for (RoutingStrategy s : RoutingStrategy.values()) {
      if (!balancers.containsKey(s)) {
        throw new IllegalArgumentException("no balancer for strategy " + s);
      }
    }
    this.catalog = catalog;
    this.maxAttempts = settings.maxAttempts();
    this.balancers = Map.copyOf(balancers);
  }

  /**
   * The attempts for a request to {@code modelName}.
   *
   * @param modelAllowed whether the tenant may use a model; models it may not use are skipped (the
   *     caller has already refused a request for a model the tenant may not use, so in effect
   *     this filters fallbacks)
   * @param available whether a deployment may take requests now (healthy, circuit closed, below
   *     its concurrency limit)
   * @throws IllegalArgumentException if the catalog has no such model
   */
  public AttemptPlan plan(String modelName, Predicate<ModelCatalog.Model> modelAllowed,
      Predicate<Deployment> available) {
    ModelCatalog.Model model = catalog.get(modelName);
    if (model == null) {
      throw new IllegalArgumentException("unknown model " + modelName);
    }
    List<Attempt> distinct = new ArrayList<>();
    addModel(model, modelAllowed, available, distinct);
    for (String fallback : model.fallbacks()) {
      addModel(catalog.get(fallback), modelAllowed, available, distinct);
    }
    List<Attempt> attempts = new ArrayList<>(maxAttempts);
    for (int i = 0; !distinct.isEmpty() && attempts.size() < maxAttempts; i++) {
      attempts.add(distinct.get(i % distinct.size()));
    }
    return new AttemptPlan(attempts);
  }

  private void addModel(ModelCatalog.Model model, Predicate<ModelCatalog.Model> modelAllowed,
      Predicate<Deployment> available, List<Attempt> into) {
    if (model == null || !modelAllowed.test(model)) {
      return;
    }
    for (Deployment d : balancers.get(model.strategy()).plan(model.deployments(), available)) {
      into.add(new Attempt(model, d));
    }
  }
}
