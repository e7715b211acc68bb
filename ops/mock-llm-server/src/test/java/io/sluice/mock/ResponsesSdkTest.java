package io.sluice.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.InternalServerException;
import com.openai.errors.UnauthorizedException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ToolChoiceOptions;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Responses, legacy completions and Azure modes as the official OpenAI Java SDK (and Azure's
 * URL rules) see them: every response and every streamed event must parse and validate.
 */
class ResponsesSdkTest {
  private static final String KEY = "sk-test-responses";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private MockLlmServer server;
  private OpenAIClient client;

  @BeforeEach
  void start() {
    server = MockLlmServer.start(MockSettings.defaults().withPort(0).withApiKey(KEY));
    client = OpenAIOkHttpClient.builder().apiKey(KEY).baseUrl(server.baseUrl() + "/v1").maxRetries(0).build();
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  private static ResponseCreateParams.Builder params(int tokens) {
    return ResponseCreateParams.builder().model("gpt-4o-mini").instructions("Be terse.").input("12345678")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", tokens)));
  }

  private static FunctionTool weatherTool() {
    return FunctionTool.builder().name("get_weather").description("Weather of a city").strict(false)
        .parameters(FunctionTool.Parameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
            .build())
        .build();
  }

  @Test
  void create_textRequest_parsesOutputTextAndUsage() {
    Response r = client.responses().create(params(3).build());
    r.validate();
    assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
    assertEquals("tok tok tok ", r.output().get(0).asMessage().content().get(0).asOutputText().text());
    // "Be terse." (9 bytes) + "12345678" (8) = 17 / 4 = 4, + 3 for the one item
    assertEquals(7, r.usage().orElseThrow().inputTokens());
    assertEquals(3, r.usage().orElseThrow().outputTokens());
    assertEquals(10, r.usage().orElseThrow().totalTokens());
  }

  @Test
  void create_requiredTool_returnsFunctionCallWithSchemaArguments() {
    Response r = client.responses().create(params(3).addTool(weatherTool()).toolChoice(ToolChoiceOptions.REQUIRED)
        .build());
    r.validate();
    assertEquals(1, r.output().size());
    ResponseFunctionToolCall call = r.output().get(0).asFunctionCall();
    assertEquals("get_weather", call.name());
    assertEquals("{\"city\":\"mock\"}", call.arguments());
    assertTrue(call.callId().startsWith("call_"), call.callId());
  }

  @Test
  void create_functionCallOutputRoundTrip_countsItemsInSummary() throws Exception {
    ResponseFunctionToolCall call = ResponseFunctionToolCall.builder().callId("call_1").name("get_weather")
        .arguments("{\"city\":\"Paris\"}").build();
    List<ResponseInputItem> input = List.of(
        ResponseInputItem.ofMessage(ResponseInputItem.Message.builder().role(ResponseInputItem.Message.Role.USER)
            .addInputTextContent("Weather in Paris?").build()),
        ResponseInputItem.ofFunctionCall(call),
        ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder().callId("call_1")
            .output("sunny").build()));
    Response r = client.responses().create(ResponseCreateParams.builder().model("gpt-4o-mini")
        .inputOfResponse(input).addTool(weatherTool()).build());
    r.validate();
    assertEquals("message", r.output().get(0).asMessage()._type().asString().orElseThrow());
    JsonNode last = lastRequest();
    assertEquals("/v1/responses", last.path("path").asText());
    assertTrue(last.path("body").asText().contains("function_call_output"));
  }

  @Test
  void createStreaming_text_everyEventValidatesAndAccumulates() {
    List<ResponseStreamEvent> events = new ArrayList<>();
    ResponseAccumulator acc = ResponseAccumulator.create();
    try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(params(4).build())) {
      s.stream().forEach(e -> {
        e.validate();
        events.add(acc.accumulate(e));
      });
    }
    assertTrue(events.get(0).isCreated());
    assertEquals(4, events.stream().filter(ResponseStreamEvent::isOutputTextDelta).count());
    for (int i = 0; i < events.size(); i++) {
      assertEquals(i, sequence(events.get(i)));
    }
    Response r = acc.response();
    assertEquals("tok tok tok tok ", r.output().get(0).asMessage().content().get(0).asOutputText().text());
    assertEquals(4, r.usage().orElseThrow().outputTokens());
  }

  @Test
  void createStreaming_tool_argumentsArriveInDeltas() {
    ResponseAccumulator acc = ResponseAccumulator.create();
    StringBuilder args = new StringBuilder();
    try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(params(2).addTool(weatherTool())
        .toolChoice(ToolChoiceOptions.REQUIRED).build())) {
      s.stream().forEach(e -> {
        e.validate();
        e.functionCallArgumentsDelta().ifPresent(d -> args.append(d.delta()));
        acc.accumulate(e);
      });
    }
    assertEquals("{\"city\":\"mock\"}", args.toString());
    assertEquals("get_weather", acc.response().output().get(0).asFunctionCall().name());
  }

  @Test
  void createStreaming_maxOutputTokens_endsIncomplete() {
    ResponseAccumulator acc = ResponseAccumulator.create();
    try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(params(40).maxOutputTokens(16)
        .build())) {
      s.stream().forEach(e -> acc.accumulate(e));
    }
    assertEquals(ResponseStatus.INCOMPLETE, acc.response().status().orElseThrow());
    assertEquals(16, acc.response().usage().orElseThrow().outputTokens());
  }

  @Test
  void createStreaming_errorAfterTokens_endsWithErrorEvent() {
    List<ResponseStreamEvent> events = new ArrayList<>();
    try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(params(4)
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 4, "error_after_tokens", 2))).build())) {
      s.stream().forEach(events::add);
    }
    ResponseStreamEvent last = events.get(events.size() - 1);
    assertTrue(last.isError());
    assertEquals("server_error", last.asError().code().orElseThrow());
  }

  @Test
  void create_statusKnob_mapsToSdkException() {
    assertThrows(InternalServerException.class, () -> client.responses().create(params(1)
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("status", 500))).build()));
    OpenAIClient bad = OpenAIOkHttpClient.builder().apiKey("wrong").baseUrl(server.baseUrl() + "/v1").maxRetries(0)
        .build();
    try {
      assertThrows(UnauthorizedException.class, () -> bad.responses().create(params(1).build()));
    } finally {
      bad.close();
    }
  }

  @Test
  void completions_createAndStreamWithUsage_parse() {
    Completion c = client.completions().create(CompletionCreateParams.builder()
        .model(CompletionCreateParams.Model.of("gpt-3.5-turbo-instruct")).prompt("12345678").build());
    c.validate();
    assertEquals("text_completion", c._object_().asString().orElseThrow());
    assertEquals(2, c.usage().orElseThrow().promptTokens());
    assertEquals(16, c.usage().orElseThrow().completionTokens());
    StringBuilder text = new StringBuilder();
    long[] usage = {-1};
    try (StreamResponse<Completion> s = client.completions().createStreaming(CompletionCreateParams.builder()
        .model(CompletionCreateParams.Model.of("gpt-3.5-turbo-instruct")).prompt("12345678")
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 3))).build())) {
      // Not validated: the SDK models chunks as whole completions, whose finish_reason it requires
      // non-null, while the API (and so the mock) sends null until the last chunk.
      s.stream().forEach(chunk -> {
        chunk.choices().forEach(ch -> text.append(ch.text()));
        chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
      });
    }
    assertEquals("tok tok tok ", text.toString());
    assertEquals(3, usage[0]);
  }

  @Test
  void completions_withoutPrompt_is400() throws Exception {
    HttpResponse<String> r = post(server.baseUrl() + "/v1/completions", "{\"model\":\"m\"}",
        Map.of("Authorization", "Bearer " + KEY));
    assertEquals(400, r.statusCode());
    assertEquals("prompt", JSON.readTree(r.body()).path("error").path("param").asText());
  }

  @Test
  void azure_deploymentsForm_needsApiVersionAndApiKey() throws Exception {
    String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    String url = server.baseUrl() + "/openai/deployments/my-gpt/chat/completions";
    HttpResponse<String> ok = post(url + "?api-version=2024-10-21", chat, Map.of("api-key", KEY));
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals("my-gpt", JSON.readTree(ok.body()).path("model").asText());
    JsonNode last = lastRequest();
    assertEquals("api-version=2024-10-21", last.path("query").asText());
    assertEquals(KEY, last.path("api_key").asText());

    HttpResponse<String> noVersion = post(url, chat, Map.of("api-key", KEY));
    assertEquals(400, noVersion.statusCode());
    assertEquals("MissingApiVersionParameter", JSON.readTree(noVersion.body()).path("error").path("code").asText());
    HttpResponse<String> badKey = post(url + "?api-version=2024-10-21", chat, Map.of("api-key", "nope"));
    assertEquals(401, badKey.statusCode());
    assertEquals("401", JSON.readTree(badKey.body()).path("error").path("code").asText());
  }

  @Test
  void azure_v1Api_servesChatEmbeddingsCompletionsAndResponses() throws Exception {
    Map<String, String> key = Map.of("api-key", KEY);
    String base = server.baseUrl() + "/openai/v1/";
    assertEquals(200, post(base + "chat/completions", "{\"model\":\"d\",\"messages\":[]}", key).statusCode());
    assertEquals(200, post(base + "embeddings", "{\"model\":\"d\",\"input\":\"x\"}", key).statusCode());
    assertEquals(200, post(base + "completions", "{\"model\":\"d\",\"prompt\":\"x\"}", key).statusCode());
    HttpResponse<String> responses = post(base + "responses", "{\"model\":\"d\",\"input\":\"x\"}", key);
    assertEquals(200, responses.statusCode());
    assertEquals("response", JSON.readTree(responses.body()).path("object").asText());
    assertFalse(lastRequest().hasNonNull("query"));
  }

  private static long sequence(ResponseStreamEvent e) {
    return JSON.valueToTree(e).path("sequence_number").asLong(-1);
  }

  private HttpResponse<String> post(String url, String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    headers.forEach(b::header);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode lastRequest() throws Exception {
    return JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/mock/last-request"))
        .build(), HttpResponse.BodyHandlers.ofString()).body());
  }
}
