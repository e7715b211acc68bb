package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.Call;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.routing.Deployment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class OpenAiAdapterTest {
  private final OpenAiAdapter adapter = new OpenAiAdapter();

  private static Deployment deployment(String baseUrl, String apiKey) {
    return new Deployment("d1", "openai", baseUrl, "gpt-4o-mini", apiKey, 1, 0,
        Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofMinutes(10), 16, 64);
  }

  private static ByteString body(String s) {
    return ByteString.fromString(s, StandardCharsets.UTF_8);
  }

  @Test
  void provider_isOpenai() {
    assertEquals("openai", adapter.provider());
  }

  // ---------------------------------------------------------------- error(status, body)

  @Test
  void error_openAiEnvelope_keepsFieldsAndStatus() {
    UpstreamError e = adapter.error(400, body(
        "{\"error\":{\"message\":\"Invalid value for 'temperature'.\",\"type\":\"invalid_request_error\","
            + "\"param\":\"temperature\",\"code\":\"invalid_value\"}}"));
    assertEquals(new UpstreamError(400, ErrorClass.CLIENT, "invalid_request_error", "invalid_value",
        "Invalid value for 'temperature'.", "temperature"), e);
  }

  @Test
  void error_rateLimitEnvelope_keepsTypeAndCode() {
    UpstreamError e = adapter.error(429, body(
        "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"requests\","
            + "\"param\":null,\"code\":\"rate_limit_exceeded\"},\"extra\":{\"ignored\":true}}"));
    assertEquals(new UpstreamError(429, ErrorClass.RATE_LIMITED, "requests", "rate_limit_exceeded",
        "Rate limit reached for requests", null), e);
  }

  @Test
  void error_numericCode_keptAsString() {
    UpstreamError e = adapter.error(500, body("{\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":500}}"));
    assertEquals("500", e.code());
    assertEquals(500, e.status());
    assertEquals("server_error", e.type());
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource({"400, invalid_request_error", "404, invalid_request_error", "429, rate_limit_exceeded"})
  void error_envelopeWithoutType_typeFromStatus(int status, String type) {
    UpstreamError e = adapter.error(status, body("{\"error\":{\"message\":\"nope\"}}"));
    assertEquals(status, e.status());
    assertEquals("nope", e.message());
    assertEquals(type, e.type());
    assertNull(e.param());
    assertNull(e.code());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "",
      "<html><body>502 Bad Gateway</body></html>",
      "Internal Server Error",
      "null",
      "[]",
      "42",
      "{}",
      "{\"error\":\"Unauthorized\"}",
      "{\"error\":{}}",
      "{\"error\":{\"type\":\"server_error\"}}",
      "{\"detail\":\"Not Found\"}",
      "{\"error\":{\"message\":",
  })
  void error_notAnEnvelope_genericMessageWithStatus(String raw) {
    UpstreamError e = adapter.error(502, body(raw));
    assertEquals(502, e.status());
    assertEquals("The upstream model server answered HTTP 502.", e.message());
    assertNull(e.param());
    assertNull(e.code());
    assertFalse(e.message().contains("<html>"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "Incorrect API key provided: sk-proj-abcdef123456. You can find your API key at https://x. | abcdef123456",
      "Incorrect API key provided: sk-abcdef123456                | abcdef123456",
      "Invalid key sk-ant-api03-abcdef123456-XYZ                  | abcdef123456",
      "Invalid API Key gsk_abcdef123456                           | abcdef123456",
      "header was Bearer abcdef123456                             | abcdef123456",
      "token key-abcdef123456 is invalid                          | abcdef123456",
      "key_abcdef123456 revoked                                   | abcdef123456",
  })
  void error_messageEchoingKey_redacted(String message, String secret) {
    UpstreamError e = adapter.error(401, body(
        "{\"error\":{\"message\":\"" + message + "\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}"));
    assertEquals(401, e.status());
    assertEquals("invalid_api_key", e.code());
    assertFalse(e.message().contains(secret), () -> "secret leaked: " + e.message());
    assertFalse(e.toString().contains(secret));
  }

  @Test
  void error_incorrectApiKeyMessage_staysReadable() {
    // OpenAI's most common 401 text: only the key itself should be masked, not the words around it.
    UpstreamError e = adapter.error(401, body(
        "{\"error\":{\"message\":\"Incorrect API key provided: sk-proj-abcdef123456.\",\"code\":\"invalid_api_key\"}}"));
    assertTrue(e.message().startsWith("Incorrect API key provided: "),
        () -> "BUG OpenAiAdapter.redact: the pattern also masks the word after 'key ' (\"key provided\" -> "
            + "\"key-***\"), garbling OpenAI's own message; got: " + e.message());
    assertFalse(e.message().contains("abcdef123456"));
  }

  @Test
  void error_longMessage_clipped() {
    String longMessage = "x".repeat(2000);
    UpstreamError e = adapter.error(400, body("{\"error\":{\"message\":\"" + longMessage + "\"}}"));
    assertTrue(e.message().length() <= 503, "clipped to 500 chars plus an ellipsis: " + e.message().length());
    assertTrue(e.message().endsWith("..."));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Rate limit reached", "The model `gpt-5` does not exist", "keyboard is fine"})
  void redact_messageWithoutSecret_unchanged(String message) {
    assertEquals(message, OpenAiAdapter.redact(message));
  }

  // ---------------------------------------------------------------- request(...)

  @ParameterizedTest
  @EnumSource(Operation.class)
  void request_deploymentWithKey_postsWithBearerAndSameBody(Operation op) throws Exception {
    byte[] payload = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"h\u00e9 \\\"x\\\"\"}]}"
        .getBytes(StandardCharsets.UTF_8);
    byte[] copy = payload.clone();

    HttpRequest r = adapter.request(deployment("https://api.example.com/v1", "sk-upstream-secret"), call(op, payload));

    assertEquals(HttpMethods.POST, r.method());
    String path = switch (op) {
      case CHAT -> "chat/completions";
      case EMBEDDINGS -> "embeddings";
      case COMPLETIONS -> "completions";
    };
    assertEquals("https://api.example.com/v1/" + path, r.getUri().toString());
    Optional<Authorization> auth = r.getHeader(Authorization.class);
    assertTrue(auth.isPresent(), "Authorization header missing");
    assertEquals("Bearer sk-upstream-secret", auth.get().value());
    assertEquals(1, countAuthorization(r), "exactly one Authorization header");
    assertEquals(ContentTypes.APPLICATION_JSON, r.entity().getContentType());
    assertTrue(r.entity() instanceof HttpEntity.Strict, "body must be strict, not streamed");
    assertArrayEquals(copy, ((HttpEntity.Strict) r.entity()).getData().toArray());
  }

  @Test
  void request_chat_pathIsChatCompletions() throws Exception {
    HttpRequest r = adapter.request(deployment("http://localhost:8000/v1", null), call(Operation.CHAT, new byte[] {'{', '}'}));
    assertEquals("http://localhost:8000/v1/chat/completions", r.getUri().toString());
  }

  @Test
  void request_embeddings_pathIsEmbeddings() throws Exception {
    HttpRequest r = adapter.request(deployment("http://localhost:8000/v1", null), call(Operation.EMBEDDINGS, new byte[] {'{', '}'}));
    assertEquals("http://localhost:8000/v1/embeddings", r.getUri().toString());
  }

  @Test
  void request_deploymentWithoutKey_noAuthorizationHeader() throws Exception {
    HttpRequest r = adapter.request(deployment("http://localhost:11434/v1", null),
        call(Operation.CHAT, "{}".getBytes(StandardCharsets.UTF_8)));
    assertEquals(0, countAuthorization(r));
    assertFalse(r.getHeader("Authorization").isPresent());
  }

  @Test
  void request_responsesClient_passesThroughToResponses() throws Exception {
    byte[] payload = "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
    Deployment d = deployment("https://api.example.com/v1", "sk-upstream-secret");
    assertTrue(adapter.passesThrough(d, Protocol.OPENAI_RESPONSES));
    HttpRequest r = adapter.request(d, responsesCall(payload));
    assertEquals("https://api.example.com/v1/responses", r.getUri().toString());
    assertEquals("Bearer sk-upstream-secret", r.getHeader(Authorization.class).orElseThrow().value());
    assertArrayEquals(payload, ((HttpEntity.Strict) r.entity()).getData().toArray());
    // the chat endpoint's cached head is another slot
    assertEquals("https://api.example.com/v1/chat/completions",
        adapter.request(d, call(Operation.CHAT, payload)).getUri().toString());
  }

  @Test
  void request_responsesClientOnServerWithoutResponsesApi_translatedToChatCompletions() throws Exception {
    Deployment d = new Deployment("d2", "openai", "http://localhost:8000/v1", "llama", null, 1, 0,
        java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(30), java.time.Duration.ofMinutes(5), 16, 64, 0,
        null, java.util.Map.of("responses-api", "false"));
    assertFalse(adapter.passesThrough(d, Protocol.OPENAI_RESPONSES));
    HttpRequest r = adapter.request(d, responsesCall(new byte[] {'{', '}'}));
    assertEquals("http://localhost:8000/v1/chat/completions", r.getUri().toString());
    String body = ((HttpEntity.Strict) r.entity()).getData().utf8String();
    assertTrue(body.contains("\"model\":\"llama\"") && body.contains("\"messages\""), body);
  }

  /** A Responses API body: passed through as it is, or its neutral form when translated. */
  private static Call responsesCall(byte[] bytes) {
    ClientBody body = new ClientBody() {
      @Override public Protocol protocol() { return Protocol.OPENAI_RESPONSES; }
      @Override public Operation operation() { return Operation.CHAT; }
      @Override public String model() { return "gpt-4o-mini"; }
      @Override public boolean stream() { return false; }
      @Override public boolean includeUsage() { return true; }
      @Override public long maxTokens() { return -1; }
      @Override public long promptTokens() { return 0; }
      @Override public byte[] passthrough(String upstreamModel) { return bytes; }
      @Override public ChatRequest chat() {
        return new ChatRequest("gpt-4o-mini", java.util.List.of(), java.util.List.of(new io.sluice.node.inference.chat
            .Message(io.sluice.node.inference.chat.Message.Role.USER, java.util.List.of(
                new io.sluice.node.inference.chat.Part.Text("hi")))), java.util.List.of(), null, -1, null, null,
            java.util.List.of(), false, true);
      }
    };
    return new Call(body, name -> null);
  }

  private static int countAuthorization(HttpRequest r) {
    int n = 0;
    for (var h : r.getHeaders()) {
      if (h.is("authorization")) {
        n++;
      }
    }
    return n;
  }

  /** A body from an OpenAI client that passes through as it is (its model already the upstream's). */
  private static Call call(Operation op, byte[] bytes) {
    ClientBody body = new ClientBody() {
      @Override public Protocol protocol() { return Protocol.OPENAI; }
      @Override public Operation operation() { return op; }
      @Override public String model() { return "gpt-4o-mini"; }
      @Override public boolean stream() { return false; }
      @Override public boolean includeUsage() { return false; }
      @Override public long maxTokens() { return -1; }
      @Override public long promptTokens() { return 0; }
      @Override public byte[] passthrough(String upstreamModel) { return bytes; }
      @Override public ChatRequest chat() { throw new AssertionError("an OpenAI body to an OpenAI upstream is not translated"); }
    };
    return new Call(body, name -> null);
  }
}
