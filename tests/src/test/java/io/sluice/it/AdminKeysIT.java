package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scoped admin keys over HTTP: root issues admin, read-only and tenant-admin keys; each admin
 * endpoint answers each role as its scope says (2xx or 403); revocation takes effect at once; the
 * keys survive a restart (they are events of the admin-keys entity).
 */
class AdminKeysIT {
  private static MockUpstream mock;
  private static SluiceNode node;
  private static String own;
  private static String other;
  private static final Map<String, String> KEYS = new HashMap<>();
  private static final Map<String, String> IDS = new HashMap<>();

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("admin-keys");
    node = SluiceNode.start("admin-keys", Fixtures.models(mock));
    own = Fixtures.tenant("own");
    other = Fixtures.tenant("other");
    assertEquals(201, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"" + own + "\"}").statusCode());
    assertEquals(201, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"" + other + "\"}").statusCode());
    OWN_KEY.append(tenantKeyId(own));
    OTHER_KEY.append(tenantKeyId(other));
    KEYS.put("root", SluiceNode.ADMIN_KEY);
    KEYS.put("admin", issue("{\"role\":\"admin\"}"));
    KEYS.put("read-only", issue("{\"role\":\"read-only\"}"));
    KEYS.put("tenant-admin", issue("{\"role\":\"tenant-admin\",\"tenants\":[\"" + own + "\"]}"));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  /** A tenant key of each tenant, to rotate (a rotation keeps the old key working for an hour, so it rotates again). */
  private static final StringBuilder OWN_KEY = new StringBuilder();
  private static final StringBuilder OTHER_KEY = new StringBuilder();

  private static String tenantKeyId(String tenant) {
    HttpResponse<String> r = Api.admin(node, "POST", "/admin/v1/tenants/" + tenant + "/keys", null);
    assertEquals(201, r.statusCode(), r.body());
    return Api.json(r.body()).get("id").asText();
  }

  private static String issue(String body) {
    HttpResponse<String> r = Api.admin(node, "POST", "/admin/v1/admin-keys", body);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode j = Api.json(r.body());
    assertTrue(j.get("key").asText().startsWith("sk-sluice-admin."), r.body());
    IDS.put(j.get("key").asText(), j.get("id").asText());
    return j.get("key").asText();
  }

  private static HttpResponse<String> as(String key, String method, String path, String body) {
    return Api.send(method, node.url(path), Map.of("Authorization", "Bearer " + key, "Content-Type",
        "application/json"), body);
  }

  /** One endpoint and the roles that may call it. */
  private record Endpoint(String method, Supplier<String> path, Supplier<String> body, String allowed) {}

  private static final Endpoint[] ENDPOINTS = {
      new Endpoint("GET", () -> "/admin/v1/deployments", () -> null, "root admin read-only"),
      new Endpoint("GET", () -> "/admin/v1/tenants", () -> null, "root admin read-only"),
      new Endpoint("POST", () -> "/admin/v1/tenants", () -> "{\"id\":\"" + Fixtures.tenant("new") + "\"}",
          "root admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + own, () -> null, "root admin read-only tenant-admin"),
      new Endpoint("PATCH", () -> "/admin/v1/tenants/" + own, () -> "{\"limits\":{\"requests_per_minute\":100}}",
          "root admin tenant-admin"),
      new Endpoint("PATCH", () -> "/admin/v1/tenants/" + own, () -> "{\"models\":[\"gpt-4o-mini\"]}",
          "root admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + own + "/usage", () -> null,
          "root admin read-only tenant-admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + own + "/usage/history", () -> null,
          "root admin read-only tenant-admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + own + "/circuits", () -> null, "root admin read-only"),
      new Endpoint("POST", () -> "/admin/v1/tenants/" + own + "/keys", () -> null, "root admin tenant-admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + own + "/keys", () -> null,
          "root admin read-only tenant-admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + other, () -> null, "root admin read-only"),
      new Endpoint("PATCH", () -> "/admin/v1/tenants/" + other, () -> "{\"limits\":{\"requests_per_minute\":100}}",
          "root admin"),
      new Endpoint("POST", () -> "/admin/v1/tenants/" + other + "/keys", () -> null, "root admin"),
      new Endpoint("POST", () -> "/admin/v1/tenants/" + own + "/keys/" + OWN_KEY + "/rotate", () -> null,
          "root admin tenant-admin"),
      new Endpoint("POST", () -> "/admin/v1/tenants/" + other + "/keys/" + OTHER_KEY + "/rotate", () -> null,
          "root admin"),
      new Endpoint("GET", () -> "/admin/v1/tenants/" + other + "/usage", () -> null, "root admin read-only"),
      new Endpoint("GET", () -> "/admin/v1/admin-keys", () -> null, "root"),
      new Endpoint("POST", () -> "/admin/v1/admin-keys", () -> "{\"role\":\"read-only\"}", "root"),
  };

  static Stream<Arguments> roleTimesEndpoint() {
    return Stream.of("root", "admin", "read-only", "tenant-admin").flatMap(role -> Stream.of(ENDPOINTS)
        .map(e -> Arguments.of(role, e.method() + " " + e.path().get().replaceAll("-\\d+-\\d+", "")
            + (e.body().get() == null ? "" : " " + e.body().get().replaceAll("\"new-\\d+-\\d+\"", "\"new\"")), e)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("roleTimesEndpoint")
  void adminEndpoint_eachRole_answersAsItsScopeSays(String role, String label, Endpoint e) {
    HttpResponse<String> r = as(KEYS.get(role), e.method(), e.path().get(), e.body().get());
    boolean allowed = (" " + e.allowed() + " ").contains(" " + role + " ");
    if (allowed) {
      assertTrue(r.statusCode() / 100 == 2, role + " " + label + ": " + r.statusCode() + " " + r.body());
    } else {
      JsonNode error = ErrorsIT.assertEnvelope(r, 403);
      assertEquals("admin_key_scope", error.get("code").asText(), r.body());
    }
  }

  @Test
  void audit_adminWrites_listedWithWhoWhenWhereAndRequestId() {
    String tenant = Fixtures.tenant("audited");
    java.time.Instant before = java.time.Instant.now().minusSeconds(1);
    assertEquals(201, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"" + tenant + "\"}").statusCode());
    String key = issue("{\"role\":\"tenant-admin\",\"tenants\":[\"" + tenant + "\"]}");
    HttpResponse<String> issued = Api.send("POST", node.url("/admin/v1/tenants/" + tenant + "/keys"),
        Map.of("Authorization", "Bearer " + key, "x-sluice-request-id", "req-audit-1"), null);
    assertEquals(201, issued.statusCode(), issued.body());
    String keyId = Api.json(issued.body()).get("id").asText();
    assertEquals(200, as(key, "DELETE", "/admin/v1/tenants/" + tenant + "/keys/" + keyId, null).statusCode());
    // a refused write records nothing
    ErrorsIT.assertEnvelope(as(key, "PATCH", "/admin/v1/tenants/" + tenant, "{\"models\":[\"gpt-4o-mini\"]}"), 403);

    HttpResponse<String> r = as(key, "GET", "/admin/v1/audit?tenant=" + tenant + "&since=" + before, null);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode data = Api.json(r.body()).get("data");
    assertEquals(3, data.size(), r.body());
    assertEquals("tenant.create", data.get(0).get("action").asText());
    assertEquals("root", data.get(0).get("actor").asText());
    assertEquals("key.issue", data.get(1).get("action").asText());
    assertEquals(IDS.get(key), data.get(1).get("actor").asText());
    assertEquals("127.0.0.1", data.get(1).get("address").asText());
    assertEquals("req-audit-1", data.get(1).get("request_id").asText());
    assertEquals(keyId, data.get(1).get("target").asText());
    assertEquals("key.revoke", data.get(2).get("action").asText());
    assertTrue(java.time.Instant.parse(data.get(2).get("at").asText()).isAfter(before));
    // since filters; other tenants' trails are out of a tenant-admin's scope
    String later = data.get(2).get("at").asText();
    assertEquals(1, Api.json(as(key, "GET", "/admin/v1/audit?tenant=" + tenant + "&since=" + later, null).body())
        .get("data").size());
    ErrorsIT.assertEnvelope(as(key, "GET", "/admin/v1/audit?tenant=" + own, null), 403);
    ErrorsIT.assertEnvelope(Api.admin(node, "GET", "/admin/v1/audit", null), 400);
  }

  @Test
  void issueAdminKey_invalidBodies_answer400() {
    for (String body : new String[] {"{\"role\":\"god\"}", "{}", "{\"role\":\"tenant-admin\"}",
        "{\"role\":\"admin\",\"tenants\":[\"x\"]}", "{\"role\":\"tenant-admin\",\"tenants\":[\"Bad Id\"]}",
        "{\"role\":\"admin\",\"extra\":1}"}) {
      ErrorsIT.assertEnvelope(Api.admin(node, "POST", "/admin/v1/admin-keys", body), 400);
    }
    ErrorsIT.assertEnvelope(Api.admin(node, "DELETE", "/admin/v1/admin-keys/adm_nope", null), 404);
  }

  @Test
  void revokeAdminKey_thenRestart_revokedKeyIs401AndOthersStillWork() {
    HttpResponse<String> issued = Api.admin(node, "POST", "/admin/v1/admin-keys", "{\"role\":\"read-only\"}");
    JsonNode j = Api.json(issued.body());
    String key = j.get("key").asText();
    assertEquals(200, as(key, "GET", "/admin/v1/deployments", null).statusCode());
    HttpResponse<String> revoked = Api.admin(node, "DELETE", "/admin/v1/admin-keys/" + j.get("id").asText(), null);
    assertEquals(200, revoked.statusCode(), revoked.body());
    assertTrue(Api.json(revoked.body()).has("revoked_at"), revoked.body());
    ErrorsIT.assertEnvelope(as(key, "GET", "/admin/v1/deployments", null), 401);
    JsonNode list = Api.json(Api.admin(node, "GET", "/admin/v1/admin-keys", null).body());
    assertTrue(list.get("data").size() >= 4, list.toString());
    assertTrue(!list.toString().contains(key) && !list.toString().contains("hash"), "no key or hash listed");

    node.restart();
    ErrorsIT.assertEnvelope(as(key, "GET", "/admin/v1/deployments", null), 401);
    assertEquals(200, as(KEYS.get("read-only"), "GET", "/admin/v1/deployments", null).statusCode());
    assertEquals(200, as(KEYS.get("tenant-admin"), "GET", "/admin/v1/tenants/" + own, null).statusCode());
  }
}
