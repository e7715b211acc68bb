package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseUsage;
import com.openai.models.responses.ToolChoiceOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/responses} and {@code /v1/completions} through the official OpenAI Java SDK: the
 * Responses API passes through to an OpenAI deployment and is translated for an Anthropic one
 * (text, function calls and their outputs, streams), each charged exactly the usage the client
 * was told; stateful features and completions are refused where they cannot be served; and
 * {@code GET /v1/models} says which surfaces each model serves.
 */
class ResponsesIT {
  private static final String KEY = "mock-upstream-key-responses";
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("responses", "--api-key", KEY);
    String base = mock.baseUrl();
    node = SluiceNode.start("responses", """
        sluice.models {
          "gpt-4o-mini" {
            price { input-per-million = 0.15, output-per-million = 0.60 }
            deployments = [{ name = "openai-1", provider = openai, base-url = "%1$s", model = "gpt-4o-mini",
                             api-key = "%2$s" }]
          }
          "claude-mock" {
            price { input-per-million = 3, output-per-million = 15 }
            deployments = [{ name = "anthropic-1", provider = anthropic, base-url = "%1$s",
                             model = "claude-upstream", api-key = "%2$s" }]
          }
        }
        """.formatted(base, KEY));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @BeforeEach
  void resetMock() {
    mock.reset();
  }

  /** A client of a fresh tenant, so that its usage is this test's alone. */
  private static Tenant tenant(String prefix) {
    String id = Fixtures.tenant(prefix);
    String key = Api.tenantWithKey(node, id, null);
    return new Tenant(id, OpenAIOkHttpClient.builder().apiKey(key).baseUrl(node.url("/v1")).maxRetries(0).build());
  }

  private record Tenant(String id, OpenAIClient client) implements AutoCloseable {
    @Override
    public void close() {
      client.close();
    }

    /** Waits until the tenant's day window holds exactly these tokens. */
    void assertCharged(long prompt, long completion) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonNode day = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/usage", null).body())
            .at("/windows/day");
        assertEquals(prompt, day.at("/prompt_tokens/used").asLong(), day.toString());
        assertEquals(completion, day.at("/completion_tokens/used").asLong(), day.toString());
      });
    }
  }

  private static FunctionTool weather() {
    return FunctionTool.builder().name("get_weather").description("The weather of a city").strict(false)
        .parameters(FunctionTool.Parameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
            .build())
        .build();
  }

  private static ResponseCreateParams.Builder params(String model) {
    return ResponseCreateParams.builder().model(model).instructions("Be terse.").input("Say hello to the gateway");
  }

  private static String text(Response r) {
    return r.output().stream().filter(o -> o.isMessage())
        .flatMap(o -> o.asMessage().content().stream())
        .map(c -> c.asOutputText().text()).collect(Collectors.joining());
  }

  private static Response stream(OpenAIClient client, ResponseCreateParams params, List<ResponseStreamEvent> events) {
    ResponseAccumulator acc = ResponseAccumulator.create();
    try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(params)) {
      s.stream().forEach(e -> {
        e.validate();
        events.add(acc.accumulate(e));
      });
    }
    return acc.response();
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt-4o-mini", "claude-mock"})
  void create_text_answersAndChargesTheReportedUsage(String model) {
    mock.configure("{\"mock\":{\"tokens\":3}}");
    try (Tenant t = tenant("resp-text")) {
      Response r = t.client().responses().create(params(model).build());
      r.validate();
      assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
      assertEquals("tok tok tok ", text(r));
      ResponseUsage u = r.usage().orElseThrow();
      assertEquals(3, u.outputTokens());
      assertEquals(u.inputTokens() + u.outputTokens(), u.totalTokens());
      JsonNode last = mock.lastRequest();
      boolean openAi = model.equals("gpt-4o-mini");
      assertEquals(openAi ? "/v1/responses" : "/v1/messages", last.path("path").asText());
      if (!openAi) {
        // instructions became the system prompt, the input one user message
        assertTrue(last.path("summary").asText().startsWith("messages=1,system=1,"), last.toString());
      }
      t.assertCharged(u.inputTokens(), u.outputTokens());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt-4o-mini", "claude-mock"})
  void createStreaming_text_everyEventValidatesAndUsageIsCharged(String model) {
    mock.configure("{\"mock\":{\"tokens\":4}}");
    try (Tenant t = tenant("resp-stream")) {
      List<ResponseStreamEvent> events = new ArrayList<>();
      Response r = stream(t.client(), params(model).build(), events);
      assertTrue(events.get(0).isCreated(), events.get(0).toString());
      assertTrue(events.get(1).isInProgress());
      assertTrue(events.get(events.size() - 1).isCompleted());
      assertEquals(4, events.stream().filter(ResponseStreamEvent::isOutputTextDelta).count());
      assertEquals("tok tok tok tok ", text(r));
      ResponseUsage u = r.usage().orElseThrow();
      assertEquals(4, u.outputTokens());
      t.assertCharged(u.inputTokens(), u.outputTokens());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt-4o-mini", "claude-mock"})
  void create_functionCallRoundTrip_callThenAnswerFromItsOutput(String model) {
    mock.configure("{\"mock\":{\"tokens\":2}}");
    try (Tenant t = tenant("resp-tool")) {
      Response first = t.client().responses().create(params(model).addTool(weather())
          .toolChoice(ToolChoiceOptions.REQUIRED).build());
      first.validate();
      ResponseFunctionToolCall call = first.output().stream().filter(o -> o.isFunctionCall()).findFirst()
          .orElseThrow().asFunctionCall();
      assertEquals("get_weather", call.name());
      assertEquals("{\"city\":\"mock\"}", call.arguments());

      List<ResponseInputItem> input = List.of(
          ResponseInputItem.ofMessage(ResponseInputItem.Message.builder().role(ResponseInputItem.Message.Role.USER)
              .addInputTextContent("What is the weather in Paris?").build()),
          ResponseInputItem.ofFunctionCall(call),
          ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
              .callId(call.callId()).output("sunny, 21 C").build()));
      Response second = t.client().responses().create(ResponseCreateParams.builder().model(model)
          .inputOfResponse(input).addTool(weather()).build());
      second.validate();
      assertEquals("tok tok ", text(second));
      JsonNode last = mock.lastRequest();
      if (model.equals("claude-mock")) {
        // the call and its output became a tool_use turn and a tool_result turn
        assertTrue(last.path("summary").asText().contains("tool_uses=1,tool_results=1,tools=1"), last.toString());
      } else {
        assertTrue(last.path("body").asText().contains("\"function_call_output\""), last.toString());
      }
      ResponseUsage a = first.usage().orElseThrow();
      ResponseUsage b = second.usage().orElseThrow();
      t.assertCharged(a.inputTokens() + b.inputTokens(), a.outputTokens() + b.outputTokens());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt-4o-mini", "claude-mock"})
  void createStreaming_functionCall_argumentsStreamAndAccumulate(String model) {
    mock.configure("{\"mock\":{\"tokens\":2}}");
    try (Tenant t = tenant("resp-tool-stream")) {
      List<ResponseStreamEvent> events = new ArrayList<>();
      Response r = stream(t.client(), params(model).addTool(weather()).toolChoice(ToolChoiceOptions.REQUIRED)
          .build(), events);
      String streamed = events.stream().filter(ResponseStreamEvent::isFunctionCallArgumentsDelta)
          .map(e -> e.asFunctionCallArgumentsDelta().delta()).collect(Collectors.joining());
      assertEquals("{\"city\":\"mock\"}", streamed);
      ResponseFunctionToolCall call = r.output().stream().filter(o -> o.isFunctionCall()).findFirst().orElseThrow()
          .asFunctionCall();
      assertEquals("get_weather", call.name());
      assertEquals(streamed, call.arguments());
      ResponseUsage u = r.usage().orElseThrow();
      t.assertCharged(u.inputTokens(), u.outputTokens());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt-4o-mini", "claude-mock"})
  void createStreaming_upstreamDiesMidStream_endsWithTheApisErrorEventAndIsCharged(String model) {
    mock.configure("{\"mock\":{\"tokens\":5,\"fail_after_tokens\":2}}");
    try (Tenant t = tenant("resp-cut")) {
      List<ResponseStreamEvent> events = new ArrayList<>();
      try (StreamResponse<ResponseStreamEvent> s = t.client().responses().createStreaming(params(model).build())) {
        s.stream().forEach(e -> {
          e.validate();
          events.add(e);
        });
      }
      assertEquals(2, events.stream().filter(ResponseStreamEvent::isOutputTextDelta).count());
      ResponseStreamEvent last = events.get(events.size() - 1);
      if (model.equals("gpt-4o-mini")) {
        // passed through: the gateway ends the stream with the API's error event
        assertTrue(last.isError(), last.toString());
        assertEquals("stream_interrupted", last.asError().code().orElseThrow());
      } else {
        // translated: the response fails, with the text generated so far
        assertTrue(last.isFailed(), last.toString());
        assertEquals(ResponseStatus.FAILED, last.asFailed().response().status().orElseThrow());
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonNode day = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + t.id() + "/usage", null).body())
            .at("/windows/day");
        assertEquals(1, day.at("/requests/used").asLong(), day.toString());
        assertTrue(day.at("/prompt_tokens/used").asLong() > 0, day.toString());
        assertTrue(day.at("/completion_tokens/used").asLong() >= 1, day.toString());
      });
    }
  }

  @Test
  void create_previousResponseId_refusedForAnthropicPassedThroughForOpenAi() {
    try (Tenant t = tenant("resp-stateful")) {
      BadRequestException e = assertThrows(BadRequestException.class, () -> t.client().responses().create(
          params("claude-mock").previousResponseId("resp_earlier").build()));
      assertTrue(e.getMessage().contains("previous_response_id"), e.getMessage());
      assertEquals("previous_response_id", e.param().orElseThrow());
      assertEquals(0, mock.stats().path("requests").asLong(), "nothing reached the upstream");

      Response r = t.client().responses().create(params("gpt-4o-mini").previousResponseId("resp_earlier").build());
      assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
      assertTrue(mock.lastRequest().path("body").asText().contains("\"previous_response_id\":\"resp_earlier\""));
    }
  }

  @Test
  void create_upstreamError_mapsToSdkException() {
    mock.configure("{\"mock\":{\"status\":400}}");
    try (Tenant t = tenant("resp-error")) {
      assertThrows(BadRequestException.class, () -> t.client().responses().create(params("gpt-4o-mini").build()));
      assertThrows(BadRequestException.class, () -> t.client().responses().create(params("claude-mock").build()));
      t.assertCharged(0, 0);
    }
  }

  @Test
  void completions_passThroughToOpenAiAndAreRefusedForAnthropic() {
    try (Tenant t = tenant("completions")) {
      Completion c = t.client().completions().create(CompletionCreateParams.builder()
          .model(CompletionCreateParams.Model.of("gpt-4o-mini")).prompt("Say hello to the gateway")
          .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 5))).build());
      c.validate();
      assertEquals("tok tok tok tok tok ", c.choices().get(0).text());
      assertEquals("/v1/completions", mock.lastRequest().path("path").asText());
      var u = c.usage().orElseThrow();
      t.assertCharged(u.promptTokens(), u.completionTokens());

      BadRequestException e = assertThrows(BadRequestException.class, () -> t.client().completions().create(
          CompletionCreateParams.builder().model(CompletionCreateParams.Model.of("claude-mock")).prompt("hi").build()));
      assertTrue(e.getMessage().contains("completions"), e.getMessage());
      assertEquals("model", e.param().orElseThrow());
    }
  }

  @Test
  void models_listSurfacesPerModel() {
    String id = Fixtures.tenant("models");
    String key = Api.tenantWithKey(node, id, null);
    Map<String, List<String>> surfaces = new java.util.HashMap<>();
    for (JsonNode m : Api.json(Api.send("GET", node.url("/v1/models"), Map.of("Authorization", "Bearer " + key), null)
        .body()).path("data")) {
      List<String> s = new ArrayList<>();
      m.at("/sluice/surfaces").forEach(v -> s.add(v.asText()));
      surfaces.put(m.path("id").asText(), s);
    }
    assertEquals(List.of("chat.completions", "messages", "responses", "completions", "embeddings"),
        surfaces.get("gpt-4o-mini"));
    assertEquals(List.of("chat.completions", "messages", "responses"), surfaces.get("claude-mock"));
    try (Tenant t = tenant("models-sdk")) {
      // the SDK still parses the list, the extra field kept aside
      List<Model> models = t.client().models().list().data();
      assertTrue(models.stream().map(Model::id).toList().containsAll(List.of("gpt-4o-mini", "claude-mock")));
      assertTrue(models.stream().allMatch(m -> m._additionalProperties().containsKey("sluice")));
    }
  }
}
