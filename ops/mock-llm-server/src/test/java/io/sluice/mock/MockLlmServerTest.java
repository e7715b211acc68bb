package io.sluice.mock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MockLlmServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHAT = "/v1/chat/completions";

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private MockLlmServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void chatCompletion_nonStreaming_echoesModelAndReportsUsage() throws Exception {
    start(MockSettings.defaults().withTokens(5));
    // 14 + 18 UTF-8 bytes ("é", "ö": 2 bytes, the emoji: 4) -> 32 / 4 = 8, + 3 per message = 14
    HttpResponse<String> res = post(CHAT, """
        {"model":"gpt-x","messages":[{"role":"system","content":"You are terse."},
         {"role":"user","content":"héllo wörld 😀"}]}""");

    assertEquals(200, res.statusCode());
    assertEquals("application/json", res.headers().firstValue("content-type").orElseThrow());
    JsonNode body = JSON.readTree(res.body());
    assertTrue(body.get("id").asText().startsWith("chatcmpl-mock-"));
    assertEquals("chat.completion", body.get("object").asText());
    assertTrue(body.get("created").asLong() > 1_600_000_000L);
    assertEquals("gpt-x", body.get("model").asText());
    JsonNode choice = body.get("choices").get(0);
    assertEquals("assistant", choice.get("message").get("role").asText());
    assertEquals("tok tok tok tok tok ", choice.get("message").get("content").asText());
    assertEquals("stop", choice.get("finish_reason").asText());
    assertEquals(14, body.get("usage").get("prompt_tokens").asInt());
    assertEquals(5, body.get("usage").get("completion_tokens").asInt());
    assertEquals(19, body.get("usage").get("total_tokens").asInt());
  }

  @Test
  void chatCompletion_contentPartsAndTokensOverride_countsTextPartsAndUsesOverride() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<String> res = post(CHAT, """
        {"model":"m","mock":{"tokens":2},"messages":[{"role":"user","content":[
          {"type":"text","text":"12345678"},{"type":"image_url","image_url":{"url":"x"}}]}]}""");

    JsonNode usage = JSON.readTree(res.body()).get("usage");
    assertEquals(2 + 3, usage.get("prompt_tokens").asInt());
    assertEquals(2, usage.get("completion_tokens").asInt());
  }

  @Test
  void chatCompletion_streamWithoutIncludeUsage_sendsRoleThenContentThenStopThenDone() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<String> res = post(CHAT, """
        {"model":"m","stream":true,"mock":{"tokens":3},"messages":[{"role":"user","content":"hi"}]}""");

    assertEquals(200, res.statusCode());
    assertEquals("text/event-stream", res.headers().firstValue("content-type").orElseThrow());
    List<String> events = events(res.body());
    assertEquals(5, events.size(), events.toString());
    for (int i = 0; i < 3; i++) {
      JsonNode chunk = JSON.readTree(events.get(i));
      assertEquals("chat.completion.chunk", chunk.get("object").asText());
      assertEquals("m", chunk.get("model").asText());
      JsonNode delta = chunk.get("choices").get(0).get("delta");
      assertEquals("tok ", delta.get("content").asText());
      assertEquals(i == 0, delta.has("role"), "only the first chunk carries the role");
      assertTrue(chunk.get("choices").get(0).get("finish_reason").isNull());
    }
    JsonNode stop = JSON.readTree(events.get(3));
    assertEquals("stop", stop.get("choices").get(0).get("finish_reason").asText());
    assertEquals(0, stop.get("choices").get(0).get("delta").size());
    assertFalse(stop.has("usage"));
    assertEquals("[DONE]", events.get(4));
    assertEquals(JSON.readTree(events.get(0)).get("id"), stop.get("id"), "all chunks of a stream share one id");
  }

  @Test
  void chatCompletion_streamWithIncludeUsage_sendsUsageChunkBeforeDone() throws Exception {
    start(MockSettings.defaults().withTokens(2));
    HttpResponse<String> res = post(CHAT, """
        {"model":"m","stream":true,"stream_options":{"include_usage":true},
         "messages":[{"role":"user","content":"12345678"}]}""");

    List<String> events = events(res.body());
    assertEquals(5, events.size(), events.toString());
    assertEquals("stop", JSON.readTree(events.get(2)).get("choices").get(0).get("finish_reason").asText());
    JsonNode usageChunk = JSON.readTree(events.get(3));
    assertEquals(0, usageChunk.get("choices").size());
    assertEquals(2 + 3, usageChunk.get("usage").get("prompt_tokens").asInt());
    assertEquals(2, usageChunk.get("usage").get("completion_tokens").asInt());
    assertEquals(7, usageChunk.get("usage").get("total_tokens").asInt());
    assertEquals("[DONE]", events.get(4));
  }

  @Test
  void chatCompletion_maxTokensBelowTokens_cutsTextAndFinishesWithLength() throws Exception {
    start(MockSettings.defaults().withTokens(5));
    JsonNode whole = JSON.readTree(post(CHAT, """
        {"model":"m","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}""").body());
    assertEquals("tok tok ", whole.at("/choices/0/message/content").asText());
    assertEquals("length", whole.at("/choices/0/finish_reason").asText());
    assertEquals(2, whole.at("/usage/completion_tokens").asInt());

    List<String> events = events(post(CHAT, """
        {"model":"m","stream":true,"max_completion_tokens":3,"messages":[{"role":"user","content":"hi"}]}""").body());
    assertEquals(3 + 2, events.size(), events.toString());
    assertEquals("length", JSON.readTree(events.get(3)).at("/choices/0/finish_reason").asText());
  }

  @Test
  void chatCompletion_requiredOrNamedTool_answersWithToolCallFromSchema() throws Exception {
    start(MockSettings.defaults().withTokens(4));
    String tools = """
        "tools":[{"type":"function","function":{"name":"first","parameters":{"type":"object"}}},
                 {"type":"function","function":{"name":"weather","parameters":{"type":"object",
                   "properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}}}}}]""";
    JsonNode required = JSON.readTree(post(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
        + tools + ",\"tool_choice\":\"required\"}").body());
    assertEquals("tool_calls", required.at("/choices/0/finish_reason").asText());
    assertTrue(required.at("/choices/0/message/content").isNull());
    assertEquals("first", required.at("/choices/0/message/tool_calls/0/function/name").asText());
    assertEquals("{}", required.at("/choices/0/message/tool_calls/0/function/arguments").asText());

    JsonNode named = JSON.readTree(post(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
        + tools + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"weather\"}}}").body());
    JsonNode call = named.at("/choices/0/message/tool_calls/0");
    assertTrue(call.get("id").asText().startsWith("call_mock_"));
    assertEquals("weather", call.at("/function/name").asText());
    assertEquals(JSON.readTree("{\"city\":\"mock\",\"unit\":\"c\"}"), JSON.readTree(call.at("/function/arguments").asText()));
    assertEquals(3, named.at("/usage/completion_tokens").asInt());

    JsonNode auto = JSON.readTree(post(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
        + tools + ",\"tool_choice\":\"auto\"}").body());
    assertEquals("stop", auto.at("/choices/0/finish_reason").asText());
    JsonNode knob = JSON.readTree(post(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
        + tools + ",\"mock\":{\"tool_use\":true}}").body());
    assertEquals("first", knob.at("/choices/0/message/tool_calls/0/function/name").asText());
  }

  @Test
  void chatCompletion_streamedToolCall_sendsIdAndNameFirstThenArgumentPieces() throws Exception {
    start(MockSettings.defaults());
    List<String> events = events(post(CHAT, """
        {"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],
         "tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object",
           "properties":{"city":{"type":"string"}}}}}],"tool_choice":"required"}""").body());
    // pieces "" and {"city":"mock"}, the stop chunk, [DONE]
    assertEquals(4, events.size(), events.toString());
    JsonNode first = JSON.readTree(events.get(0)).at("/choices/0/delta");
    assertEquals("assistant", first.get("role").asText());
    assertEquals("weather", first.at("/tool_calls/0/function/name").asText());
    assertTrue(first.at("/tool_calls/0/id").asText().startsWith("call_mock_"));
    JsonNode second = JSON.readTree(events.get(1)).at("/choices/0/delta/tool_calls/0");
    assertFalse(second.has("id"));
    assertEquals("{\"city\":\"mock\"}", second.at("/function/arguments").asText());
    assertEquals("tool_calls", JSON.readTree(events.get(2)).at("/choices/0/finish_reason").asText());
  }

  @Test
  void chatCompletion_streamWithInterTokenDelay_deliversChunksIncrementally() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<InputStream> res = http.send(request(CHAT, """
            {"model":"m","stream":true,"mock":{"tokens":3,"inter_token_ms":150},"messages":[]}"""),
        HttpResponse.BodyHandlers.ofInputStream());

    long first = 0;
    long done = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("data: {") && first == 0) {
          first = System.nanoTime();
        } else if (line.equals("data: [DONE]")) {
          done = System.nanoTime();
        }
      }
    }
    assertTrue(first > 0 && done > 0);
    // two inter-token gaps of 150 ms lie between the first chunk and the end; allow for client jitter
    assertTrue(Duration.ofNanos(done - first).toMillis() >= 150, "chunks arrived all at once");
  }

  @Test
  void chatCompletion_streamWithFailAfterTokens_closesConnectionWithoutDone() throws Exception {
    start(MockSettings.defaults().withTokens(10));
    String raw;
    // A raw socket, because java.net.http drops already-received bytes once it sees the broken stream.
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(rawPost(CHAT,
          "{\"model\":\"m\",\"stream\":true,\"mock\":{\"fail_after_tokens\":2},\"messages\":[]}").getBytes(UTF_8));
      raw = new String(socket.getInputStream().readAllBytes(), UTF_8); // returns at the server's close
    }

    assertTrue(raw.startsWith("HTTP/1.1 200 OK"), raw);
    assertTrue(raw.toLowerCase().contains("transfer-encoding: chunked"), raw);
    List<String> events = raw.lines().filter(l -> l.startsWith("data: ")).toList();
    assertEquals(2, events.size(), raw);
    assertTrue(events.stream().allMatch(l -> l.contains("\"content\":\"tok \"")), raw);
    assertFalse(raw.endsWith("0\r\n\r\n"), "the chunked body must lack its terminating chunk");
    JsonNode stats = stats();
    assertEquals(0, stats.get("completed_streams").asInt());
    assertEquals(0, stats.get("cancelled_streams").asInt());
    assertEquals(0, stats.get("in_flight").asInt());
  }

  @Test
  void stream_clientDisconnectsMidStream_countedAsCancelled() throws Exception {
    start(MockSettings.defaults());
    String body = "{\"model\":\"m\",\"stream\":true,\"mock\":{\"tokens\":1000,\"inter_token_ms\":20},\"messages\":[]}";
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.getOutputStream().write(rawPost(CHAT, body).getBytes(UTF_8));
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8));
      for (String line = in.readLine(); !line.startsWith("data: "); line = in.readLine()) {
        // skip the status line, headers and chunk sizes up to the first event
      }
      assertEquals(1, stats().get("in_flight").asInt());
    }
    JsonNode stats = awaitStats("cancelled_streams", 1);
    assertEquals(0, stats.get("in_flight").asInt());
    assertEquals(0, stats.get("completed_streams").asInt());
  }

  @Test
  void request_withMissingOrWrongApiKey_returns401Envelope() throws Exception {
    start(MockSettings.defaults().withApiKey("sk-test"));

    HttpResponse<String> none = post(CHAT, "{\"model\":\"m\",\"messages\":[]}");
    HttpResponse<String> wrong = post(CHAT, "{\"model\":\"m\",\"messages\":[]}", "Authorization", "Bearer sk-nope");
    HttpResponse<String> models = get("/v1/models");
    HttpResponse<String> right = post(CHAT, "{\"model\":\"m\",\"messages\":[]}", "Authorization", "Bearer sk-test");

    for (HttpResponse<String> res : List.of(none, wrong, models)) {
      assertEquals(401, res.statusCode());
      JsonNode error = JSON.readTree(res.body()).get("error");
      assertEquals("invalid_request_error", error.get("type").asText());
      assertEquals("invalid_api_key", error.get("code").asText());
      assertTrue(error.get("param").isNull());
      assertFalse(error.get("message").asText().isEmpty());
    }
    assertEquals(200, right.statusCode());
    assertEquals(200, get("/mock/stats").statusCode(), "introspection needs no key");
  }

  @Test
  void chatCompletion_withForcedStatus_returnsThatStatusWithEnvelope() throws Exception {
    start(MockSettings.defaults());

    HttpResponse<String> limited = post(CHAT, "{\"model\":\"m\",\"messages\":[],\"mock\":{\"status\":429}}");
    HttpResponse<String> broken = post(CHAT, "{\"model\":\"m\",\"stream\":true,\"messages\":[],\"mock\":{\"status\":503}}");

    assertEquals(429, limited.statusCode());
    assertEquals("1", limited.headers().firstValue("retry-after").orElseThrow());
    assertEquals("rate_limit_exceeded", JSON.readTree(limited.body()).get("error").get("code").asText());
    assertEquals(503, broken.statusCode());
    assertEquals("application/json", broken.headers().firstValue("content-type").orElseThrow());
    assertEquals("server_error", JSON.readTree(broken.body()).get("error").get("type").asText());
    assertTrue(broken.headers().firstValue("retry-after").isEmpty());
  }

  @Test
  void chatCompletion_retryAfterAndUsageKnobs_setRetryAfterAndReportedUsageOnly() throws Exception {
    start(MockSettings.defaults());

    HttpResponse<String> limited = post(CHAT, "{\"model\":\"m\",\"messages\":[],\"mock\":{\"status\":429,\"retry_after\":7}}");
    HttpResponse<String> whole = post(CHAT, "{\"model\":\"m\",\"messages\":[],"
        + "\"mock\":{\"tokens\":2,\"usage\":{\"input_tokens\":40,\"output_tokens\":50}}}");
    HttpResponse<String> streamed = post(CHAT, "{\"model\":\"m\",\"messages\":[],\"stream\":true,"
        + "\"stream_options\":{\"include_usage\":true},\"mock\":{\"tokens\":2,\"usage\":{\"output_tokens\":50}}}");

    assertEquals("7", limited.headers().firstValue("retry-after").orElseThrow());
    JsonNode body = JSON.readTree(whole.body());
    assertEquals("tok tok ", body.get("choices").get(0).get("message").get("content").asText());
    assertEquals(40, body.get("usage").get("prompt_tokens").asInt());
    assertEquals(50, body.get("usage").get("completion_tokens").asInt());
    assertEquals(90, body.get("usage").get("total_tokens").asInt());
    List<String> events = events(streamed.body());
    assertEquals(2 + 3, events.size(), "two content chunks, stop, usage, [DONE]");
    JsonNode usage = JSON.readTree(events.get(3)).get("usage");
    assertEquals(1, usage.get("prompt_tokens").asInt(), "the estimate, max(1, 0 / 4), when input_tokens is not given");
    assertEquals(50, usage.get("completion_tokens").asInt());
  }

  @Test
  void inference_withErrorRateOne_returnsConfiguredErrorStatus() throws Exception {
    start(MockSettings.defaults().withErrorRate(1).withErrorStatus(502));

    assertEquals(502, post(CHAT, "{\"model\":\"m\",\"messages\":[]}").statusCode());
    assertEquals(502, post("/v1/embeddings", "{\"model\":\"e\",\"input\":\"x\"}").statusCode());
    assertEquals(200, get("/v1/models").statusCode(), "only inference requests fail");
  }

  @Test
  void stats_afterRequests_countsInferenceRequestsConcurrencyAndStreams() throws Exception {
    start(MockSettings.defaults());
    List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      slow.add(http.sendAsync(request(CHAT, "{\"model\":\"m\",\"messages\":[],\"mock\":{\"latency_ms\":500}}"),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : slow) {
      assertEquals(200, f.join().statusCode());
    }
    post(CHAT, "{\"model\":\"m\",\"stream\":true,\"messages\":[]}");
    get("/v1/models");

    JsonNode stats = stats();
    assertEquals(4, stats.get("requests").asInt());
    assertEquals(0, stats.get("in_flight").asInt());
    assertEquals(3, stats.get("max_in_flight").asInt());
    assertEquals(1, stats.get("completed_streams").asInt());
    assertEquals(0, stats.get("cancelled_streams").asInt());
    assertEquals(4, server.stats().requests(), "the in-process view agrees");

    HttpResponse<String> reset = http.send(request("/mock/reset", ""), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, reset.statusCode());
    assertEquals("{\"requests\":0,\"in_flight\":0,\"max_in_flight\":0,\"cancelled_streams\":0,\"completed_streams\":0}",
        get("/mock/stats").body());
  }

  @Test
  void lastRequest_afterInference_returnsMethodPathAuthorizationAndRawBody() throws Exception {
    start(MockSettings.defaults());
    assertEquals(404, get("/mock/last-request").statusCode());
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\\\"uote\"}]}";
    post(CHAT, body, "Authorization", "Bearer abc");
    get("/v1/models");

    JsonNode last = JSON.readTree(get("/mock/last-request").body());
    assertEquals("POST", last.get("method").asText());
    assertEquals(CHAT, last.get("path").asText());
    assertEquals("Bearer abc", last.get("authorization").asText());
    assertEquals(body, last.get("body").asText());
  }

  @Test
  void embeddings_stringAndArrayInput_returnOneEightFloatVectorPerInput() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<String> many = post("/v1/embeddings", "{\"model\":\"e\",\"input\":[\"a\",\"bb\",\"12345678\"]}");
    HttpResponse<String> one = post("/v1/embeddings", "{\"model\":\"e\",\"input\":\"a\"}");

    assertEquals(200, many.statusCode());
    JsonNode body = JSON.readTree(many.body());
    assertEquals("list", body.get("object").asText());
    assertEquals("e", body.get("model").asText());
    assertEquals(3, body.get("data").size());
    for (int i = 0; i < 3; i++) {
      JsonNode item = body.get("data").get(i);
      assertEquals("embedding", item.get("object").asText());
      assertEquals(i, item.get("index").asInt());
      assertEquals(8, item.get("embedding").size());
      item.get("embedding").forEach(v -> assertTrue(v.isNumber() && Math.abs(v.asDouble()) <= 1));
    }
    assertEquals(1 + 1 + 2, body.get("usage").get("prompt_tokens").asInt());
    assertEquals(4, body.get("usage").get("total_tokens").asInt());
    JsonNode single = JSON.readTree(one.body());
    assertEquals(1, single.get("data").size());
    assertEquals(body.get("data").get(0).get("embedding"), single.get("data").get(0).get("embedding"),
        "the same input gets the same vector");
    assertNotEquals(body.get("data").get(0).get("embedding"), body.get("data").get(1).get("embedding"));
  }

  @Test
  void chatCompletion_malformedOrIncompleteJson_returns400Envelope() throws Exception {
    start(MockSettings.defaults());

    HttpResponse<String> malformed = post(CHAT, "{\"model\": \"m\", ");
    HttpResponse<String> noModel = post(CHAT, "{\"messages\":[]}");

    assertEquals(400, malformed.statusCode());
    JsonNode error = JSON.readTree(malformed.body()).get("error");
    assertEquals("invalid_request_error", error.get("type").asText());
    assertTrue(error.get("param").isNull());
    assertTrue(error.get("code").isNull());
    assertEquals(400, noModel.statusCode());
    assertEquals("model", JSON.readTree(noModel.body()).get("error").get("param").asText());
  }

  @Test
  void unknownPathAndModels_return404EnvelopeAndModelList() throws Exception {
    start(MockSettings.defaults());

    HttpResponse<String> missing = get("/v1/nope");
    HttpResponse<String> models = get("/v1/models?limit=5");

    assertEquals(404, missing.statusCode());
    assertEquals("invalid_request_error", JSON.readTree(missing.body()).get("error").get("type").asText());
    JsonNode list = JSON.readTree(models.body());
    assertEquals("list", list.get("object").asText());
    assertTrue(list.get("data").size() >= 2);
    assertEquals("model", list.get("data").get(0).get("object").asText());
  }

  @Test
  void pipelinedRequests_firstOneDelayed_answeredInRequestOrder() throws Exception {
    start(MockSettings.defaults().withTokens(1));
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      OutputStream out = socket.getOutputStream();
      out.write((rawPost(CHAT, "{\"model\":\"slow\",\"messages\":[],\"mock\":{\"latency_ms\":200}}")
          + rawPost(CHAT, "{\"model\":\"fast\",\"messages\":[]}")).getBytes(UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();

      assertEquals("slow", JSON.readTree(readFixedLengthBody(in)).get("model").asText());
      assertEquals("fast", JSON.readTree(readFixedLengthBody(in)).get("model").asText());
    }
  }

  // --- helpers ---

  private void start(MockSettings settings) {
    server = MockLlmServer.start(settings.withPort(0));
  }

  private HttpRequest request(String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    return (headers.length == 0 ? b : b.headers(headers)).build();
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    return http.send(request(path, body, headers), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode stats() throws Exception {
    return JSON.readTree(get("/mock/stats").body());
  }

  /** Polls the stats (no sleeping: each poll is a round trip) until {@code field} reaches {@code value}. */
  private JsonNode awaitStats(String field, int value) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    JsonNode stats = stats();
    while (stats.get(field).asInt() != value && System.nanoTime() < deadline) {
      stats = stats();
    }
    assertEquals(value, stats.get(field).asInt(), stats.toString());
    return stats;
  }

  /** The SSE payloads of a complete stream body, without their "data: " prefix. */
  private static List<String> events(String body) {
    List<String> events = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      assertTrue(event.startsWith("data: "), event);
      events.add(event.substring("data: ".length()));
    }
    return events;
  }

  private static String rawPost(String path, String body) {
    return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(UTF_8).length + "\r\n\r\n" + body;
  }

  /** Reads one HTTP/1.1 response with a Content-Length from a raw socket and returns its body. */
  private static String readFixedLengthBody(InputStream in) throws IOException {
    int length = -1;
    for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    return new String(in.readNBytes(length), UTF_8);
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }
}
