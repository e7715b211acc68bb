package io.sluice.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.tenant.RegionSettings;
import io.sluice.node.tenant.Windows;
import io.sluice.persistence.ReplicatedTenantState;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdminJsonUsageTest {
  private static final Instant T = Instant.parse("2026-03-01T12:00:30Z");
  private static final TenantLimits LIMITS = new TenantLimits(21L, null, null, new BigDecimal("2"), null, null);

  private static List<TenantEvent> traffic(String node, long requests, long costNanos) {
    long minute = Windows.id(WindowKind.MINUTE, T);
    long day = Windows.id(WindowKind.DAY, T);
    UsageCounters u = new UsageCounters(requests, 3 * requests, requests, costNanos);
    return List.of(new TenantEvent.WindowRolled(WindowKind.MINUTE, minute, T),
        new TenantEvent.WindowRolled(WindowKind.DAY, day, T),
        new TenantEvent.UsageSettled(node, 1, Map.of(WindowKind.MINUTE, minute, WindowKind.DAY, day),
            Map.of(WindowKind.MINUTE, u, WindowKind.DAY, u), Map.of(), 0, T.plusSeconds(30), T));
  }

  private static JsonNode json(Object value) throws Exception {
    return AdminJson.MAPPER.readTree(AdminJson.MAPPER.writeValueAsString(value));
  }

  private static List<String> fields(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  @Test
  void usage_singleRegion_sameFieldsAsBefore() throws Exception {
    TenantState s = new TenantState(null, false, TenantLimits.UNLIMITED, null, Map.of(), null, 0, Map.of(), Map.of(),
        Map.of()).apply(new TenantEvent.TenantCreated("acme", LIMITS, null, T));
    for (TenantEvent e : traffic("n1", 5, 1_500_000_000L)) {
      s = s.apply(e);
    }
    JsonNode body = json(AdminJson.Usage.of(s, T));
    assertEquals(List.of("tenant", "windows", "concurrent_requests"), fields(body));
    assertEquals(5, body.at("/windows/minute/requests/used").asLong());
    assertEquals(21, body.at("/windows/minute/requests/limit").asLong());
    assertEquals(List.of("start", "reset_at", "requests", "prompt_tokens", "completion_tokens", "tokens", "cost_usd"),
        fields(body.at("/windows/minute")));
  }

  @Test
  void usage_twoRegions_globalTotalsAndEachRegionsPartWithRights() throws Exception {
    ReplicatedTenantState rs = ReplicatedTenantState.EMPTY
        .apply(new TenantEvent.TenantCreated("acme", LIMITS, null, T), "r1", "r2");
    for (TenantEvent e : traffic("n1", 5, 1_500_000_000L)) {
      rs = rs.apply(e, "r1", "r2");
    }
    for (TenantEvent e : traffic("n2", 3, 250_000_000L)) {
      rs = rs.apply(e, "r2", "r2");
    }
    RegionSettings settings = new RegionSettings("r2", List.of("r1", "r2"), Map.of(), Map.of(), Duration.ofSeconds(1),
        0.25, 0.5);
    JsonNode body = json(AdminJson.Usage.of(rs, settings, T));
    assertEquals(List.of("tenant", "windows", "concurrent_requests", "region", "regions"), fields(body));
    assertEquals("r2", body.get("region").asText());
    assertEquals(8, body.at("/windows/minute/requests/used").asLong(), "the global total");
    assertEquals(21, body.at("/windows/minute/requests/limit").asLong());
    assertEquals("1.75", body.at("/windows/day/cost_usd/used").asText());
    assertEquals(List.of("r1", "r2"), fields(body.get("regions")));
    assertEquals(5, body.at("/regions/r1/windows/minute/requests/used").asLong());
    assertEquals(11, body.at("/regions/r1/windows/minute/requests/rights").asLong());
    assertEquals(3, body.at("/regions/r2/windows/minute/requests/used").asLong());
    assertEquals(10, body.at("/regions/r2/windows/minute/requests/rights").asLong());
    assertEquals("1", body.at("/regions/r1/windows/day/cost_usd/rights").asText(), "half of the 2 USD a day");
    assertTrue(body.at("/regions/r1/windows/minute/tokens/rights").isNull(), "no token limit: no rights");
    assertTrue(body.at("/regions/r1/concurrent_requests/rights").isNull());
  }

  @Test
  void circuits_otherRegionsOpenCircuit_listedUnderRegionsOfItsDeployment() throws Exception {
    io.sluice.node.routing.Deployment d = new io.sluice.node.routing.Deployment("d", "openai", "http://x", "m", null, 1,
        0, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1, 0, null, Map.of(), "r1", true);
    io.sluice.node.routing.ModelCatalog catalog = new io.sluice.node.routing.ModelCatalog(Map.of("m",
        new io.sluice.node.routing.ModelCatalog.Model("m", BigDecimal.ONE, BigDecimal.ONE, List.of(d))));
    TenantState s = TenantState.EMPTY.apply(new TenantEvent.TenantCreated("acme", LIMITS, null, T))
        .apply(new TenantEvent.CircuitOpened(io.sluice.persistence.CircuitState.regionKey("d", "r2"), 429, "HTTP 429",
            T.plusSeconds(30), T));
    JsonNode c = json(AdminJson.Circuits.of(s, catalog, T)).at("/data/0");
    assertEquals("closed", c.get("status").asText(), "this region's own circuit");
    assertEquals("open", c.at("/regions/r2").asText());
    JsonNode closed = json(AdminJson.Circuits.of(s, catalog, T.plusSeconds(31))).at("/data/0");
    assertEquals("half_open", closed.at("/regions/r2").asText());
    JsonNode none = json(AdminJson.Circuits.of(TenantState.EMPTY.apply(
        new TenantEvent.TenantCreated("acme", LIMITS, null, T)), catalog, T)).at("/data/0");
    assertTrue(none.get("regions") == null, "absent without other regions' circuits");
  }
}
