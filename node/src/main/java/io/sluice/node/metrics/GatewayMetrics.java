package io.sluice.node.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.node.inference.Operation;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.OutlierDetector;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The node's Prometheus metrics, served at {@code GET /metrics}: requests by operation and
 * status, upstream attempts by deployment and outcome, each deployment's health, in-flight
 * requests and latency estimate, and the JVM. Counters are looked up once per label set and then
 * cached, so counting costs an increment on the request path.
 */
public final class GatewayMetrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<Integer, Counter> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> attempts = new ConcurrentHashMap<>();
  private final List<Consumer<StringBuilder>> expositions = new CopyOnWriteArrayList<>();
  private final Counter acquires = Counter.builder("sluice_quota_acquires")
      .description("Lease requests this node sent to tenant entities").register(registry);
  private final Counter settlements = Counter.builder("sluice_quota_settlements")
      .description("Usage settlements this node sent to tenant entities").register(registry);

  private final Timer acquireTime;
  private final Timer settlementTime;

  /** With coarse journal buckets, for tests and benchmarks; the node passes its configured ones. */
  public GatewayMetrics(DeploymentStates states) {
    this(states, List.of(Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(5)));
  }

  /**
   * @param journalBuckets histogram bounds of the lease and settlement round trips, each of which
   *     ends when the tenant entity has persisted its event (a journal write)
   */
  public GatewayMetrics(DeploymentStates states, List<Duration> journalBuckets) {
    Duration[] buckets = journalBuckets.toArray(Duration[]::new);
    acquireTime = Timer.builder("sluice.quota.acquire.duration")
        .description("Lease requests from this node until the tenant entity persisted the grant and replied")
        .serviceLevelObjectives(buckets).register(registry);
    settlementTime = Timer.builder("sluice.quota.settlement.duration")
        .description("Settlements from this node until the tenant entity persisted the usage and replied"
            + " (the journal write latency, plus one round trip)")
        .serviceLevelObjectives(buckets).register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    states.all().forEach((name, st) -> {
      Gauge.builder("sluice_deployment_health", st, s -> healthValue(s.health().snapshot().state()))
          .description("Deployment health on this node: 0 healthy, 1 half-open (probing), 2 ejected")
          .tag("deployment", name).register(registry);
      Gauge.builder("sluice_deployment_in_flight", st, s -> s.limiter().inFlight())
          .description("Requests in flight to the deployment from this node")
          .tag("deployment", name).register(registry);
      Gauge.builder("sluice_deployment_latency_seconds", st, s -> s.latency().rttNanos() / 1e9)
          .description("Peak-EWMA latency estimate of the deployment")
          .tag("deployment", name).register(registry);
    });
  }

  private static double healthValue(OutlierDetector.State state) {
    return switch (state) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      default -> 2;
    };
  }

  /** Counts a finished client request. */
  public void request(Operation op, int status) {
    requests.computeIfAbsent(op.ordinal() * 1000 + status, k -> Counter.builder("sluice_requests")
        .description("Client requests by operation and HTTP status")
        .tag("operation", op.name().toLowerCase()).tag("status", Integer.toString(status))
        .register(registry)).increment();
  }

  /** Counts one upstream attempt and how it ended (OK or an error class). */
  public void attempt(Deployment d, String outcome) {
    attempts.computeIfAbsent(d.name() + '\u0000' + outcome, k -> Counter.builder("sluice_upstream_attempts")
        .description("Upstream attempts by deployment and outcome")
        .tag("deployment", d.name()).tag("outcome", outcome.toLowerCase())
        .register(registry)).increment();
  }

  /** Counts one lease request sent to a tenant entity. */
  public void acquire() {
    acquires.increment();
  }

  /** Counts one settlement sent to a tenant entity. */
  public void settlement() {
    settlements.increment();
  }

  /** Records how long a lease request took to be persisted and answered. */
  public void acquired(long nanos) {
    acquireTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Records how long a settlement took to be persisted and answered. */
  public void settled(long nanos) {
    settlementTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The registry, for the meters other parts of the node register (telemetry's histograms). */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Adds series that {@code exposition} renders itself at each scrape, after the registry's (the
   * per-tenant series, whose label set is chosen per scrape).
   */
  public void expose(Consumer<StringBuilder> exposition) {
    expositions.add(exposition);
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    String meters = registry.scrape();
    if (expositions.isEmpty()) {
      return meters;
    }
    StringBuilder out = new StringBuilder(meters.length() * 2).append(meters);
    for (Consumer<StringBuilder> e : expositions) {
      e.accept(out);
    }
    return out.toString();
  }
}
