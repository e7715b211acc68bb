package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.it.SluiceCluster.Node;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The key lifecycle end to end on a two-node cluster (Cassandra, one mock upstream): a key with
 * {@code expires_at} is refused with 401 on each node within 1 s of its expiry, with no message
 * sent at expiry; a rotation keeps old and new key working through the overlap and then only the
 * new one; a key's model list narrows its tenant's; a key's own RPM refuses while its tenant
 * still has room. Measurements are printed with the prefix [KeyLifecycleIT].
 */
class KeyLifecycleIT {
  private static final String CHAT = Api.chatBody("gpt-4o-mini", "\"max_tokens\":8,\"mock\":{\"tokens\":8}");

  private static SluiceCluster cluster;

  @BeforeAll
  static void start() {
    cluster = SluiceCluster.start(2);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  private static void report(String format, Object... args) {
    System.out.printf("[KeyLifecycleIT] " + format + "%n", args);
  }

  private static String createTenant(String prefix, String extraJson) {
    String id = Fixtures.tenant(prefix);
    HttpResponse<String> r = Api.admin(cluster.node(1), "POST", "/admin/v1/tenants",
        "{\"id\":\"" + id + "\"" + (extraJson == null ? "" : "," + extraJson) + "}");
    assertEquals(201, r.statusCode(), r.body());
    return id;
  }

  private static JsonNode issueKey(Node via, String tenant, String body) {
    HttpResponse<String> r = Api.admin(via, "POST", "/admin/v1/tenants/" + tenant + "/keys", body);
    assertEquals(201, r.statusCode(), r.body());
    return Api.json(r.body());
  }

  private static int chat(Node n, String key) {
    return Api.chat(n, key, CHAT).statusCode();
  }

  /** Waits until every node serves {@code key} (each has the tenant cached). */
  private static void awaitServedEverywhere(String key) {
    for (Node n : cluster.nodes) {
      await("key served on " + n).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
          .untilAsserted(() -> assertEquals(200, chat(n, key)));
    }
  }

  /**
   * Polls every node with {@code key} every 20 ms until each has answered 401, and returns per
   * node the time of the first 401 (when its answer arrived). Fails after {@code atMost}.
   */
  private static Map<Integer, Instant> firstRefusals(String key, Duration atMost) {
    Map<Integer, Instant> first = new HashMap<>();
    await("401 on every node").atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> {
      for (Node n : cluster.nodes) {
        if (!first.containsKey(n.index) && chat(n, key) == 401) {
          first.put(n.index, Instant.now());
        }
      }
      return first.size() == cluster.nodes.size();
    });
    return first;
  }

  @Test
  void expiresAt_keyOnTwoNodes_401OnEachWithin1sOfItsExpiry() {
    String tenant = createTenant("expiry", null);
    Instant expiry = Instant.now().plusSeconds(6).truncatedTo(ChronoUnit.MILLIS);
    JsonNode issued = issueKey(cluster.node(1), tenant, "{\"expires_at\":\"" + expiry + "\"}");
    assertEquals(expiry, Instant.parse(issued.get("expires_at").asText()));
    String key = issued.get("key").asText();
    awaitServedEverywhere(key);
    assertTrue(Instant.now().isBefore(expiry), "the key was served everywhere only after its expiry");

    Map<Integer, Instant> first = firstRefusals(key, Duration.ofSeconds(15));
    for (Node n : cluster.nodes) {
      long late = Duration.between(expiry, first.get(n.index)).toMillis();
      report("expiry: node%d answered 401 %d ms after the key's expiry", n.index, late);
      assertTrue(late <= 1000, "node" + n.index + " refused the expired key " + late + " ms after its expiry");
      assertTrue(late >= 0, "node" + n.index + " refused the key " + (-late) + " ms before its expiry");
      JsonNode error = ErrorsIT.assertEnvelope(Api.chat(n, key, CHAT), 401);
      assertEquals("invalid_api_key", error.get("code").asText());
    }
    JsonNode listed = Api.json(Api.admin(cluster.node(2), "GET", "/admin/v1/tenants/" + tenant + "/keys", null).body());
    assertEquals(false, listed.at("/data/0/active").asBoolean(true), "an expired key is listed as inactive");
  }

  @Test
  void rotate_withOverlap_bothKeysWorkDuringItAndOnlyTheNewOneAfter() {
    String tenant = createTenant("rotate", null);
    JsonNode old = issueKey(cluster.node(1), tenant, null);
    String oldKey = old.get("key").asText();
    awaitServedEverywhere(oldKey);

    HttpResponse<String> r = Api.admin(cluster.node(2), "POST",
        "/admin/v1/tenants/" + tenant + "/keys/" + old.get("id").asText() + "/rotate", "{\"overlap_seconds\":5}");
    assertEquals(201, r.statusCode(), r.body());
    JsonNode rotated = Api.json(r.body());
    assertEquals(old.get("id").asText(), rotated.get("rotated_from").asText());
    Instant overlapEnd = Instant.parse(rotated.get("rotated_from_expires_at").asText());
    String newKey = rotated.get("key").asText();

    for (Node n : cluster.nodes) {
      assertEquals(200, chat(n, oldKey), "old key during the overlap on " + n);
      assertEquals(200, chat(n, newKey), "new key during the overlap on " + n);
    }
    assertTrue(Instant.now().isBefore(overlapEnd), "the overlap ended before both keys were checked on both nodes");

    Map<Integer, Instant> first = firstRefusals(oldKey, Duration.ofSeconds(15));
    for (Node n : cluster.nodes) {
      long late = Duration.between(overlapEnd, first.get(n.index)).toMillis();
      report("rotation: node%d refused the old key %d ms after the overlap ended", n.index, late);
      assertTrue(late >= 0 && late <= 1000, "node" + n.index + ": " + late + " ms from the overlap's end");
      assertEquals(200, chat(n, newKey), "new key after the overlap on " + n);
    }
  }

  @Test
  void rotate_overlapAboveTheBound_refusedWith400() {
    String tenant = createTenant("rotate-bound", null);
    JsonNode old = issueKey(cluster.node(1), tenant, null);
    HttpResponse<String> r = Api.admin(cluster.node(1), "POST",
        "/admin/v1/tenants/" + tenant + "/keys/" + old.get("id").asText() + "/rotate",
        "{\"overlap_seconds\":" + (7 * 86_400 + 1) + "}");
    assertEquals("overlap_seconds", ErrorsIT.assertEnvelope(r, 400).get("param").asText());
    HttpResponse<String> past = Api.admin(cluster.node(1), "POST", "/admin/v1/tenants/" + tenant + "/keys",
        "{\"expires_at\":\"2020-01-01T00:00:00Z\"}");
    assertEquals("expires_at", ErrorsIT.assertEnvelope(past, 400).get("param").asText());
    HttpResponse<String> unknown = Api.admin(cluster.node(1), "POST", "/admin/v1/tenants/" + tenant + "/keys",
        "{\"limits\":{\"tokens_per_day\":5}}");
    assertEquals(400, unknown.statusCode(), unknown.body());
  }

  @Test
  void models_keyNarrowerThanItsTenant_refusedExactlyAsTheTenantsRestriction() {
    String tenant = createTenant("key-models", "\"models\":[\"gpt-4o-mini\",\"alias\"]");
    String key = issueKey(cluster.node(1), tenant, "{\"models\":[\"alias\"]}").get("key").asText();
    for (Node n : cluster.nodes) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertEquals(200, Api.chat(n, key, Api.chatBody("alias", null)).statusCode()));
      HttpResponse<String> byKey = Api.chat(n, key, CHAT);
      HttpResponse<String> byTenant = Api.chat(n, key, Api.chatBody("priced", null));
      JsonNode keyError = ErrorsIT.assertEnvelope(byKey, 403);
      JsonNode tenantError = ErrorsIT.assertEnvelope(byTenant, 403);
      assertEquals(tenantError.get("code").asText(), keyError.get("code").asText());
      assertEquals(tenantError.get("type").asText(), keyError.get("type").asText());
      assertEquals("model_not_allowed", keyError.get("code").asText());
      JsonNode models = Api.json(Api.send("GET", n.url("/v1/models"), Map.of("Authorization", "Bearer " + key), null)
          .body());
      List<String> ids = new ArrayList<>();
      models.get("data").forEach(m -> ids.add(m.get("id").asText()));
      assertEquals(List.of("alias"), ids, "/v1/models lists the key's models within the tenant's");
    }
  }

  @Test
  void limits_keyRpmBelowTheTenants_refusedWith429WhileTheTenantStillAdmits() {
    String tenant = createTenant("key-rpm", "\"limits\":{\"requests_per_minute\":100}");
    String limited = issueKey(cluster.node(1), tenant, "{\"limits\":{\"requests_per_minute\":3}}").get("key").asText();
    String other = issueKey(cluster.node(1), tenant, null).get("key").asText();
    // The requests must not straddle a minute: wait, by probing the clock, for >= 20 s left in it.
    await("20 s left in the current UTC minute").atMost(Duration.ofSeconds(70)).pollInterval(Duration.ofMillis(200))
        .until(() -> Instant.now().atOffset(ZoneOffset.UTC).getSecond() < 40);
    Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    Node node = cluster.node(1);
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      statuses.add(chat(node, limited));
    }
    assertEquals(List.of(200, 200, 200, 429, 429), statuses);
    HttpResponse<String> refused = Api.chat(node, limited, CHAT);
    JsonNode error = ErrorsIT.assertEnvelope(refused, 429);
    assertEquals("rate_limit_exceeded", error.get("code").asText());
    assertTrue(refused.headers().firstValue("retry-after").isPresent(), refused.headers().toString());
    for (int i = 0; i < 5; i++) {
      assertEquals(200, chat(node, other), "the tenant still has room for its other key");
    }
    // Node-local: the other node counts the key on its own (the documented bound is nodes x limit).
    List<Integer> second = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      second.add(chat(cluster.node(2), limited));
    }
    assertEquals(3, second.stream().filter(s -> s == 200).count(), "node2: " + second);
    assertEquals(minute, Instant.now().truncatedTo(ChronoUnit.MINUTES), "the requests straddled a minute");
    report("key rpm 3: node1 %s, node2 %s; the tenant's other key kept getting 200", statuses, second);
  }
}
