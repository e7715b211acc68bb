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
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OpenAI SDK against a node whose models are served by Azure OpenAI deployments on the mock,
 * in both URL forms: a dated api-version ({@code /openai/deployments/{d}/...?api-version=}) and
 * the v1 API ({@code /openai/v1/...}). Chat, streams with and without include_usage, tools,
 * embeddings, the Responses API, upstream errors and exact usage; the mock checks the
 * {@code api-key} header and Azure's api-version rule, and records what it saw.
 */
class AzureIT {
  private static final String KEY = "azure-upstream-key-0123456789";
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("azure", "--api-key", KEY);
    String root = "http://127.0.0.1:" + mock.port;
    node = SluiceNode.start("azure", """
        sluice.models {
          "azure-dated" {
            price { input-per-million = 0.15, output-per-million = 0.60 }
            deployments = [{ name = "azure-dated-1", provider = azure, base-url = "%1$s", deployment = "my-gpt",
                             api-version = "2024-10-21", api-key = "%2$s" }]
          }
          "azure-v1" {
            deployments = [{ name = "azure-v1-1", provider = azure, base-url = "%1$s", deployment = "my-gpt-v1",
                             api-version = v1, api-key = "%2$s" }]
          }
        }
        """.formatted(root, KEY));
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

  private record Tenant(String id, OpenAIClient client) implements AutoCloseable {
    static Tenant create(String prefix) {
      String id = Fixtures.tenant(prefix);
      String key = Api.tenantWithKey(node, id, null);
      return new Tenant(id, OpenAIOkHttpClient.builder().apiKey(key).baseUrl(node.url("/v1")).maxRetries(0).build());
    }

    @Override
    public void close() {
      client.close();
    }

    void assertCharged(long prompt, long completion) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonNode day = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/usage", null).body())
            .at("/windows/day");
        assertEquals(prompt, day.at("/prompt_tokens/used").asLong(), day.toString());
        assertEquals(completion, day.at("/completion_tokens/used").asLong(), day.toString());
      });
    }
  }

  private static ChatCompletionCreateParams.Builder chat(String model, int tokens) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello to the gateway")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", tokens)));
  }

  /** What the mock must have seen for {@code model}'s deployment and {@code op}. */
  private static void assertAzureRequest(String model, String op) {
    JsonNode last = mock.lastRequest();
    assertEquals(KEY, last.path("api_key").asText(), last.toString());
    assertTrue(last.path("authorization").isNull(), "no bearer next to the api-key: " + last);
    if (model.equals("azure-dated")) {
      assertEquals("/openai/deployments/my-gpt/" + op, last.path("path").asText());
      assertEquals("api-version=2024-10-21", last.path("query").asText());
    } else {
      assertEquals("/openai/v1/" + op, last.path("path").asText());
      assertTrue(last.path("query").isNull(), last.toString());
      assertTrue(last.path("body").asText().contains("\"model\":\"my-gpt-v1\""), last.toString());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"azure-dated", "azure-v1"})
  void chat_json_reachesTheAzureUrlWithApiKeyAndChargesUsage(String model) {
    try (Tenant t = Tenant.create("azure-json")) {
      ChatCompletion c = t.client().chat().completions().create(chat(model, 5).build());
      assertEquals("tok tok tok tok tok ", c.choices().get(0).message().content().orElseThrow());
      assertAzureRequest(model, "chat/completions");
      var u = c.usage().orElseThrow();
      assertEquals(5, u.completionTokens());
      t.assertCharged(u.promptTokens(), u.completionTokens());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"azure-dated", "azure-v1"})
  void chat_streamWithIncludeUsage_deliversChunksAndUsage(String model) {
    try (Tenant t = Tenant.create("azure-stream")) {
      StringBuilder text = new StringBuilder();
      long[] usage = {-1, -1};
      try (StreamResponse<ChatCompletionChunk> s = t.client().chat().completions().createStreaming(chat(model, 4)
          .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
        s.stream().forEach(chunk -> {
          chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text::append));
          chunk.usage().ifPresent(u -> {
            usage[0] = u.promptTokens();
            usage[1] = u.completionTokens();
          });
        });
      }
      assertEquals("tok tok tok tok ", text.toString());
      assertEquals(4, usage[1]);
      assertAzureRequest(model, "chat/completions");
      t.assertCharged(usage[0], usage[1]);
    }
  }

  @Test
  void chat_streamWithoutIncludeUsage_isStillChargedAndShowsNoUsage() {
    try (Tenant t = Tenant.create("azure-stream-nousage")) {
      boolean[] sawUsage = {false};
      try (StreamResponse<ChatCompletionChunk> s = t.client().chat().completions().createStreaming(
          chat("azure-dated", 3).build())) {
        s.stream().forEach(chunk -> sawUsage[0] |= chunk.usage().isPresent());
      }
      assertFalse(sawUsage[0]);
      // the gateway asked the upstream for usage: the mock's count for this prompt, and 3 tokens out
      assertTrue(mock.lastRequest().path("body").asText().contains("\"include_usage\":true"));
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonNode day = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + t.id() + "/usage", null).body())
            .at("/windows/day");
        assertEquals(3, day.at("/completion_tokens/used").asLong(), day.toString());
        assertTrue(day.at("/prompt_tokens/used").asLong() > 0, day.toString());
      });
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"azure-dated", "azure-v1"})
  void chat_tools_areForwardedAndTheAnswerParses(String model) {
    try (Tenant t = Tenant.create("azure-tools")) {
      ChatCompletion c = t.client().chat().completions().create(chat(model, 2)
          .addTool(ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
              .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object")).build())
              .build()).build())
          .build());
      assertEquals("tok tok ", c.choices().get(0).message().content().orElseThrow());
      JsonNode body = Api.json(mock.lastRequest().path("body").asText());
      assertEquals("get_weather", body.at("/tools/0/function/name").asText(), body.toString());
      assertAzureRequest(model, "chat/completions");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"azure-dated", "azure-v1"})
  void chat_upstreamRefusal_mapsToSdkExceptionAndChargesNothing(String model) {
    try (Tenant t = Tenant.create("azure-error")) {
      assertThrows(BadRequestException.class, () -> t.client().chat().completions().create(chat(model, 1)
          .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("status", 400))).build()));
      assertAzureRequest(model, "chat/completions");
      t.assertCharged(0, 0);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"azure-dated", "azure-v1"})
  void embeddings_reachTheAzureUrl(String model) {
    try (Tenant t = Tenant.create("azure-embed")) {
      var e = t.client().embeddings().create(EmbeddingCreateParams.builder().model(model).input("hello").build());
      assertEquals(1, e.data().size());
      assertAzureRequest(model, "embeddings");
      t.assertCharged(e.usage().promptTokens(), 0);
    }
  }

  @Test
  void responses_passThroughToTheV1ApiAndAreTranslatedForADatedVersion() {
    try (Tenant t = Tenant.create("azure-responses")) {
      Response v1 = t.client().responses().create(ResponseCreateParams.builder().model("azure-v1").input("hi")
          .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 2))).build());
      v1.validate();
      assertEquals("resp_mock_", v1.id().substring(0, 10), "the mock's own response object: " + v1.id());
      assertAzureRequest("azure-v1", "responses");

      Response dated = t.client().responses().create(ResponseCreateParams.builder().model("azure-dated").input("hi")
          .build());
      dated.validate();
      assertAzureRequest("azure-dated", "chat/completions");
      var a = v1.usage().orElseThrow();
      var b = dated.usage().orElseThrow();
      t.assertCharged(a.inputTokens() + b.inputTokens(), a.outputTokens() + b.outputTokens());
    }
  }
}
