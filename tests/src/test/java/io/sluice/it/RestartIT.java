package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** State lives in the embedded journal: a restarted node still knows its tenants and keys. */
class RestartIT {
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("restart");
    node = SluiceNode.start("restart", Fixtures.models(mock));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void restart_tenantsAndKeys_survive() {
    String id = Fixtures.tenant("durable");
    String kept = Api.tenantWithKey(node, id, "\"limits\":{\"requests_per_minute\":42},\"models\":[\"gpt-4o-mini\"]");
    JsonNode revokedKey = Api.json(Api.admin(node, "POST", "/admin/v1/tenants/" + id + "/keys", null).body());
    assertEquals(200, Api.admin(node, "DELETE", "/admin/v1/tenants/" + id + "/keys/" + revokedKey.get("id").asText(), null).statusCode());
    String gone = Fixtures.tenant("gone");
    String goneKey = Api.tenantWithKey(node, gone, null);
    assertEquals(200, Api.admin(node, "DELETE", "/admin/v1/tenants/" + gone, null).statusCode());

    node.restart();

    JsonNode t = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id, null).body());
    assertEquals(42, t.at("/limits/requests_per_minute").asInt());
    assertEquals(1, t.get("active_keys").asInt());
    assertEquals(200, Api.chat(node, kept, Api.chatBody("gpt-4o-mini", null)).statusCode());
    assertEquals(401, Api.chat(node, revokedKey.get("key").asText(), Api.chatBody("gpt-4o-mini", null)).statusCode());
    assertEquals(401, Api.chat(node, goneKey, Api.chatBody("gpt-4o-mini", null)).statusCode());
    assertFalse(Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + gone, null).body()).get("enabled").asBoolean());
    assertEquals(2, Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/keys", null).body()).get("data").size());
  }
}
