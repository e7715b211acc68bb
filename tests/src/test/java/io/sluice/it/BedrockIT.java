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
import com.openai.errors.PermissionDeniedException;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI Java SDK against a node whose model is served by a Bedrock deployment ({@code provider
 * = bedrock}) on the mock's Converse mode, which verifies every SigV4 signature with the AWS signer
 * and answers in real event-stream frames: JSON, streams with usage, tools, tool results, images,
 * errors, the usage charged, and a wrong secret key refused by the signature check.
 */
class BedrockIT {
  private static final String MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0";
  private static final String ACCESS_KEY_ID = "AKIAMOCKEXAMPLE00000";
  private static final String SECRET = "mock/secret/access/key/EXAMPLEKEY000000000";
  private static final String PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
  private static MockUpstream mock;
  private static SluiceNode node;
  private static final List<OpenAIClient> CLIENTS = new ArrayList<>();

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("bedrock", "--tokens", "3");
    String base = "http://127.0.0.1:" + mock.port;
    node = SluiceNode.start("bedrock", """
        sluice.models {
          "claude-bedrock" {
            price { input-per-million = 3, output-per-million = 15 }
            deployments = [{ name = "bedrock-1", provider = bedrock, region = "us-east-1", base-url = "%1$s",
                             model = "%2$s", access-key-id = "%3$s", secret-access-key = "%4$s" }]
          }
          "claude-badkey" {
            deployments = [{ name = "bedrock-bad", provider = bedrock, aws-region = "us-west-2", base-url = "%1$s",
                             model = "%2$s", access-key-id = "%3$s", secret-access-key = "not-the-secret" }]
          }
        }
        """.formatted(base, MODEL_ID, ACCESS_KEY_ID, SECRET));
  }

  @AfterAll
  static void stop() {
    CLIENTS.forEach(OpenAIClient::close);
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @BeforeEach
  void reset() {
    mock.reset();
  }

  /** A client for a fresh tenant: errors that open one tenant's circuit leave the other tests alone. */
  private static OpenAIClient client(String tenantPrefix) {
    String key = Api.tenantWithKey(node, Fixtures.tenant(tenantPrefix), null);
    return register(OpenAIOkHttpClient.builder().apiKey(key).baseUrl(node.url("/v1")).maxRetries(0).build());
  }

  private static OpenAIClient register(OpenAIClient c) {
    CLIENTS.add(c);
    return c;
  }

  private static ChatCompletionCreateParams.Builder params(String model) {
    return ChatCompletionCreateParams.builder().model(model).addSystemMessage("Be brief.").addUserMessage("Hello Bedrock");
  }

  private static ChatCompletionFunctionTool weatherTool() {
    return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
        .description("Weather for a city").parameters(FunctionParameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
            .build()).build()).build();
  }

  @Test
  void chat_json_translatedSignedAndAnswered() {
    mock.configure("{\"mock\":{\"usage\":{\"input_tokens\":21,\"output_tokens\":5}}}");
    {
      OpenAIClient client = client("br-json");
      ChatCompletion c = client.chat().completions().create(params("claude-bedrock").build());
      assertEquals("tok tok tok ", c.choices().get(0).message().content().orElseThrow());
      assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
      assertEquals(21, c.usage().orElseThrow().promptTokens());
      assertEquals(5, c.usage().orElseThrow().completionTokens());
    }
    JsonNode seen = mock.lastRequest();
    assertEquals("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse", seen.get("path").asText());
    assertTrue(seen.get("authorization").asText().startsWith("AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY_ID
        + "/"), seen.toString());
    JsonNode body = Api.json(seen.get("body").asText());
    assertEquals("Be brief.", body.at("/system/0/text").asText());
    assertEquals("Hello Bedrock", body.at("/messages/0/content/0/text").asText());
  }

  @Test
  void chat_streamWithIncludeUsage_framesTranslatedToChunksWithUsage() {
    mock.configure("{\"mock\":{\"usage\":{\"input_tokens\":17,\"output_tokens\":3,\"cache_read_input_tokens\":4}}}");
    StringBuilder text = new StringBuilder();
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    OpenAIClient client = client("br-stream");
    try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params("claude-bedrock")
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      s.stream().forEach(c -> {
        chunks.add(c);
        c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append));
      });
    }
    assertEquals("tok tok tok ", text.toString());
    assertEquals("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream", mock.lastRequest().get("path").asText());
    var usage = chunks.get(chunks.size() - 1).usage().orElseThrow();
    assertEquals(21, usage.promptTokens(), "input plus cache reads");
    assertEquals(3, usage.completionTokens());
  }

  @Test
  void chat_toolsRequired_toolCallWithSchemaArguments_jsonAndStream() {
    {
      OpenAIClient client = client("br-tools");
      ChatCompletionCreateParams p = params("claude-bedrock").addTool(weatherTool())
          .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
      ChatCompletion c = client.chat().completions().create(p);
      assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().get(0).finishReason());
      ChatCompletionMessageFunctionToolCall call = c.choices().get(0).message().toolCalls().orElseThrow().get(0)
          .asFunction();
      assertEquals("get_weather", call.function().name());
      assertEquals("mock", Api.json(call.function().arguments()).get("city").asText());
      JsonNode sent = Api.json(mock.lastRequest().get("body").asText());
      assertTrue(sent.at("/toolConfig/toolChoice").has("any"), sent.toString());

      StringBuilder args = new StringBuilder();
      String[] name = {null};
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
        s.stream().forEach(ch -> ch.choices().forEach(choice -> choice.delta().toolCalls().ifPresent(calls ->
            calls.forEach(tc -> {
              tc.function().flatMap(f -> f.name()).ifPresent(n -> name[0] = n);
              tc.function().flatMap(f -> f.arguments()).ifPresent(args::append);
            }))));
      }
      assertEquals("get_weather", name[0]);
      assertEquals("mock", Api.json(args.toString()).get("city").asText());
    }
  }

  @Test
  void chat_toolResults_sentAsConverseToolResultInAUserTurn() {
    ChatCompletionMessageToolCall call = ChatCompletionMessageToolCall.ofFunction(
        ChatCompletionMessageFunctionToolCall.builder().id("tooluse_prev").function(
            ChatCompletionMessageFunctionToolCall.Function.builder().name("get_weather")
                .arguments("{\"city\":\"Paris\"}").build()).build());
    {
      OpenAIClient client = client("br-results");
      ChatCompletion c = client.chat().completions().create(params("claude-bedrock").addTool(weatherTool())
          .addMessage(ChatCompletionAssistantMessageParam.builder().addToolCall(call).build())
          .addMessage(ChatCompletionToolMessageParam.builder().toolCallId("tooluse_prev").content("18C, sunny").build())
          .build());
      assertEquals("tok tok tok ", c.choices().get(0).message().content().orElseThrow());
    }
    JsonNode body = Api.json(mock.lastRequest().get("body").asText());
    assertEquals("tooluse_prev", body.at("/messages/1/content/0/toolUse/toolUseId").asText(), body.toString());
    assertEquals("Paris", body.at("/messages/1/content/0/toolUse/input/city").asText());
    assertEquals("user", body.at("/messages/2/role").asText());
    assertEquals("18C, sunny", body.at("/messages/2/content/0/toolResult/content/0/text").asText());
  }

  @Test
  void chat_images_dataUrlAsBytes_httpUrlRefused() {
    {
      OpenAIClient client = client("br-images");
      ChatCompletionCreateParams withImage = ChatCompletionCreateParams.builder().model("claude-bedrock")
          .addUserMessageOfArrayOfContentParts(List.of(
              ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("What is it?").build()),
              ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                  ChatCompletionContentPartImage.ImageUrl.builder().url("data:image/png;base64," + PNG).build()).build())))
          .build();
      ChatCompletion c = client.chat().completions().create(withImage);
      // (11 bytes) / 4 + 3 per message + 100 per image, as the mock counts
      assertEquals(2 + 3 + 100, c.usage().orElseThrow().promptTokens());
      JsonNode body = Api.json(mock.lastRequest().get("body").asText());
      assertEquals("png", body.at("/messages/0/content/1/image/format").asText());
      assertEquals(PNG, body.at("/messages/0/content/1/image/source/bytes").asText());

      ChatCompletionCreateParams byUrl = ChatCompletionCreateParams.builder().model("claude-bedrock")
          .addUserMessageOfArrayOfContentParts(List.of(ChatCompletionContentPart.ofImageUrl(
              ChatCompletionContentPartImage.builder().imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                  .url("https://example.com/cat.png").build()).build())))
          .build();
      BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(byUrl));
      assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    }
  }

  @Test
  void chat_upstreamErrors_classifiedByErrorType() {
    mock.configure("{\"script\":[400]}");
    {
      OpenAIClient client = client("br-400");
      BadRequestException e = assertThrows(BadRequestException.class,
          () -> client.chat().completions().create(params("claude-bedrock").build()));
      assertTrue(e.getMessage().contains("Mock upstream failure"), e.getMessage());
    }
    mock.configure("{\"script\":[403]}");
    {
      OpenAIClient client = client("br-403");
      assertThrows(PermissionDeniedException.class,
          () -> client.chat().completions().create(params("claude-bedrock").build()));
    }
    mock.configure("{\"script\":[429,429,429,429,429,429],\"mock\":{\"retry_after\":0}}");
    {
      OpenAIClient client = client("br-429");
      assertThrows(RateLimitException.class, () -> client.chat().completions().create(params("claude-bedrock").build()));
    }
  }

  @Test
  void chat_wrongSecretKey_signatureRefusedByTheMock() {
    {
      OpenAIClient client = client("br-badkey");
      PermissionDeniedException e = assertThrows(PermissionDeniedException.class,
          () -> client.chat().completions().create(params("claude-badkey").build()));
      assertTrue(e.getMessage().contains("signature"), e.getMessage());
    }
    assertTrue(mock.lastRequest().get("authorization").asText().contains("/us-west-2/bedrock/aws4_request"),
        "signed for aws-region");
  }

  @Test
  void usage_jsonAndStream_chargedExactly() {
    String tenant = Fixtures.tenant("br-usage");
    String key = Api.tenantWithKey(node, tenant, null);
    mock.configure("{\"mock\":{\"usage\":{\"input_tokens\":40,\"output_tokens\":9,\"cache_creation_input_tokens\":2}}}");
    {
      OpenAIClient client = register(OpenAIOkHttpClient.builder().apiKey(key).baseUrl(node.url("/v1")).maxRetries(0)
          .build());
      client.chat().completions().create(params("claude-bedrock").build());
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
          params("claude-bedrock").build())) {
        s.stream().forEach(c -> { });
      }
    }
    await("usage settled").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      JsonNode u = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + tenant + "/usage", null).body());
      assertEquals(2 * 42, u.at("/windows/day/prompt_tokens/used").asLong(), u.toString());
      assertEquals(2 * 9, u.at("/windows/day/completion_tokens/used").asLong(), u.toString());
      assertEquals(2, u.at("/windows/day/requests/used").asLong(), u.toString());
    });
  }
}
