package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.RateLimitException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI SDK against a node whose models are served by Gemini deployments on the
 * mock's Gemini mode (AI Studio URLs, and Vertex's project URLs): JSON, streams with
 * include_usage, tools, tool results (the call's thought signature goes back to Gemini), images,
 * errors, and the exact usage charged to the tenant, thoughts included.
 */
class GeminiSdkIT {
  private static final String GOOGLE_KEY = "AIzaMockKey0123456789abcdefghijklmnopq";
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("gemini", "--api-key", GOOGLE_KEY);
    String root = "http://127.0.0.1:" + mock.port;
    node = SluiceNode.start("gemini", """
        sluice.models {
          "gemini-flash" {
            deployments = [{ name = "gemini-1", provider = gemini, base-url = "%1$s", model = "gemini-2.5-flash",
                             api-key = "%2$s" }]
          }
          "gemini-vertex" {
            deployments = [{ name = "vertex-1", provider = gemini, base-url = "%1$s", model = "gemini-2.5-pro",
                             api-key = "%2$s", vertex-project = "my-proj", vertex-location = "europe-west4" }]
          }
          "gemini-badkey" {
            deployments = [{ name = "gemini-bad", provider = gemini, base-url = "%1$s", model = "gemini-2.5-flash",
                             api-key = "AIzaNotTheRightKey0123456789abcdefghij" }]
          }
        }
        sluice.routing.max-attempts = 2
        """.formatted(root, GOOGLE_KEY));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @AfterEach
  void reset() {
    mock.reset();
  }

  @Test
  void chat_json_translatedAndUsageChargedExactly() {
    mock.configure("{\"mock\":{\"tokens\":3,\"usage\":{\"input_tokens\":11,\"output_tokens\":3,\"thoughts_tokens\":4}}}");
    String tenant = Fixtures.tenant("gem-json");
    try (Client c = client(tenant)) {
      ChatCompletion r = c.sdk.chat().completions().create(ChatCompletionCreateParams.builder().model("gemini-flash")
          .addSystemMessage("Be terse.").addUserMessage("Hello").maxCompletionTokens(50).temperature(0.3).build());
      assertEquals("tok tok tok ", r.choices().get(0).message().content().orElseThrow());
      assertEquals(ChatCompletion.Choice.FinishReason.STOP, r.choices().get(0).finishReason());
      assertEquals(11, r.usage().orElseThrow().promptTokens());
      assertEquals(7, r.usage().orElseThrow().completionTokens(), "candidates plus thoughts");
    }
    JsonNode last = mock.lastRequest();
    assertEquals("/v1beta/models/gemini-2.5-flash:generateContent", last.path("path").asText());
    assertEquals(GOOGLE_KEY, last.path("x_goog_api_key").asText());
    assertTrue(last.path("summary").asText().startsWith("contents=1,system=1"), last.toString());
    JsonNode body = Api.json(last.path("body").asText());
    assertEquals(50, body.at("/generationConfig/maxOutputTokens").asInt());
    assertEquals(0.3, body.at("/generationConfig/temperature").asDouble(), 1e-9);
    assertCharged(tenant, 11, 7);
  }

  @Test
  void chat_streamWithIncludeUsage_chunksAndUsageChargedExactly() {
    mock.configure("{\"mock\":{\"tokens\":4,\"usage\":{\"input_tokens\":9,\"output_tokens\":4,\"thoughts_tokens\":2}}}");
    String tenant = Fixtures.tenant("gem-stream");
    StringBuilder text = new StringBuilder();
    long[] usage = {-1, -1};
    String[] finish = {null};
    try (Client c = client(tenant);
        StreamResponse<ChatCompletionChunk> s = c.sdk.chat().completions().createStreaming(ChatCompletionCreateParams
            .builder().model("gemini-flash").addUserMessage("Count")
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      s.stream().forEach(chunk -> {
        chunk.choices().forEach(ch -> {
          ch.delta().content().ifPresent(text::append);
          ch.finishReason().ifPresent(f -> finish[0] = f.asString());
        });
        chunk.usage().ifPresent(u -> {
          usage[0] = u.promptTokens();
          usage[1] = u.completionTokens();
        });
      });
    }
    assertEquals("tok tok tok tok ", text.toString());
    assertEquals("stop", finish[0]);
    assertEquals(9, usage[0]);
    assertEquals(6, usage[1]);
    assertEquals("alt=sse", mock.lastRequest().path("query").asText());
    assertTrue(mock.lastRequest().path("path").asText().endsWith(":streamGenerateContent"));
    assertCharged(tenant, 9, 6);
  }

  @Test
  void chat_streamCutShort_chargedTheLastRunningTotal() {
    // 4 events, each carrying candidates 4*(i+1)/4; the connection dies after 2 of them.
    mock.configure("{\"mock\":{\"tokens\":4,\"fail_after_tokens\":2,\"usage\":{\"input_tokens\":5,\"output_tokens\":4}}}");
    String tenant = Fixtures.tenant("gem-cut");
    try (Client c = client(tenant);
        StreamResponse<ChatCompletionChunk> s = c.sdk.chat().completions().createStreaming(ChatCompletionCreateParams
            .builder().model("gemini-flash").addUserMessage("Count").build())) {
      s.stream().forEach(chunk -> { });
    } catch (RuntimeException expected) {
      // the stream ends in an error event or a cut connection; either way it is charged
    }
    assertCharged(tenant, 5, 2);
  }

  @Test
  void chat_toolsThenToolResults_callIdCarriesSignatureBackToGemini() {
    String tenant = Fixtures.tenant("gem-tools");
    ChatCompletionFunctionTool weather = ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
        .name("get_weather").description("The weather in a city")
        .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
            .putAdditionalProperty("additionalProperties", JsonValue.from(false)).build())
        .build()).build();
    try (Client c = client(tenant)) {
      ChatCompletionCreateParams ask = ChatCompletionCreateParams.builder().model("gemini-vertex")
          .addUserMessage("Weather in Paris?").addTool(weather)
          .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
      ChatCompletion first = c.sdk.chat().completions().create(ask);
      ChatCompletion.Choice choice = first.choices().get(0);
      assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
      ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
      assertEquals("get_weather", call.function().name());
      assertEquals("{\"city\":\"mock\"}", call.function().arguments());
      assertTrue(call.id().startsWith("call_") && call.id().contains("__ts_"), call.id());
      JsonNode asked = mock.lastRequest();
      assertEquals("/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent",
          asked.path("path").asText());
      assertTrue(asked.path("summary").asText().contains("tools=1,mode=ANY"), asked.toString());

      ChatCompletion second = c.sdk.chat().completions().create(ask.toBuilder()
          .toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO)
          .addMessage(ChatCompletionAssistantMessageParam.builder()
              .toolCalls(List.of(ChatCompletionMessageToolCall.ofFunction(call))).build())
          .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("15 C and cloudy").build())
          .build());
      assertEquals(ChatCompletion.Choice.FinishReason.STOP, second.choices().get(0).finishReason());
    }
    JsonNode replayed = mock.lastRequest();
    assertTrue(replayed.path("summary").asText().contains("function_calls=1,function_responses=1,signatures=1"),
        replayed.toString());
    JsonNode body = Api.json(replayed.path("body").asText());
    JsonNode model = body.at("/contents/1");
    assertEquals("model", model.path("role").asText());
    assertEquals("CiQBmock+sig/Ab=", model.at("/parts/0/thoughtSignature").asText(), "the signature as Gemini sent it");
    JsonNode response = body.at("/contents/2/parts/0/functionResponse");
    assertEquals("get_weather", response.path("name").asText(), "the name recovered from the call's id");
    assertEquals("15 C and cloudy", response.at("/response/output").asText());
    assertFalse(body.at("/tools/0/functionDeclarations/0/parametersJsonSchema/additionalProperties").asBoolean(true));
  }

  @Test
  void chat_images_sentAsInlineDataAndFileData() {
    String tenant = Fixtures.tenant("gem-img");
    try (Client c = client(tenant)) {
      c.sdk.chat().completions().create(ChatCompletionCreateParams.builder().model("gemini-flash")
          .addUserMessageOfArrayOfContentParts(List.of(
              ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("What are these?").build()),
              ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                  ChatCompletionContentPartImage.ImageUrl.builder().url("data:image/png;base64,iVBORw0KGgo=").build())
                  .build()),
              ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                  ChatCompletionContentPartImage.ImageUrl.builder().url("https://example.com/cat.webp").build())
                  .build())))
          .build());
    }
    JsonNode last = mock.lastRequest();
    assertTrue(last.path("summary").asText().contains("images=2"), last.toString());
    JsonNode parts = Api.json(last.path("body").asText()).at("/contents/0/parts");
    assertEquals("image/png", parts.at("/1/inlineData/mimeType").asText());
    assertEquals("iVBORw0KGgo=", parts.at("/1/inlineData/data").asText());
    assertEquals("https://example.com/cat.webp", parts.at("/2/fileData/fileUri").asText());
    assertEquals("image/webp", parts.at("/2/fileData/mimeType").asText());
  }

  @Test
  void chat_upstreamErrors_mapToSdkExceptions() {
    // One tenant per case: a 429 (like a refused key) opens that tenant's circuit for the deployment.
    ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("gemini-flash").addUserMessage("x")
        .build();
    mock.configure("{\"mock\":{\"status\":400}}");
    String invalid = Fixtures.tenant("gem-400");
    try (Client c = client(invalid)) {
      BadRequestException e = assertThrows(BadRequestException.class, () -> c.sdk.chat().completions().create(p));
      assertTrue(e.getMessage().contains("Mock upstream failure"), e.getMessage());
    }
    mock.configure("{\"mock\":{\"status\":429}}");
    try (Client c = client(Fixtures.tenant("gem-429"))) {
      RateLimitException e = assertThrows(RateLimitException.class, () -> c.sdk.chat().completions().create(p));
      assertEquals(429, e.statusCode());
    }
    mock.configure("{\"mock\":{\"status\":503}}");
    try (Client c = client(Fixtures.tenant("gem-503"))) {
      InternalServerException e = assertThrows(InternalServerException.class,
          () -> c.sdk.chat().completions().create(p));
      assertEquals(502, e.statusCode(), "UNAVAILABLE is retried, then reported as the upstream's failure");
    }
    mock.reset();
    try (Client c = client(Fixtures.tenant("gem-key"))) {
      BadRequestException e = assertThrows(BadRequestException.class,
          () -> c.sdk.chat().completions().create(p.toBuilder().model("gemini-badkey").build()));
      assertTrue(e.getMessage().contains("API key not valid"), e.getMessage());
      assertFalse(e.getMessage().contains("AIzaNotTheRightKey"), e.getMessage());
    }
    assertCharged(invalid, 0, 0);
  }

  private static void assertCharged(String tenant, long prompt, long completion) {
    await("usage settled for " + tenant).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
        .untilAsserted(() -> {
          HttpResponse<String> r = Api.admin(node, "GET", "/admin/v1/tenants/" + tenant + "/usage", null);
          assertEquals(200, r.statusCode(), r.body());
          JsonNode day = Api.json(r.body()).at("/windows/day");
          assertEquals(prompt, day.at("/prompt_tokens/used").asLong(), r.body());
          assertEquals(completion, day.at("/completion_tokens/used").asLong(), r.body());
        });
  }

  /** A tenant with a key, and the OpenAI SDK pointed at the node with it. */
  private static Client client(String tenant) {
    String key = Api.tenantWithKey(node, tenant, null);
    return new Client(OpenAIOkHttpClient.builder().apiKey(key).baseUrl(node.url("/v1")).maxRetries(0).build());
  }

  private record Client(OpenAIClient sdk) implements AutoCloseable {
    @Override
    public void close() {
      sdk.close();
    }
  }
}
