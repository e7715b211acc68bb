package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible API end to end: a node JVM, the mock upstream, real sockets. */
class InferenceIT {
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("inference");
    node = SluiceNode.start("inference", Fixtures.models(mock));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void chat_nonStreaming_returnsUpstreamAnswerWithGatewayHeaders() {
    String key = Api.tenantWithKey(node, Fixtures.tenant("chat"), null);
    HttpResponse<String> r = Api.chat(node, key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"tokens\":7}"));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = Api.json(r.body());
    assertEquals("chat.completion", body.get("object").asText());
    assertEquals(7, body.at("/usage/completion_tokens").asInt());
    assertEquals("mock-1", r.headers().firstValue("x-sluice-deployment").orElseThrow());
    double overhead = Double.parseDouble(r.headers().firstValue("x-sluice-overhead-ms").orElseThrow());
    assertTrue(overhead >= 0, "overhead " + overhead);
  }

  @Test
  void chat_streaming_chunksArriveIncrementally() throws Exception {
    String key = Api.tenantWithKey(node, Fixtures.tenant("stream"), null);
    String body = Api.chatBody("gpt-4o-mini", "\"stream\":true,\"mock\":{\"tokens\":6,\"inter_token_ms\":150}");
    HttpResponse<Stream<String>> r = Api.CLIENT.send(streamRequest(key, body), HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    List<Long> arrivals = new ArrayList<>();
    List<String> data = new ArrayList<>();
    r.body().filter(l -> l.startsWith("data: ")).forEach(l -> {
      arrivals.add(System.nanoTime());
      data.add(l.substring(6));
    });
    assertEquals("[DONE]", data.get(data.size() - 1));
    long contentChunks = data.stream().filter(d -> d.contains("\"content\"")).count();
    assertEquals(6, contentChunks);
    // The upstream spaces its 6 tokens 150 ms apart: chunks forwarded as they come arrive spread
    // over most of that time; a buffered response would arrive all at once.
    long spreadMs = (arrivals.get(arrivals.size() - 1) - arrivals.get(0)) / 1_000_000;
    assertTrue(spreadMs >= 500, "chunks arrived within " + spreadMs + " ms: the stream was buffered");
  }

  @Test
  void chat_clientDisconnectsMidStream_upstreamRequestCancelled() throws Exception {
    String key = Api.tenantWithKey(node, Fixtures.tenant("cancel"), null);
    long before = mock.stats().get("cancelled_streams").asLong();
    String body = Api.chatBody("gpt-4o-mini", "\"stream\":true,\"mock\":{\"tokens\":200,\"inter_token_ms\":50}");
    HttpResponse<InputStream> r = Api.CLIENT.send(streamRequest(key, body), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String first = reader.readLine();
      assertTrue(first.startsWith("data: "), first);
    }
    await("upstream stream cancelled").atMost(Duration.ofSeconds(8))
        .until(() -> mock.stats().get("cancelled_streams").asLong() > before);
    assertEquals(0, mock.stats().get("in_flight").asLong());
  }

  @Test
  void chat_unknownFields_forwardedByteForByteWithUpstreamKey() {
    String key = Api.tenantWithKey(node, Fixtures.tenant("passthrough"), null);
    String body = "{ \"model\" : \"gpt-4o-mini\", \"messages\":[{\"role\":\"user\",\"content\":\"h\\u00e9llo \\\"q\\\"\"}],"
        + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}],"
        + "\"response_format\":{\"type\":\"json_object\"}, \"x_vendor\": [1, 2.5, null, true] }";
    assertEquals(200, Api.chat(node, key, body).statusCode());
    JsonNode seen = mock.lastRequest();
    assertEquals(body, seen.get("body").asText());
    assertEquals("Bearer " + Fixtures.UPSTREAM_KEY, seen.get("authorization").asText());
    assertFalse(seen.toString().contains(key), "the client's key reached the upstream");
  }

  @Test
  void chat_aliasModel_upstreamGetsDeploymentModelName() {
    String key = Api.tenantWithKey(node, Fixtures.tenant("alias"), null);
    String body = Api.chatBody("alias", "\"temperature\":0.2");
    HttpResponse<String> r = Api.chat(node, key, body);
    assertEquals(200, r.statusCode(), r.body());
    String forwarded = mock.lastRequest().get("body").asText();
    assertEquals(body.replace("\"alias\"", "\"upstream-real-name\""), forwarded);
  }

  @Test
  void embeddings_validKey_returnsOneVectorPerInput() {
    String key = Api.tenantWithKey(node, Fixtures.tenant("embed"), null);
    HttpResponse<String> r = Api.post(node, "/v1/embeddings", key,
        "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = Api.json(r.body());
    assertEquals(2, body.get("data").size());
    assertTrue(body.at("/data/0/embedding").isArray());
    assertEquals("mock-embed", r.headers().firstValue("x-sluice-deployment").orElseThrow());
  }

  @Test
  void models_tenantWithModelList_listsOnlyAllowedModels() {
    String limited = Api.tenantWithKey(node, Fixtures.tenant("models"), "\"models\":[\"gpt-4o-mini\",\"alias\"]");
    HttpResponse<String> r = Api.send("GET", node.url("/v1/models"), java.util.Map.of("Authorization", "Bearer " + limited), null);
    assertEquals(200, r.statusCode());
    List<String> ids = new ArrayList<>();
    Api.json(r.body()).get("data").forEach(m -> ids.add(m.get("id").asText()));
    assertEquals(java.util.Set.of("gpt-4o-mini", "alias"), new java.util.HashSet<>(ids));

    String all = Api.tenantWithKey(node, Fixtures.tenant("models-all"), null);
    JsonNode allModels = Api.json(Api.send("GET", node.url("/v1/models"),
        java.util.Map.of("Authorization", "Bearer " + all), null).body());
    assertTrue(allModels.get("data").size() >= 5);
    assertNotEquals(ids.size(), allModels.get("data").size());
  }

  private static HttpRequest streamRequest(String key, String body) {
    return HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }
}
