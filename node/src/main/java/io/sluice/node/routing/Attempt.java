package io.sluice.node.routing;

/**
 * One planned upstream attempt: the served model (its own, or a fallback, whose price applies)
 * and the deployment to send to. It exists so that a fallback's model travels with its
 * deployment: the request body's model becomes {@code deployment.upstreamModel()} and usage is
 * priced with {@code model}'s price.
 */
public record Attempt(ModelCatalog.Model model, Deployment deployment) {

  @Override
  public String toString() {
    return model.name() + "@" + deployment.name();
  }
}
