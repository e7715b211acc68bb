package io.sluice.node.routing;

import com.typesafe.config.ConfigFactory;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** Deployments, settings and hand-driven clocks for the routing tests. */
final class Fixtures {
  private Fixtures() {}

  static final Duration SECOND = Duration.ofSeconds(1);

  static Deployment deployment(String name) {
    return deployment(name, 1, 0);
  }

  static Deployment deployment(String name, int weight, int priority) {
    return deployment(name, weight, priority, Deployment.UNLIMITED);
  }

  static Deployment deployment(String name, int weight, int priority, int maxConcurrent) {
    return new Deployment(name, "openai", "http://localhost", name, null, weight, priority,
        SECOND, Duration.ofSeconds(60), Duration.ofMinutes(10), 16, 64, maxConcurrent);
  }

  /** A deployment of weight 1 in {@code region} (null: none), shared across regions or not. */
  static Deployment deployment(String name, int priority, String region, boolean shared) {
    return new Deployment(name, "openai", "http://localhost", name, null, 1, priority, SECOND, Duration.ofSeconds(60),
        Duration.ofMinutes(10), 16, 64, Deployment.UNLIMITED, null, java.util.Map.of(), region, shared);
  }

  static ModelCatalog.Model model(String name, RoutingStrategy strategy, List<String> fallbacks, Deployment... ds) {
    return new ModelCatalog.Model(name, BigDecimal.ONE, BigDecimal.TEN, List.of(ds), strategy, fallbacks);
  }

  /** The shipped defaults of {@code sluice.routing}, as in upstream.conf. */
  static RoutingSettings routing() {
    return RoutingSettings.from(ConfigFactory.parseResources("sluice/upstream.conf").resolve());
  }

  static RoutingSettings routing(int maxAttempts) {
    RoutingSettings r = routing();
    return new RoutingSettings(maxAttempts, r.deadline(), r.backoff(), r.latencyDecay(), r.defaultRtt());
  }

  /** The shipped defaults of {@code sluice.health}, as in upstream.conf. */
  static HealthSettings health() {
    return HealthSettings.from(ConfigFactory.parseResources("sluice/upstream.conf").resolve());
  }

  /** A wall clock that moves only when told to. */
  static final class ManualClock implements InstantSource {
    private final AtomicLong millis = new AtomicLong(Instant.parse("2026-03-01T12:00:00Z").toEpochMilli());

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
      return millis.get();
    }

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }
  }

  /** A nanosecond clock that moves only when told to. */
  static final class ManualNanos implements LongSupplier {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    public long getAsLong() {
      return nanos.get();
    }

    void advance(Duration d) {
      nanos.addAndGet(d.toNanos());
    }

    void set(long value) {
      nanos.set(value);
    }
  }
}
