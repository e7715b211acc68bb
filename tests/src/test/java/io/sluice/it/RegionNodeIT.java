package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One node of region r1 in a deployment of regions r1 and r2, with r2 never reachable (it does not
 * run): the node serves from the replicated tenant entity, and a region cut off from the others
 * admits exactly its base share of a limit, no more. The embedded journal stands in for the
 * multi-DC one, so nothing of r2 ever arrives; the two-region setup is RegionsIT's. The usage it
 * shows holds r1's part and both regions' rights, and it serves a model from r1's deployment
 * before r2's.
 */
class RegionNodeIT {
  private static MockUpstream mock;
  private static SluiceNode node;

  /** One model with a deployment in each region, r2's listed first at the same priority. */
  private static final String REGIONAL = """
      sluice.models."regional" {
        deployments = [
          { name = "far", provider = openai, base-url = "%1$s", model = "gpt-4o-mini", region = r2, shared = true },
          { name = "near", provider = openai, base-url = "%1$s", model = "gpt-4o-mini", region = r1 } ]
      }
      """;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("region-node");
    node = SluiceNode.start("region-node",
        Fixtures.models(mock) + "\nsluice.regions.query-plugin = \"jdbc-read-journal\"\n" + REGIONAL.formatted(mock.baseUrl()),
        Map.of("SLUICE_REGION", "r1", "SLUICE_REGIONS", "r1,r2"));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void regions_nodeOfR1_listsBothRegionsAndR2NotHeardFrom() {
    HttpResponse<String> r = Api.admin(node, "GET", "/admin/v1/regions", null);
    assertEquals(200, r.statusCode());
    JsonNode body = Api.json(r.body());
    assertTrue(body.get("multi_region").asBoolean());
    assertEquals("r1", body.get("region").asText());
    assertEquals(2, body.get("regions").size());
    JsonNode replica = body.get("replicas").get(0);
    assertEquals("r2", replica.get("region").asText());
    assertTrue(replica.get("lag_ms").isNull());
  }

  @Test
  void rpm_limit21CutOffFromR2_admitsExactlyR1sBaseShareOf11() {
    await("room in the current minute").atMost(Duration.ofSeconds(70)).pollInterval(Duration.ofMillis(200))
        .until(() -> Instant.now().atOffset(ZoneOffset.UTC).getSecond() < 40);
    String tenant = Fixtures.tenant("escrow");
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"requests_per_minute\":21}");
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      HttpRequest request = HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
          .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(Api.chatBody("gpt-4o-mini", null)))
          .build();
      all.add(Api.CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
    }
    List<HttpResponse<String>> replies = all.stream().map(CompletableFuture::join).toList();
    // floor(21/2) + [index 0 < 21 mod 2] = 11 for r1; r2's 10 are out of reach.
    assertEquals(11, replies.stream().filter(r -> r.statusCode() == 200).count());
    assertEquals(19, replies.stream().filter(r -> r.statusCode() == 429).count());
    // The usage shows the global total and each region's part with its rights, once settled.
    await("the usage settled").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      JsonNode usage = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + tenant + "/usage", null).body());
      assertEquals("r1", usage.get("region").asText());
      assertEquals(11, usage.at("/windows/minute/requests/used").asLong());
      assertEquals(21, usage.at("/windows/minute/requests/limit").asLong());
      assertEquals(11, usage.at("/regions/r1/windows/minute/requests/used").asLong());
      assertEquals(11, usage.at("/regions/r1/windows/minute/requests/rights").asLong());
      assertEquals(0, usage.at("/regions/r2/windows/minute/requests/used").asLong());
      assertEquals(10, usage.at("/regions/r2/windows/minute/requests/rights").asLong());
    });
  }

  @Test
  void route_deploymentsOfBothRegions_nodeOfR1ServesFromR1s() {
    String key = Api.tenantWithKey(node, Fixtures.tenant("route"), null);
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = Api.chat(node, key, Api.chatBody("regional", null));
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("near", r.headers().firstValue("x-sluice-deployment").orElse(null));
    }
  }
}
