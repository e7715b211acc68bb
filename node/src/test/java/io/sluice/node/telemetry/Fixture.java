package io.sluice.node.telemetry;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.TenantView;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.RoutingStrategy;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Shared pieces of the telemetry tests: a tenant with a key, a model with a deployment, a clock. */
final class Fixture {
  static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
  static final Deployment DEPLOYMENT = new Deployment("mock-1", "openai", "http://127.0.0.1:9/v1", "upstream-mini",
      "upstream-secret", 1, 0, Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), 4, 16);
  static final ModelCatalog.Model MODEL = new ModelCatalog.Model("gpt-4o-mini", new BigDecimal("0.15"),
      new BigDecimal("0.60"), List.of(DEPLOYMENT), RoutingStrategy.WEIGHTED, List.of());
  static final TelemetrySettings SETTINGS = new TelemetrySettings(10,
      List.of(Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofSeconds(1)),
      List.of(Duration.ofMillis(1), Duration.ofMillis(10)), List.of(Duration.ofMillis(10)), true, 16,
      Path.of("access.log"));

  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private Fixture() {}

  static Fixture create() {
    return new Fixture();
  }

  /** A tenant {@code id} with the one key {@code key}, whose id is {@code key-<id>}. */
  static TenantView tenant(String id, String key) {
    TenantState s = TenantState.EMPTY
        .apply(new TenantEvent.TenantCreated(id, TenantLimits.UNLIMITED, null, NOW))
        .apply(new TenantEvent.KeyIssued("key-" + id, ApiKeys.hash(key), NOW));
    return TenantView.of(id, s);
  }

  Observability observability(AccessLog log, Tracing tracing) {
    return new Observability(new UsageMetrics(registry, SETTINGS), log, tracing, registry, nanos::get,
        InstantSource.fixed(NOW));
  }

  void advanceMillis(long ms) {
    nanos.addAndGet(ms * 1_000_000L);
  }
}
