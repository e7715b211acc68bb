package io.sluice.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.BadRequestException;
import com.anthropic.errors.InternalServerException;
import com.anthropic.errors.NotFoundException;
import com.anthropic.errors.OverloadedException;
import com.anthropic.errors.PermissionDeniedException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.SseException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.ErrorType;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolChoiceAny;
import com.anthropic.models.messages.ToolChoiceTool;
import com.anthropic.models.messages.ToolUseBlock;
import com.anthropic.models.beta.messages.BetaMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Messages mode as the official Anthropic Java SDK sees it: every response and stream must parse. */
class AnthropicSdkTest {
  private static final String KEY = "sk-ant-test";
  private MockLlmServer server;
  private AnthropicClient client;

  @BeforeEach
  void start() {
    server = MockLlmServer.start(MockSettings.defaults().withPort(0).withApiKey(KEY));
    client = client(b -> b.apiKey(KEY));
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void create_textRequest_parsesTextEndTurnAndUsage() {
    Message m = client.messages().create(params(4).system("Be terse.").addUserMessage("12345678").build());

    assertEquals("claude-mock", m.model().asString());
    assertTrue(m.id().startsWith("msg_"), m.id());
    assertEquals(1, m.content().size());
    assertEquals("tok tok tok tok ", m.content().get(0).text().orElseThrow().text());
    assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
    // "Be terse." (9 bytes) + "12345678" (8) = 17 / 4 = 4, + 3 for the one message
    assertEquals(7, m.usage().inputTokens());
    assertEquals(4, m.usage().outputTokens());
    assertEquals(0, m.usage().cacheReadInputTokens().orElseThrow());
  }

  @Test
  void createStreaming_text_accumulatesSameMessageAsNonStreaming() {
    MessageCreateParams p = params(5).addUserMessage("hello there").build();
    Message whole = client.messages().create(p);

    Message streamed = accumulate(p);

    assertEquals(whole.content().get(0).text().orElseThrow().text(), streamed.content().get(0).text().orElseThrow().text());
    assertEquals(StopReason.END_TURN, streamed.stopReason().orElseThrow());
    assertEquals(whole.usage().inputTokens(), streamed.usage().inputTokens());
    assertEquals(5, streamed.usage().outputTokens());
  }

  @Test
  void createStreaming_usageKnob_reportsConfiguredUsageIncludingCache() {
    MessageCreateParams p = params(3).addUserMessage("hi")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 3, "usage", Map.of("input_tokens", 11,
            "output_tokens", 22, "cache_creation_input_tokens", 33, "cache_read_input_tokens", 44))))
        .build();

    for (Message m : List.of(client.messages().create(p), accumulate(p))) {
      assertEquals(11, m.usage().inputTokens());
      assertEquals(22, m.usage().outputTokens());
      assertEquals(33, m.usage().cacheCreationInputTokens().orElseThrow());
      assertEquals(44, m.usage().cacheReadInputTokens().orElseThrow());
      assertEquals("tok tok tok ", m.content().get(0).text().orElseThrow().text(), "usage changes no content");
    }
  }

  @Test
  void create_toolChoiceAny_returnsToolUseFromSchemaWithStopReasonToolUse() {
    MessageCreateParams p = params(8).addUserMessage("weather in Paris?").addTool(weatherTool())
        .toolChoice(ToolChoiceAny.builder().build()).build();

    for (Message m : List.of(client.messages().create(p), accumulate(p))) {
      assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
      assertEquals(1, m.content().size(), "a forced call has no text block");
      ToolUseBlock call = m.content().get(0).toolUse().orElseThrow();
      assertEquals("get_weather", call.name());
      assertTrue(call.id().startsWith("toolu_"), call.id());
      assertEquals(Map.of("city", "mock", "unit", "celsius", "days", 1), call._input().convert(Map.class));
    }
  }

  @Test
  void createStreaming_toolUseKnobWithAutoChoice_textBlockThenToolBlock() {
    MessageCreateParams p = params(2).addUserMessage("weather?").addTool(weatherTool()).addTool(otherTool())
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 2, "tool_use", true))).build();

    Message m = accumulate(p);

    assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
    assertEquals(2, m.content().size());
    assertEquals("tok tok ", m.content().get(0).text().orElseThrow().text());
    assertEquals("get_weather", m.content().get(1).toolUse().orElseThrow().name(), "the first tool, as with any");
    // 2 text deltas + 4 input_json_delta pieces ("", {"city", "unit", "days"})
    assertEquals(6, m.usage().outputTokens());
  }

  @Test
  void create_namedToolChoice_callsThatTool() {
    MessageCreateParams p = params(8).addUserMessage("x").addTool(weatherTool()).addTool(otherTool())
        .toolChoice(ToolChoiceTool.builder().name("ping_host").build()).build();

    ContentBlock block = client.messages().create(p).content().get(0);

    assertEquals("ping_host", block.toolUse().orElseThrow().name());
    assertEquals(Map.of(), block.toolUse().orElseThrow()._input().convert(Map.class));
  }

  @Test
  void create_maxTokensBelowTokens_truncatesWithStopReasonMaxTokens() {
    MessageCreateParams p = MessageCreateParams.builder().model("claude-mock").maxTokens(3).addUserMessage("x")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 10))).build();

    for (Message m : List.of(client.messages().create(p), accumulate(p))) {
      assertEquals(StopReason.MAX_TOKENS, m.stopReason().orElseThrow());
      assertEquals("tok tok tok ", m.content().get(0).text().orElseThrow().text());
      assertEquals(3, m.usage().outputTokens());
    }
  }

  @Test
  void countTokens_request_returnsTheInputTokensThatCreateReports() {
    long counted = client.messages().countTokens(MessageCountTokensParams.builder().model("claude-mock")
        .system("You are a helpful assistant.").addUserMessage("What is the weather like today?").build()).inputTokens();
    Message m = client.messages().create(params(1).system("You are a helpful assistant.")
        .addUserMessage("What is the weather like today?").build());

    // 28 + 31 bytes = 59 / 4 = 14, + 3 for the one message
    assertEquals(17, counted);
    assertEquals(counted, m.usage().inputTokens());
  }

  @Test
  void betaCreate_withBetaHeader_parsesAndHeadersAreRecorded() throws Exception {
    BetaMessage m = client.beta().messages().create(com.anthropic.models.beta.messages.MessageCreateParams.builder()
        .model("claude-mock").maxTokens(64).addUserMessage("hi").addBeta("files-api-2025-04-14")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 2))).build());

    assertEquals("tok tok ", m.content().get(0).text().orElseThrow().text());
    HttpResponse<String> last = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(server.baseUrl() + "/mock/last-request")).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode seen = new ObjectMapper().readTree(last.body());
    assertEquals("/v1/messages", seen.get("path").asText());
    assertEquals("files-api-2025-04-14", seen.get("anthropic_beta").asText());
    // this SDK sends its api key as a bearer token, and a newer anthropic-version than 2023-06-01
    assertEquals("Bearer " + KEY, seen.get("authorization").asText());
    assertFalse(seen.get("anthropic_version").asText().isEmpty());
  }

  @Test
  void create_bearerAuthToken_isAccepted() {
    AnthropicClient bearer = client(b -> b.authToken(KEY));
    try {
      assertEquals(StopReason.END_TURN, bearer.messages().create(params(1).addUserMessage("x").build())
          .stopReason().orElseThrow());
    } finally {
      bearer.close();
    }
  }

  @Test
  void create_wrongApiKey_throwsUnauthorizedWithAuthenticationError() {
    AnthropicClient wrong = client(b -> b.apiKey("sk-ant-wrong"));
    try {
      UnauthorizedException e = assertThrows(UnauthorizedException.class,
          () -> wrong.messages().create(params(1).addUserMessage("x").build()));
      assertEquals(401, e.statusCode());
      assertEquals(ErrorType.AUTHENTICATION_ERROR, e.errorType().orElseThrow());
      assertTrue(e.requestId().orElseThrow().startsWith("req_"));
    } finally {
      wrong.close();
    }
  }

  static Stream<Arguments> statuses() {
    return Stream.of(
        Arguments.of(400, BadRequestException.class, ErrorType.INVALID_REQUEST_ERROR),
        Arguments.of(403, PermissionDeniedException.class, ErrorType.PERMISSION_ERROR),
        Arguments.of(404, NotFoundException.class, ErrorType.NOT_FOUND_ERROR),
        Arguments.of(429, RateLimitException.class, ErrorType.RATE_LIMIT_ERROR),
        Arguments.of(500, InternalServerException.class, ErrorType.API_ERROR),
        Arguments.of(529, OverloadedException.class, ErrorType.OVERLOADED_ERROR));
  }

  @ParameterizedTest
  @MethodSource("statuses")
  void create_statusKnob_throwsTheSdkExceptionOfThatStatus(int status, Class<? extends AnthropicServiceException> type,
                                                           ErrorType errorType) {
    MessageCreateParams p = params(1).addUserMessage("x")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("status", status))).build();

    for (Supplier<?> call : List.<Supplier<?>>of(() -> client.messages().create(p), () -> accumulate(p))) {
      AnthropicServiceException e = assertThrows(type, call::get);
      assertEquals(status, e.statusCode());
      assertEquals(errorType, e.errorType().orElseThrow());
      assertEquals(status == 429, e.headers().values("retry-after").contains("1"));
    }
  }

  @Test
  void createStreaming_errorAfterTokens_sdkThrowsSseExceptionWithOverloadedError() {
    MessageCreateParams p = params(1).addUserMessage("x")
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", 5, "error_after_tokens", 2))).build();
    List<RawMessageStreamEvent> seen = new java.util.ArrayList<>();

    SseException e;
    try (StreamResponse<RawMessageStreamEvent> s = client.messages().createStreaming(p)) {
      e = assertThrows(SseException.class, () -> s.stream().forEach(seen::add));
    }

    assertEquals(ErrorType.OVERLOADED_ERROR, e.errorType().orElseThrow());
    assertEquals(2, seen.stream().filter(RawMessageStreamEvent::isContentBlockDelta).count(),
        "the deltas before the error arrived");
    assertFalse(seen.stream().anyMatch(RawMessageStreamEvent::isMessageStop));
  }

  // --- helpers ---

  private AnthropicClient client(java.util.function.UnaryOperator<AnthropicOkHttpClient.Builder> auth) {
    return auth.apply(AnthropicOkHttpClient.builder().baseUrl(server.baseUrl()).maxRetries(0)
        .timeout(Duration.ofSeconds(10))).build();
  }

  private static MessageCreateParams.Builder params(int tokens) {
    return MessageCreateParams.builder().model("claude-mock").maxTokens(64)
        .putAdditionalBodyProperty("mock", JsonValue.from(Map.of("tokens", tokens)));
  }

  private Message accumulate(MessageCreateParams p) {
    MessageAccumulator acc = MessageAccumulator.create();
    try (StreamResponse<RawMessageStreamEvent> s = client.messages().createStreaming(p)) {
      s.stream().forEach(acc::accumulate);
    }
    return acc.message();
  }

  private static Tool weatherTool() {
    return Tool.builder().name("get_weather").description("Current weather of a city.")
        .inputSchema(Tool.InputSchema.builder().properties(JsonValue.from(Map.of(
            "city", Map.of("type", "string"),
            "unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit")),
            "days", Map.of("type", "integer")))).required(List.of("city")).build())
        .build();
  }

  private static Tool otherTool() {
    return Tool.builder().name("ping_host").inputSchema(Tool.InputSchema.builder().build()).build();
  }
}
