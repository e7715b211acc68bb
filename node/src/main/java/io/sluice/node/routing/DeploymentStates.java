package io.sluice.node.routing;

import java.time.InstantSource;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * This node's live state of every deployment: its concurrency limiter, latency tracker and
 * outlier detector, by deployment name. It exists to keep that state storage apart from the
 * decision classes, and to give the request path and the admin API one place to find it.
 * Built once at start from the catalog; a deployment name shared by several models shares one
 * state, as it shares one connection pool.
 */
public final class DeploymentStates {

  /** The live state of one deployment. */
  public record State(Deployment deployment, ConcurrencyLimiter limiter, PeakEwma latency, OutlierDetector health) {

    /** Whether the deployment may take a request now: below its limit and not ejected (advisory). */
    public boolean available() {
      return limiter.hasCapacity() && health.admitsNow();
    }
  }

  private final Map<String, State> states;

  private DeploymentStates(Map<String, State> states) {
    this.states = states;
  }

  /**
   * The states of {@code catalog}'s deployments.
   *
   * @param clock wall clock of the outlier detectors ({@code InstantSource.system()})
   * @param nanoClock monotonic clock of the latency trackers ({@code System::nanoTime})
   */
  public static DeploymentStates create(ModelCatalog catalog, RoutingSettings routing, HealthSettings health,
      InstantSource clock, LongSupplier nanoClock) {
    Map<String, State> states = new LinkedHashMap<>();
    for (ModelCatalog.Model m : catalog.models().values()) {
      for (Deployment d : m.deployments()) {
        states.computeIfAbsent(d.name(), n -> new State(d, ConcurrencyLimiter.of(d),
            PeakEwma.of(routing, nanoClock), new OutlierDetector(health, clock)));
      }
    }
    return new DeploymentStates(Collections.unmodifiableMap(states));
  }

  /**
   * The state of {@code d}.
   *
   * @throws IllegalArgumentException for a deployment not in the catalog
   */
  public State get(Deployment d) {
    State s = states.get(d.name());
    if (s == null) {
      throw new IllegalArgumentException("unknown deployment " + d.name());
    }
    return s;
  }

  /** {@link State#available()} of {@code d}: a predicate for {@link RoutePlanner#plan}. */
  public boolean available(Deployment d) {
    return get(d).available();
  }

  /** The {@link PeakEwma#cost()} of {@code d}: the cost function of {@link LeastLoaded}. */
  public double cost(Deployment d) {
    return get(d).latency().cost();
  }

  /** Every deployment's state, by name, in catalog order. */
  public Map<String, State> all() {
    return states;
  }
}
