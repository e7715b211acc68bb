package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every failure a client can cause gets OpenAI's error envelope with the right status, no stack
 * trace, and no secret, in the body or in the node's log.
 */
class ErrorsIT {
  private static MockUpstream mock;
  private static SluiceNode node;
  private static String key;
  private static String tenant;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("errors");
    node = SluiceNode.start("errors", Fixtures.models(mock));
    tenant = Fixtures.tenant("errors");
    key = Api.tenantWithKey(node, tenant, "\"models\":[\"gpt-4o-mini\",\"dead\",\"slow\"]");
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
      String log = Files.readString(node.log());
      assertFalse(log.contains(key), "the tenant key appeared in the node log");
      assertFalse(log.contains(Fixtures.UPSTREAM_KEY), "the upstream key appeared in the node log");
      assertFalse(log.contains(SluiceNode.ADMIN_KEY), "the admin key appeared in the node log");
    }
    if (mock != null) mock.close();
  }

  static Stream<Arguments> badRequests() {
    return Stream.of(
        Arguments.of("malformed JSON", "{\"model\": \"gpt-4o-mini\", \"messages\": [", 400, "invalid_request_error", null, null),
        Arguments.of("messages not an array", "{\"model\":\"gpt-4o-mini\",\"messages\":\"hi\"}", 400, "invalid_request_error", null, "messages"),
        Arguments.of("missing model", "{\"messages\":[]}", 400, "invalid_request_error", null, "model"),
        Arguments.of("model not a string", "{\"model\":4,\"messages\":[]}", 400, "invalid_request_error", null, "model"),
        Arguments.of("stream not a boolean", Api.chatBody("gpt-4o-mini", "\"stream\":\"yes\""), 400, "invalid_request_error", null, "stream"),
        Arguments.of("body not an object", "[1,2]", 400, "invalid_request_error", null, null),
        Arguments.of("model outside the tenant's list", Api.chatBody("alias", null), 403, "invalid_request_error", "model_not_allowed", "model"),
        Arguments.of("unknown model", Api.chatBody("no-such-model", null), 404, "invalid_request_error", "model_not_found", "model"),
        Arguments.of("upstream refuses the connection", Api.chatBody("dead", null), 502, "upstream_error", "upstream_unavailable", null),
        Arguments.of("upstream too slow to answer", Api.chatBody("slow", "\"mock\":{\"latency_ms\":2000}"), 504, "upstream_error", "upstream_timeout", null),
        Arguments.of("upstream 5xx", Api.chatBody("gpt-4o-mini", "\"mock\":{\"status\":500}"), 502, "upstream_error", "upstream_error", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void chat_badRequest_answersEnvelopeWithStatus(String name, String body, int status, String type, String code, String param) {
    HttpResponse<String> r = Api.chat(node, key, body);
    JsonNode error = assertEnvelope(r, status);
    assertEquals(type, error.get("type").asText(), r.body());
    if (code != null) assertEquals(code, error.get("code").asText(), r.body());
    if (param != null) assertEquals(param, error.get("param").asText(), r.body());
  }

  static Stream<Arguments> badKeys() {
    return Stream.of(
        Arguments.of("no Authorization header", null),
        Arguments.of("not a Sluice key", "sk-proj-abcdef"),
        Arguments.of("wrong secret for a real tenant", "sk-sluice." + "%TENANT%" + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Arguments.of("unknown tenant", "sk-sluice.nobody-here.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Arguments.of("invalid tenant id", "sk-sluice.UPPER.x"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badKeys")
  void chat_badKey_answers401InvalidApiKey(String name, String badKey) {
    String k = badKey == null ? null : badKey.replace("%TENANT%", tenant);
    HttpResponse<String> r = Api.chat(node, k, Api.chatBody("gpt-4o-mini", null));
    JsonNode error = assertEnvelope(r, 401);
    assertEquals("invalid_api_key", error.get("code").asText());
    if (k != null) assertFalse(r.body().contains(k), "the key was echoed");
  }

  @Test
  void chat_bodyOverLimit_answers413() {
    String big = Api.chatBody("gpt-4o-mini", "\"padding\":\"" + "x".repeat(70 * 1024) + "\"");
    assertEnvelope(Api.chat(node, key, big), 413);
  }

  @Test
  void chat_upstream4xx_passedThroughInSameEnvelope() {
    HttpResponse<String> r = Api.chat(node, key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"status\":422}"));
    JsonNode error = assertEnvelope(r, 422);
    assertTrue(error.get("message").asText().length() > 0);
    HttpResponse<String> limited = Api.chat(node, key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"status\":429}"));
    assertEnvelope(limited, 429);
  }

  @Test
  void unknownPathAndWrongMethod_answerEnvelope() {
    assertEnvelope(Api.send("GET", node.url("/v1/nothing"), Map.of(), null), 404);
    assertEnvelope(Api.send("GET", node.url("/v1/chat/completions"), Map.of("Authorization", "Bearer " + key), null), 405);
  }

  /** Asserts the status and OpenAI's envelope shape, with no stack trace and no secret. */
  static JsonNode assertEnvelope(HttpResponse<String> r, int status) {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.headers().toString());
    JsonNode error = Api.json(r.body()).get("error");
    assertTrue(error != null && error.isObject(), r.body());
    for (String field : new String[] {"message", "type", "param", "code"}) {
      assertTrue(error.has(field), "envelope lacks " + field + ": " + r.body());
    }
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat ") || r.body().contains("at io.sluice"), r.body());
    assertFalse(r.body().contains(Fixtures.UPSTREAM_KEY), "upstream key leaked: " + r.body());
    return error;
  }
}
