package io.sluice.mock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Messages mode over raw HTTP: exact SSE framing, headers, auth, validation and the knobs. */
class AnthropicModeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MESSAGES = "/v1/messages";
  private static final String[] VERSION = {"anthropic-version", "2023-06-01"};

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
  void messages_streamText_sendsTheApiEventSequenceWithEventLines() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<String> res = post(MESSAGES, """
        {"model":"claude-x","max_tokens":64,"stream":true,"mock":{"tokens":2},
         "messages":[{"role":"user","content":"12345678"}]}""", VERSION);

    assertEquals(200, res.statusCode());
    assertEquals("text/event-stream; charset=utf-8", res.headers().firstValue("content-type").orElseThrow());
    assertTrue(res.headers().firstValue("request-id").orElseThrow().startsWith("req_"));
    String id = JSON.readTree(events(res.body()).get(0)[1]).get("message").get("id").asText();
    String usage = "{\"input_tokens\":5,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":";
    String delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        + "\"delta\":{\"type\":\"text_delta\",\"text\":\"tok \"}}\n\n";
    assertEquals("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"" + id + "\","
        + "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,"
        + "\"stop_sequence\":null,\"usage\":" + usage + "1}}}\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        + "event: ping\ndata: {\"type\": \"ping\"}\n\n"
        + delta + delta
        + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
        + "\"stop_sequence\":null},\"usage\":" + usage + "2}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", res.body());
    assertTrue(id.startsWith("msg_"), id);
  }

  @Test
  void messages_streamForcedTool_toolBlockAtIndexZeroWithJsonPiecesThatJoinToTheInput() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<String> res = post(MESSAGES, """
        {"model":"m","max_tokens":64,"stream":true,"tool_choice":{"type":"tool","name":"lookup"},
         "tools":[{"name":"other","input_schema":{"type":"object"}},
                  {"name":"lookup","input_schema":{"type":"object","properties":{
                     "q":{"type":"string"},"n":{"type":"number"},"exact":{"type":"boolean"},"tags":{"type":"array"}}}}],
         "messages":[{"role":"user","content":"find"}]}""", VERSION);

    List<String[]> events = events(res.body());
    assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta",
            "message_stop"),
        events.stream().map(e -> e[0]).toList());
    JsonNode start = JSON.readTree(events.get(1)[1]);
    assertEquals(0, start.get("index").asInt());
    assertEquals("tool_use", start.get("content_block").get("type").asText());
    assertEquals("lookup", start.get("content_block").get("name").asText());
    assertEquals(0, start.get("content_block").get("input").size());
    StringBuilder json = new StringBuilder();
    for (String[] e : events.subList(3, 8)) {
      JsonNode d = JSON.readTree(e[1]).get("delta");
      assertEquals("input_json_delta", d.get("type").asText());
      json.append(d.get("partial_json").asText());
    }
    assertEquals(JSON.readTree("{\"q\":\"mock\",\"n\":1,\"exact\":true,\"tags\":[]}"), JSON.readTree(json.toString()));
    JsonNode messageDelta = JSON.readTree(events.get(9)[1]);
    assertEquals("tool_use", messageDelta.get("delta").get("stop_reason").asText());
    assertEquals(5, messageDelta.get("usage").get("output_tokens").asInt(), "one per delta");
  }

  @Test
  void messages_nonStreamingToolAfterText_maxTokensTooSmallForTheCall_dropsCallWithMaxTokens() throws Exception {
    start(MockSettings.defaults());
    String tools = "\"tools\":[{\"name\":\"t\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}}]";

    JsonNode fits = JSON.readTree(post(MESSAGES, "{\"model\":\"m\",\"max_tokens\":4," + tools
        + ",\"mock\":{\"tokens\":2,\"tool_use\":true},\"messages\":[]}", VERSION).body());
    JsonNode tight = JSON.readTree(post(MESSAGES, "{\"model\":\"m\",\"max_tokens\":3," + tools
        + ",\"mock\":{\"tokens\":2,\"tool_use\":true},\"messages\":[]}", VERSION).body());

    assertEquals("tool_use", fits.get("stop_reason").asText());
    assertEquals("text", fits.get("content").get(0).get("type").asText());
    assertEquals("tool_use", fits.get("content").get(1).get("type").asText());
    assertEquals("mock", fits.get("content").get(1).get("input").get("a").asText());
    assertEquals(4, fits.get("usage").get("output_tokens").asInt());
    assertEquals("max_tokens", tight.get("stop_reason").asText());
    assertEquals(1, tight.get("content").size());
    assertEquals(2, tight.get("usage").get("output_tokens").asInt());
  }

  @Test
  void messages_streamWithFailAfterTokens_closesConnectionMidStreamWithoutMessageStop() throws Exception {
    start(MockSettings.defaults());
    String raw = rawExchange("{\"model\":\"m\",\"max_tokens\":64,\"stream\":true,"
        + "\"mock\":{\"tokens\":10,\"fail_after_tokens\":3},\"messages\":[]}");

    assertTrue(raw.startsWith("HTTP/1.1 200 OK"), raw);
    assertEquals(3, raw.lines().filter(l -> l.equals("event: content_block_delta")).count(), raw);
    assertTrue(raw.contains("event: message_start"), raw);
    assertFalse(raw.contains("message_stop") || raw.contains("message_delta"), raw);
    assertFalse(raw.endsWith("0\r\n\r\n"), "the chunked body must lack its terminating chunk");
    JsonNode stats = stats();
    assertEquals(0, stats.get("completed_streams").asInt());
    assertEquals(0, stats.get("in_flight").asInt());
  }

  @Test
  void messages_streamWithErrorAfterTokens_endsWithErrorEventAndACompleteBody() throws Exception {
    start(MockSettings.defaults());
    String raw = rawExchange("{\"model\":\"m\",\"max_tokens\":64,\"stream\":true,"
        + "\"mock\":{\"tokens\":10,\"error_after_tokens\":2,\"error_type\":\"api_error\"},\"messages\":[]}");

    assertEquals(2, raw.lines().filter(l -> l.equals("event: content_block_delta")).count(), raw);
    int error = raw.indexOf("event: error\ndata: ");
    assertTrue(error > 0, raw);
    String data = raw.substring(error + "event: error\ndata: ".length(), raw.indexOf("\n\n", error));
    JsonNode body = JSON.readTree(data);
    assertEquals("error", body.get("type").asText());
    assertEquals("api_error", body.get("error").get("type").asText());
    assertFalse(raw.contains("message_stop"), raw);
    assertTrue(raw.endsWith("0\r\n\r\n"), "the stream ends cleanly after the error event");
  }

  @Test
  void messages_streamWithInterTokenDelay_deliversDeltasIncrementally() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<InputStream> res = http.send(request(MESSAGES, """
            {"model":"m","max_tokens":64,"stream":true,"mock":{"tokens":3,"inter_token_ms":150},"messages":[]}""",
        VERSION), HttpResponse.BodyHandlers.ofInputStream());

    long first = 0;
    long stop = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("event: content_block_delta") && first == 0) {
          first = System.nanoTime();
        } else if (line.equals("event: message_stop")) {
          stop = System.nanoTime();
        }
      }
    }
    assertTrue(first > 0 && stop > 0);
    assertTrue(Duration.ofNanos(stop - first).toMillis() >= 150, "deltas arrived all at once");
  }

  @Test
  void messages_apiKeyConfigured_acceptsXApiKeyOrBearerAndRejectsOthersWith401() throws Exception {
    start(MockSettings.defaults().withApiKey("sk-ant"));
    String body = "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[]}";

    HttpResponse<String> none = post(MESSAGES, body, VERSION);
    HttpResponse<String> wrong = post(MESSAGES, body, "anthropic-version", "1", "x-api-key", "sk-nope");
    HttpResponse<String> xApiKey = post(MESSAGES, body, "anthropic-version", "1", "x-api-key", "sk-ant");
    HttpResponse<String> bearer = post(MESSAGES, body, "anthropic-version", "1", "Authorization", "Bearer sk-ant");

    for (HttpResponse<String> res : List.of(none, wrong)) {
      assertEquals(401, res.statusCode());
      JsonNode error = JSON.readTree(res.body());
      assertEquals("error", error.get("type").asText());
      assertEquals("authentication_error", error.get("error").get("type").asText());
      assertEquals(res.headers().firstValue("request-id").orElseThrow(), error.get("request_id").asText());
    }
    assertEquals("x-api-key header is required", JSON.readTree(none.body()).get("error").get("message").asText());
    assertEquals(200, xApiKey.statusCode());
    assertEquals(200, bearer.statusCode());
  }

  @Test
  void messages_invalidRequests_answer400InvalidRequestErrorLikeTheApi() throws Exception {
    start(MockSettings.defaults());

    HttpResponse<String> noVersion = post(MESSAGES, "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[]}");
    HttpResponse<String> noMaxTokens = post(MESSAGES, "{\"model\":\"m\",\"messages\":[]}", VERSION);
    HttpResponse<String> malformed = post(MESSAGES, "{\"model\":", VERSION);
    HttpResponse<String> unknownTool = post(MESSAGES, "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[],"
        + "\"tools\":[{\"name\":\"a\",\"input_schema\":{}}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"b\"}}", VERSION);
    HttpResponse<String> getMessages = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + MESSAGES)).build(),
        HttpResponse.BodyHandlers.ofString());

    assertEquals("anthropic-version: header is required", errorOf(noVersion, 400).get("message").asText());
    assertEquals("max_tokens: Field required", errorOf(noMaxTokens, 400).get("message").asText());
    assertEquals("invalid_request_error", errorOf(malformed, 400).get("type").asText());
    assertEquals("invalid_request_error", errorOf(unknownTool, 400).get("type").asText());
    assertEquals("invalid_request_error", errorOf(getMessages, 405).get("type").asText());
  }

  @Test
  void messages_statusKnobAndScript_answerInAnthropicEnvelopeWithRetryAfterOn429() throws Exception {
    start(MockSettings.defaults());
    post("/mock/config", "{\"script\":[529,403]}");
    String body = "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[]";

    HttpResponse<String> overloaded = post(MESSAGES, body + ",\"stream\":true}", VERSION);
    HttpResponse<String> forbidden = post(MESSAGES, body + "}", VERSION);
    HttpResponse<String> limited = post(MESSAGES, body + ",\"mock\":{\"status\":429,\"retry_after\":30}}", VERSION);
    HttpResponse<String> tooLarge = post(MESSAGES, body + ",\"mock\":{\"status\":413}}", VERSION);
    HttpResponse<String> fine = post(MESSAGES, body + "}", VERSION);

    assertEquals("overloaded_error", errorOf(overloaded, 529).get("type").asText());
    assertEquals("application/json", overloaded.headers().firstValue("content-type").orElseThrow());
    assertEquals("permission_error", errorOf(forbidden, 403).get("type").asText());
    assertEquals("rate_limit_error", errorOf(limited, 429).get("type").asText());
    assertEquals("30", limited.headers().firstValue("retry-after").orElseThrow());
    assertEquals("0", limited.headers().firstValue("anthropic-ratelimit-requests-remaining").orElseThrow());
    assertEquals("3999", fine.headers().firstValue("anthropic-ratelimit-requests-remaining").orElseThrow());
    assertTrue(java.time.Instant.parse(fine.headers().firstValue("anthropic-ratelimit-tokens-reset").orElseThrow())
        .isAfter(java.time.Instant.now()));
    assertTrue(forbidden.headers().firstValue("retry-after").isEmpty());
    assertEquals("request_too_large", errorOf(tooLarge, 413).get("type").asText());
    assertEquals(200, fine.statusCode());
  }

  @Test
  void messages_queryStringAndHeaders_recordedInLastRequestWithSummary() throws Exception {
    start(MockSettings.defaults());
    String body = """
        {"model":"m","max_tokens":8,"system":[{"type":"text","text":"sys"}],"tools":[{"name":"t","input_schema":{}}],
         "tool_choice":{"type":"auto"},"messages":[
          {"role":"user","content":[{"type":"text","text":"look"},
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"t","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[
            {"type":"text","text":"result"},{"type":"image","source":{"type":"url","url":"http://x/y.png"}}]}]}]}""";

    HttpResponse<String> res = post(MESSAGES + "?beta=true", body, "anthropic-version", "2023-06-01",
        "anthropic-beta", "tools-2024-04-04", "x-api-key", "sk-any");

    assertEquals(200, res.statusCode());
    String summary = "messages=3,system=1,images=2,tool_uses=1,tool_results=1,tools=1,tool_choice=auto,max_tokens=8,stream=0";
    assertEquals(summary, res.headers().firstValue("x-mock-request-summary").orElseThrow());
    JsonNode last = JSON.readTree(get("/mock/last-request").body());
    assertEquals(MESSAGES, last.get("path").asText());
    assertEquals("beta=true", last.get("query").asText());
    assertEquals("sk-any", last.get("x_api_key").asText());
    assertEquals("2023-06-01", last.get("anthropic_version").asText());
    assertEquals("tools-2024-04-04", last.get("anthropic_beta").asText());
    assertEquals(summary, last.get("summary").asText());
    assertEquals(body, last.get("body").asText());
    // "sys" + "look" + "result" + "t" = 14 bytes / 4 = 3, + 3 per message * 3, + 100 per image * 2
    assertEquals(3 + 9 + 200, JSON.readTree(res.body()).get("usage").get("input_tokens").asInt());
  }

  @Test
  void countTokens_request_answersTheEstimateWithoutNeedingMaxTokens() throws Exception {
    start(MockSettings.defaults());
    HttpResponse<String> res = post("/v1/messages/count_tokens?beta=true", """
        {"model":"m","system":"12345678","messages":[{"role":"user","content":[{"type":"text","text":"abcd"},
          {"type":"image","source":{"type":"url","url":"u"}}]}]}""", VERSION);

    assertEquals(200, res.statusCode());
    assertEquals("{\"input_tokens\":" + (3 + 3 + 100) + "}", res.body());
    assertEquals(1, stats().get("requests").asInt());
  }

  @Test
  void mockConfig_mockDefaults_applyToEveryRequestUntilBodyOverridesOrReset() throws Exception {
    start(MockSettings.defaults());
    assertEquals(200, post("/mock/config", "{\"mock\":{\"tokens\":2,\"usage\":{\"input_tokens\":9,\"output_tokens\":7,"
        + "\"cache_read_input_tokens\":5}}}").statusCode());
    String messages = "{\"model\":\"m\",\"max_tokens\":64,\"messages\":[]";
    String chat = "{\"model\":\"m\",\"messages\":[]";

    JsonNode configured = JSON.readTree(post(MESSAGES, messages + "}", VERSION).body());
    JsonNode overridden = JSON.readTree(post(MESSAGES, messages + ",\"mock\":{\"tokens\":1}}", VERSION).body());
    JsonNode openAi = JSON.readTree(post("/v1/chat/completions", chat + "}").body());
    post("/mock/reset", "");
    JsonNode afterReset = JSON.readTree(post(MESSAGES, messages + "}", VERSION).body());

    assertEquals("tok tok ", configured.get("content").get(0).get("text").asText());
    assertEquals(9, configured.get("usage").get("input_tokens").asInt());
    assertEquals(7, configured.get("usage").get("output_tokens").asInt());
    assertEquals(5, configured.get("usage").get("cache_read_input_tokens").asInt());
    assertEquals(0, configured.get("usage").get("cache_creation_input_tokens").asInt());
    assertEquals("tok ", overridden.get("content").get(0).get("text").asText());
    assertEquals(9, overridden.get("usage").get("input_tokens").asInt(), "knobs the body does not set stay");
    assertEquals("tok tok ", openAi.get("choices").get(0).get("message").get("content").asText());
    assertEquals(9, openAi.get("usage").get("prompt_tokens").asInt());
    assertEquals(7, openAi.get("usage").get("completion_tokens").asInt());
    assertEquals(16, openAi.get("usage").get("total_tokens").asInt());
    assertEquals(MockSettings.defaults().tokens(), afterReset.get("usage").get("output_tokens").asInt());
    assertEquals(400, post("/mock/config", "{\"mock\":{\"tokens\":-1}}").statusCode());
  }

  @Test
  void stats_messagesStreams_countedLikeChatStreams() throws Exception {
    start(MockSettings.defaults());
    post(MESSAGES, "{\"model\":\"m\",\"max_tokens\":8,\"stream\":true,\"messages\":[]}", VERSION);
    post(MESSAGES, "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[]}", VERSION);

    JsonNode stats = stats();
    assertEquals(2, stats.get("requests").asInt());
    assertEquals(1, stats.get("completed_streams").asInt());
    assertEquals(0, stats.get("in_flight").asInt());
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

  /** The {@code error} object of an Anthropic error envelope, after checking the status and envelope. */
  private static JsonNode errorOf(HttpResponse<String> res, int status) throws Exception {
    assertEquals(status, res.statusCode(), res.body());
    JsonNode body = JSON.readTree(res.body());
    assertEquals("error", body.get("type").asText(), res.body());
    assertFalse(body.get("error").get("message").asText().isEmpty());
    return body.get("error");
  }

  /** Each SSE event of a complete body as {event name, data}; checks that data's type is the event name. */
  private static List<String[]> events(String body) throws Exception {
    assertTrue(body.endsWith("\n\n"), body);
    List<String[]> events = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      String[] lines = event.split("\n");
      assertEquals(2, lines.length, event);
      assertTrue(lines[0].startsWith("event: ") && lines[1].startsWith("data: "), event);
      String name = lines[0].substring("event: ".length());
      String data = lines[1].substring("data: ".length());
      assertEquals(name, JSON.readTree(data).get("type").asText(), event);
      events.add(new String[] {name, data});
    }
    return events;
  }

  /** One POST /v1/messages over a raw socket, read until the server closes; java.net.http drops a broken tail. */
  private String rawExchange(String body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      String req = "POST " + MESSAGES + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "anthropic-version: 2023-06-01\r\nConnection: close\r\nContent-Length: " + body.getBytes(UTF_8).length
          + "\r\n\r\n" + body;
      socket.getOutputStream().write(req.getBytes(UTF_8));
      return new String(socket.getInputStream().readAllBytes(), UTF_8);
    }
  }
}
