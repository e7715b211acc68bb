package io.sluice.node.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.RequestObservation;
import io.sluice.persistence.UsageCounters;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.RoutingSettings;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class UsageMetricsTest {
  private static final Pattern TOKENS =
      Pattern.compile("sluice_tenant_tokens_total\\{tenant=\"([^\"]+)\",model=\"([^\"]+)\",direction=\"(\\w+)\"} (\\d+)");

  private static RequestRecord record(String tenant, long input, long output, int status, Refusal.Kind refusal) {
    return new RequestRecord(Fixture.NOW, "r", "openai", Operation.CHAT, tenant, "k", "gpt-4o-mini", "mock-1", status,
        refusal, null, input, output, input * 150 + output * 600, 5_000_000, 1_000_000, false, 100_000, 1, null);
  }

  private static Set<String> tenantsIn(String scrape) {
    Set<String> tenants = new TreeSet<>();
    Matcher m = Pattern.compile("sluice_tenant_\\w+\\{tenant=\"([^\"]+)\"").matcher(scrape);
    while (m.find()) {
      tenants.add(m.group(1));
    }
    return tenants;
  }

  private static long tokens(String scrape, String direction) {
    long sum = 0;
    Matcher m = TOKENS.matcher(scrape);
    while (m.find()) {
      if (m.group(3).equals(direction)) {
        sum += Long.parseLong(m.group(4));
      }
    }
    return sum;
  }

  @Test
  void render_moreTenantsThanTopN_showsTheHeaviestAndSumsTheRestIntoOther() {
    Fixture f = Fixture.create();
    UsageMetrics metrics = new UsageMetrics(f.registry, Fixture.SETTINGS);
    for (int i = 0; i < 50; i++) {
      metrics.record(record("t" + i, i * 10L, i, 200, null));
    }
    metrics.record(record("t3", 0, 0, 429, Refusal.Kind.BUDGET_EXHAUSTED));
    StringBuilder out = new StringBuilder();
    metrics.render(out);
    String scrape = out.toString();
    Set<String> expected = new TreeSet<>(Set.of("_other"));
    for (int i = 40; i < 50; i++) {
      expected.add("t" + i);
    }
    assertEquals(expected, tenantsIn(scrape));
    long allInput = 0;
    for (int i = 0; i < 50; i++) {
      allInput += i * 10L;
    }
    assertEquals(allInput, tokens(scrape, "input"));
    assertTrue(scrape.contains("sluice_tenant_requests_total{tenant=\"_other\",model=\"gpt-4o-mini\",status=\"200\",reason=\"none\"} 40"), scrape);
    assertTrue(scrape.contains("sluice_tenant_requests_total{tenant=\"_other\",model=\"gpt-4o-mini\",status=\"429\",reason=\"budget_exhausted\"} 1"), scrape);
    assertTrue(scrape.contains("sluice_tenant_cost_usd_total{tenant=\"t49\",model=\"gpt-4o-mini\"} " + (490 * 150 + 49 * 600) / 1e9), scrape);
    assertTrue(scrape.contains("sluice_tenants_tracked 50"), scrape);
  }

  /**
   * 2,000 tenants through the request observation, as the node records them, scraped as /metrics
   * serves it (GatewayMetrics, the per-tenant series appended): the top N tenants' series and
   * _other, whatever the number of tenants.
   */
  @Test
  void scrape_2000TenantsThroughObservations_capHolds() {
    Config config = ConfigFactory.load();
    TelemetrySettings settings = TelemetrySettings.from(config);
    GatewayMetrics gateway = new GatewayMetrics(DeploymentStates.create(ModelCatalog.from(config),
        RoutingSettings.from(config), HealthSettings.from(config), InstantSource.system(), System::nanoTime),
        settings.journalBuckets());
    Fixture f = Fixture.create();
    Observability o = new Observability(new UsageMetrics(gateway.registry(), Fixture.SETTINGS), null, null,
        gateway.registry(), f.nanos::get, InstantSource.system());
    gateway.expose(o.metrics()::render);
    for (int i = 0; i < 2000; i++) {
      String key = "sk-sluice.tenant-" + i + ".secret";
      RequestObservation obs = o.start("openai", Operation.CHAT, "r" + i, f.nanos.get(), h -> null);
      obs.authenticated(Fixture.tenant("tenant-" + i, key), key);
      obs.admitted(Fixture.MODEL, -1);
      obs.attemptStarted(Fixture.DEPLOYMENT);
      f.advanceMillis(1);
      obs.settled(new UsageCounters(1, i, i % 7, i * 100L));
      obs.served(false, 10_000);
      obs.finished(200);
    }
    String scrape = gateway.scrape();
    assertTrue(scrape.contains("sluice_request_duration_seconds_count{operation=\"chat\"} 2000"));
    Set<String> tenants = tenantsIn(scrape);
    // The top N and _other (_unauthenticated appears only once such a request came).
    assertEquals(Fixture.SETTINGS.topTenants() + 1, tenants.size(), tenants.toString());
    assertTrue(tenants.contains("tenant-1999"));
    assertEquals(1999L * 2000 / 2, tokens(scrape, "input"));
  }

  /** Prints the scrape's size and time with 10,000 tenants (measured, not asserted); asserts the cap. */
  @Test
  void render_10000Tenants_boundedSeriesAndItsCostPrinted() {
    Fixture f = Fixture.create();
    TelemetrySettings settings = new TelemetrySettings(100, Fixture.SETTINGS.latencyBuckets(),
        Fixture.SETTINGS.overheadBuckets(), Fixture.SETTINGS.journalBuckets(), false, 1,
        Fixture.SETTINGS.accessLogFile());
    UsageMetrics metrics = new UsageMetrics(f.registry, settings);
    for (int i = 0; i < 10_000; i++) {
      metrics.record(record("tenant-" + i, 100 + i, 10, 200, null));
      metrics.record(record("tenant-" + i, 0, 0, 429, Refusal.Kind.RATE_LIMITED));
    }
    String scrape = "";
    long best = Long.MAX_VALUE;
    for (int run = 0; run < 5; run++) {
      long t0 = System.nanoTime();
      StringBuilder out = new StringBuilder();
      metrics.render(out);
      scrape = out.toString();
      best = Math.min(best, System.nanoTime() - t0);
    }
    assertEquals(101, tenantsIn(scrape).size());
    long lines = scrape.lines().filter(l -> !l.startsWith("#")).count();
    System.out.printf("per-tenant exposition, 10,000 tenants, top 100: %d series, %d bytes, %.1f ms (best of 5)%n",
        lines, scrape.length(), Duration.ofNanos(best).toNanos() / 1e6);
    // 101 tenants (top 100 and _other) x (2 token series + 1 cost + 2 request series) + the tracked gauge.
    assertEquals(101 * 5 + 1, lines, scrape.substring(0, Math.min(2000, scrape.length())));
  }

  @Test
  void record_unknownTenantAndModel_neverBecomeLabels() {
    Fixture f = Fixture.create();
    UsageMetrics metrics = new UsageMetrics(f.registry, Fixture.SETTINGS);
    metrics.record(new RequestRecord(Fixture.NOW, "r", "openai", Operation.CHAT, null, null, null, null, 404,
        Refusal.Kind.NOT_FOUND, "model_not_found", 0, 0, 0, 1000, 1000, false, 1000, 0, null));
    StringBuilder out = new StringBuilder();
    metrics.render(out);
    assertEquals(Set.of("_unauthenticated"), tenantsIn(out.toString()));
    assertTrue(out.toString().contains("model=\"_none\",status=\"404\",reason=\"not_found\"} 1"), out.toString());
  }
}
