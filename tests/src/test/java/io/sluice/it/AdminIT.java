package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin API: authentication, tenants, keys, and revocation taking effect within 1 s. */
class AdminIT {
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("admin");
    node = SluiceNode.start("admin", Fixtures.models(mock));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void admin_missingOrWrongKey_answers401() {
    ErrorsIT.assertEnvelope(Api.send("GET", node.url("/admin/v1/tenants/x"), Map.of(), null), 401);
    ErrorsIT.assertEnvelope(Api.send("POST", node.url("/admin/v1/tenants"), Map.of("Authorization", "Bearer wrong"),
        "{\"id\":\"sneaky\"}"), 401);
    assertEquals(404, Api.admin(node, "GET", "/admin/v1/tenants/sneaky", null).statusCode());
  }

  @Test
  void regions_singleRegionNode_listsNoRegionsAndNoReplicas() {
    HttpResponse<String> r = Api.admin(node, "GET", "/admin/v1/regions", null);
    assertEquals(200, r.statusCode());
    JsonNode body = Api.json(r.body());
    assertFalse(body.get("multi_region").asBoolean());
    assertTrue(body.get("region").isNull());
    assertEquals(0, body.get("regions").size());
    assertEquals(0, body.get("replicas").size());
  }

  @Test
  void createTenant_validBody_answers201AndGetShowsIt() {
    String id = Fixtures.tenant("create");
    HttpResponse<String> r = Api.admin(node, "POST", "/admin/v1/tenants",
        "{\"id\":\"" + id + "\",\"limits\":{\"requests_per_minute\":60,\"spend_usd_per_day\":2.5},\"models\":[\"gpt-4o-mini\"]}");
    assertEquals(201, r.statusCode(), r.body());
    JsonNode got = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id, null).body());
    assertEquals(id, got.get("id").asText());
    assertTrue(got.get("enabled").asBoolean());
    assertEquals(60, got.at("/limits/requests_per_minute").asInt());
    assertEquals(2.5, got.at("/limits/spend_usd_per_day").asDouble());
    assertEquals("gpt-4o-mini", got.at("/models/0").asText());
    assertEquals(409, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"" + id + "\"}").statusCode());
  }

  @Test
  void createTenant_invalidBodies_answer400() {
    String[] bodies = {
        "{\"id\":\"Bad Id\"}", "{}", "{\"id\":\"ok-1\",\"limitz\":{}}", "{\"id\":\"ok-2\",\"limits\":{\"tokens_per_day\":-1}}",
        "{\"id\":\"ok-3\",\"models\":[\"no-such-model\"]}", "{\"id\":", "{\"id\":\"ok-4\",\"limits\":{\"requests_per_minute\":\"many\"}}"};
    for (String body : bodies) {
      ErrorsIT.assertEnvelope(Api.admin(node, "POST", "/admin/v1/tenants", body), 400);
    }
  }

  @Test
  void patchTenant_limitsAndModels_changeOnlyWhatIsNamed() {
    String id = Fixtures.tenant("patch");
    String key = Api.tenantWithKey(node, id, "\"limits\":{\"requests_per_minute\":10,\"tokens_per_minute\":1000}");
    HttpResponse<String> r = Api.admin(node, "PATCH", "/admin/v1/tenants/" + id,
        "{\"limits\":{\"tokens_per_minute\":5000},\"models\":[\"alias\"]}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode t = Api.json(r.body());
    assertEquals(10, t.at("/limits/requests_per_minute").asInt());
    assertEquals(5000, t.at("/limits/tokens_per_minute").asInt());
    await().atMost(Duration.ofSeconds(1)).untilAsserted(() ->
        assertEquals(403, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode()));
    assertEquals(200, Api.chat(node, key, Api.chatBody("alias", null)).statusCode());
    ErrorsIT.assertEnvelope(Api.admin(node, "PATCH", "/admin/v1/tenants/" + id, "{\"id\":\"other\"}"), 400);
    ErrorsIT.assertEnvelope(Api.admin(node, "PATCH", "/admin/v1/tenants/nobody-" + id, "{\"limits\":{}}"), 404);
  }

  @Test
  void patchTenant_wrongTypes_answer400AndLeaveTheTenantAsItWas() {
    String id = Fixtures.tenant("patch-types");
    Api.tenantWithKey(node, id, "\"limits\":{\"requests_per_minute\":10},\"models\":[\"gpt-4o-mini\"]");
    String[] bodies = {
        "{\"models\":\"alias\"}", "{\"models\":{\"a\":\"alias\"}}", "{\"models\":[1]}",
        "{\"models\":[[\"alias\"]]}", "{\"models\":true}", "{\"models\":7}", "{\"models\":[\"alias\",{}]}",
        "{\"limits\":\"x\"}", "{\"limits\":[1]}", "{\"limits\":5}", "{\"limits\":{\"requests_per_minute\":\"many\"}}",
        "{\"limits\":{\"requests_per_minute\":[1]}}", "[]", "\"models\""};
    for (String body : bodies) {
      JsonNode error = ErrorsIT.assertEnvelope(Api.admin(node, "PATCH", "/admin/v1/tenants/" + id, body), 400);
      assertEquals("invalid_request_error", error.get("type").asText(), body);
    }
    JsonNode t = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id, null).body());
    assertEquals(1, t.get("models").size(), t.toString());
    assertEquals("gpt-4o-mini", t.at("/models/0").asText());
    assertEquals(10, t.at("/limits/requests_per_minute").asInt());
  }

  @Test
  void keys_listShowsIdsAndTimesButNeverKeysOrHashes() {
    String id = Fixtures.tenant("keys");
    String key = Api.tenantWithKey(node, id, null);
    HttpResponse<String> r = Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/keys", null);
    assertEquals(200, r.statusCode());
    JsonNode k = Api.json(r.body()).at("/data/0");
    assertTrue(k.get("id").asText().startsWith("key_"));
    assertTrue(k.has("created_at"));
    assertFalse(r.body().contains(key.substring(key.lastIndexOf('.') + 1)), "key secret listed");
    assertFalse(r.body().contains("hash"), r.body());
    assertFalse(Api.admin(node, "GET", "/admin/v1/tenants/" + id, null).body().contains(key));
  }

  @Test
  void revokeKey_usedKey_rejectedWithin1s() {
    String id = Fixtures.tenant("revoke");
    String key = Api.tenantWithKey(node, id, null);
    String other = Api.json(Api.admin(node, "POST", "/admin/v1/tenants/" + id + "/keys", null).body()).get("key").asText();
    assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
    String keyId = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/keys", null).body()).at("/data/0/id").asText();
    HttpResponse<String> revoked = Api.admin(node, "DELETE", "/admin/v1/tenants/" + id + "/keys/" + keyId, null);
    assertEquals(200, revoked.statusCode(), revoked.body());
    await().atMost(Duration.ofSeconds(1)).untilAsserted(() ->
        assertEquals(401, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode()));
    assertEquals(200, Api.chat(node, other, Api.chatBody("gpt-4o-mini", null)).statusCode(), "the other key must still work");
    assertEquals(404, Api.admin(node, "DELETE", "/admin/v1/tenants/" + id + "/keys/key_nope", null).statusCode());
  }

  @Test
  void deleteTenant_disablesEveryKeyWithin1s() {
    String id = Fixtures.tenant("disable");
    String key = Api.tenantWithKey(node, id, null);
    assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
    HttpResponse<String> r = Api.admin(node, "DELETE", "/admin/v1/tenants/" + id, null);
    assertEquals(200, r.statusCode());
    assertFalse(Api.json(r.body()).get("enabled").asBoolean());
    await().atMost(Duration.ofSeconds(1)).untilAsserted(() ->
        assertEquals(401, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode()));
    assertEquals(409, Api.admin(node, "POST", "/admin/v1/tenants/" + id + "/keys", null).statusCode());
  }
}
