package io.sluice.node.provider.azure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.Call;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.routing.Deployment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AzureAdapterTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Deployment azure(Map<String, String> options) {
    return new Deployment("az", "azure", "https://res.openai.azure.com", "gpt-4o-mini", "azure-key-123", 1, 0,
        Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofMinutes(5), 16, 64, 0, null, options);
  }

  @ParameterizedTest(name = "[{index}] {0} {1}")
  @CsvSource({
      "CHAT, 2024-10-21, https://res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21",
      "EMBEDDINGS, 2024-10-21, https://res.openai.azure.com/openai/deployments/prod-4o/embeddings?api-version=2024-10-21",
      "CHAT, 2025-01-01-preview, https://res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2025-01-01-preview",
      "CHAT, v1, https://res.openai.azure.com/openai/v1/chat/completions",
      "EMBEDDINGS, v1, https://res.openai.azure.com/openai/v1/embeddings",
  })
  void url_apiVersion_deploymentsPathOrV1(Operation op, String version, String url) {
    assertEquals(url, AzureAdapter.url(azure(Map.of("deployment", "prod-4o", "api-version", version)), op));
  }

  @Test
  void url_noApiVersion_theGaDefault() {
    assertTrue(AzureAdapter.url(azure(Map.of()), Operation.CHAT).endsWith("?api-version=2024-10-21"));
  }

  @Test
  void request_openAiClient_bodyPassesThroughWithTheDeploymentAsModelAndApiKeyHeader() throws Exception {
    AzureAdapter adapter = new AzureAdapter(EntraTokens.start(List.of()));
    HttpRequest r = adapter.request(azure(Map.of("deployment", "prod-4o")), call(Protocol.OPENAI));
    assertEquals("azure-key-123", r.getHeader("api-key").orElseThrow().value());
    assertFalse(r.getHeader("Authorization").isPresent(), "the key goes in api-key, not Authorization");
    JsonNode body = JSON.readTree(((HttpEntity.Strict) r.entity()).getData().toArray());
    assertEquals("prod-4o", body.get("model").asText());
  }

  @Test
  void request_anthropicClient_encodedAsOpenAiChat() throws Exception {
    AzureAdapter adapter = new AzureAdapter(EntraTokens.start(List.of()));
    HttpRequest r = adapter.request(azure(Map.of("deployment", "prod-4o", "api-version", "v1")), call(Protocol.ANTHROPIC));
    JsonNode body = JSON.readTree(((HttpEntity.Strict) r.entity()).getData().toArray());
    assertEquals("prod-4o", body.get("model").asText());
    assertEquals("system", body.at("/messages/0/role").asText());
    assertEquals("hi", body.at("/messages/1/content").asText().isEmpty() ? body.at("/messages/1/content/0/text").asText()
        : body.at("/messages/1/content").asText());
    assertEquals(7, body.get("max_tokens").asLong());
  }

  @Test
  void request_responsesClientOnV1_passesThroughToTheResponsesApi() throws Exception {
    AzureAdapter adapter = new AzureAdapter(EntraTokens.start(List.of()));
    Deployment d = azure(Map.of("deployment", "prod-4o", "api-version", "v1"));
    assertTrue(adapter.passesThrough(d, Protocol.OPENAI_RESPONSES));
    HttpRequest r = adapter.request(d, call(Protocol.OPENAI_RESPONSES));
    assertEquals("https://res.openai.azure.com/openai/v1/responses", r.getUri().toString());
    JsonNode body = JSON.readTree(((HttpEntity.Strict) r.entity()).getData().toArray());
    assertEquals("prod-4o", body.get("model").asText());
    assertEquals("hi", body.at("/messages/0/content").asText(), "the client's bytes, not a translation");
  }

  @Test
  void request_responsesClientOnADatedVersion_translatedToChatCompletions() throws Exception {
    AzureAdapter adapter = new AzureAdapter(EntraTokens.start(List.of()));
    Deployment d = azure(Map.of("deployment", "prod-4o", "api-version", "2024-10-21"));
    assertFalse(adapter.passesThrough(d, Protocol.OPENAI_RESPONSES));
    HttpRequest r = adapter.request(d, call(Protocol.OPENAI_RESPONSES));
    assertEquals("https://res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21",
        r.getUri().toString());
    JsonNode body = JSON.readTree(((HttpEntity.Strict) r.entity()).getData().toArray());
    assertEquals("system", body.at("/messages/0/role").asText());
  }

  @Test
  void request_entraAuth_bearerTokenFromTheFileInsteadOfTheKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("token");
    Files.writeString(file, "{\"accessToken\":\"eyJ0-first\",\"expiresOn\":\"later\"}\n");
    Deployment d = azure(Map.of("auth", "entra", "token-file", file.toString()));
    try (EntraTokens tokens = EntraTokens.start(List.of(d))) {
      AzureAdapter adapter = new AzureAdapter(tokens);
      assertEquals("Bearer eyJ0-first", adapter.request(d, call(Protocol.OPENAI)).getHeader("Authorization")
          .orElseThrow().value());
      assertFalse(adapter.request(d, call(Protocol.OPENAI)).getHeader("api-key").isPresent());
      Files.writeString(file, "eyJ0-second");
      tokens.refresh(d);
      assertEquals("Bearer eyJ0-second", adapter.request(d, call(Protocol.OPENAI)).getHeader("Authorization")
          .orElseThrow().value());
    }
  }

  @Test
  void refresh_commandFails_keepsThePreviousToken(@TempDir Path dir) throws Exception {
    Path flag = dir.resolve("ok");
    Files.writeString(flag, "");
    Deployment d = azure(Map.of("auth", "entra",
        "token-command", "test -f " + flag + " && echo tok-from-command || exit 3"));
    try (EntraTokens tokens = EntraTokens.start(List.of(d))) {
      assertEquals("tok-from-command", tokens.token(d));
      Files.delete(flag);
      tokens.refresh(d);
      assertEquals("tok-from-command", tokens.token(d));
    }
  }

  @Test
  void refreshInterval_option_parsedAsDuration() {
    assertEquals(Duration.ofMinutes(5), EntraTokens.refreshInterval(azure(Map.of("token-refresh", "5m"))));
    assertEquals(EntraTokens.DEFAULT_REFRESH, EntraTokens.refreshInterval(azure(Map.of())));
  }

  private static Call call(Protocol protocol) {
    byte[] bytes = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
        .getBytes(StandardCharsets.UTF_8);
    ClientBody body = new ClientBody() {
      @Override public Protocol protocol() { return protocol; }
      @Override public Operation operation() { return Operation.CHAT; }
      @Override public String model() { return "gpt-4o-mini"; }
      @Override public boolean stream() { return false; }
      @Override public boolean includeUsage() { return false; }
      @Override public long maxTokens() { return 7; }
      @Override public long promptTokens() { return 1; }
      @Override public byte[] passthrough(String upstreamModel) {
        return new String(bytes, StandardCharsets.UTF_8).replace("gpt-4o-mini", upstreamModel)
            .getBytes(StandardCharsets.UTF_8);
      }
      @Override public ChatRequest chat() {
        return new ChatRequest("gpt-4o-mini", List.of(new Part.Text("be brief")),
            List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))), List.of(), null, 7, null, null,
            List.of(), false, false);
      }
    };
    return new Call(body, name -> null);
  }
}
