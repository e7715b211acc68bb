package io.sluice.node.routing;

import java.util.Locale;

/**
 * How a model spreads its requests over its deployments ({@code strategy} in the model's
 * config). It exists so that a model chooses its {@link Balancer} by name.
 */
public enum RoutingStrategy {
  /** Lowest priority value first, weighted random within it: {@link WeightedRandom}. */
  WEIGHTED,
  /** Power of two choices over peak-EWMA latency times load: {@link LeastLoaded}. */
  LATENCY;

  /** The strategy named {@code name} in config ({@code weighted} or {@code latency}). */
  public static RoutingStrategy parse(String name) {
    return valueOf(name.trim().toUpperCase(Locale.ROOT));
  }
}
