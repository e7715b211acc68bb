package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.core.ObjectMappers;
import com.anthropic.core.http.Headers;
import com.anthropic.core.http.HttpResponse;
import com.anthropic.core.http.SseMessage;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.core.handlers.SseHandler;
import com.anthropic.errors.AnthropicException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The official Java SDK (com.anthropic:anthropic-java-core) reads what the codec writes, with its
 * own JSON mapper, model classes, SSE handler and stream accumulator, and no network: a response
 * body is read as the SDK's {@link Message} and validated; a stream is fed to the SDK's SSE
 * handler as an HTTP response body, each event read as a {@link RawMessageStreamEvent} and
 * accumulated into the message the SDK would hand an application.
 */
class AnthropicSdkCompatibilityTest {
  private static final JsonMapper SDK_JSON = ObjectMappers.jsonMapper();

  /** An HTTP 200 whose body is {@code body}, as the SDK's client would hand it to a handler. */
  private static HttpResponse response(byte[] body) {
    return new HttpResponse() {
      private final InputStream in = new ByteArrayInputStream(body);

      @Override
      public int statusCode() {
        return 200;
      }

      @Override
      public Headers headers() {
        return Headers.builder().put("content-type", "text/event-stream").build();
      }

      @Override
      public InputStream body() {
        return in;
      }

      @Override
      public void close() {}
    };
  }

  /**
   * The SDK's own SSE handler, the one its client runs on a streamed response: it frames events,
   * skips {@code ping}, and raises an {@code error} event as an exception. Kotlin marks it
   * synthetic (internal to the SDK), so javac cannot name it; reflection can.
   */
  @SuppressWarnings("unchecked")
  private static HttpResponse.Handler<StreamResponse<SseMessage>> sseHandler() throws Exception {
    return (HttpResponse.Handler<StreamResponse<SseMessage>>) SseHandler.class
        .getMethod("sseHandler", JsonMapper.class).invoke(null, SDK_JSON);
  }

  /** The stream through the SDK's SSE handler and accumulator. */
  private static Message accumulate(byte[] sse) throws Exception {
    MessageAccumulator acc = MessageAccumulator.create();
    try (StreamResponse<SseMessage> events = sseHandler().handle(response(sse))) {
      for (SseMessage m : (Iterable<SseMessage>) events.stream()::iterator) {
        RawMessageStreamEvent e = SDK_JSON.readValue(m.getData(), RawMessageStreamEvent.class);
        e.validate();
        acc.accumulate(e);
      }
    }
    return acc.message();
  }

  private static byte[] encode(ChatEvent... events) {
    StreamEncoder e = AnthropicCodec.streamEncoder("claude-alias");
    StringBuilder b = new StringBuilder();
    for (ChatEvent ev : events) {
      b.append(e.encode(ev).utf8String());
    }
    return b.append(e.end().utf8String()).toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void encodeResponse_textAndToolUse_parsedAndValidatedBySdk() throws Exception {
    byte[] body = AnthropicCodec.encodeResponse(new ChatResponse("chatcmpl-1", "gpt-4o", List.of(
        new Part.Text("Let me look."), new Part.ToolCall("call_1", "get_weather", "{\"city\":\"Paris\",\"days\":2}")),
        FinishReason.TOOL_CALLS, new Usage(120, 30, 100, 0)));
    Message m = SDK_JSON.readValue(body, Message.class).validate();
    assertEquals("chatcmpl-1", m.id());
    assertEquals("gpt-4o", m.model().asString());
    assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
    assertEquals("Let me look.", m.content().get(0).asText().text());
    ContentBlock tool = m.content().get(1);
    assertTrue(tool.isToolUse());
    assertEquals("get_weather", tool.asToolUse().name());
    assertEquals(Map.of("city", "Paris", "days", 2), tool.asToolUse()._input().convert(Map.class));
    assertEquals(20, m.usage().inputTokens());
    assertEquals(100, m.usage().cacheReadInputTokens().orElseThrow());
    assertEquals(30, m.usage().outputTokens());
  }

  @ParameterizedTest
  @EnumSource(FinishReason.class)
  void encodeResponse_everyFinishReason_isAStopReasonTheSdkKnows(FinishReason reason) throws Exception {
    byte[] body = AnthropicCodec.encodeResponse(new ChatResponse(null, "m", List.of(new Part.Text("x")), reason,
        Usage.of(1, 1)));
    Message m = SDK_JSON.readValue(body, Message.class).validate();
    assertTrue(m.stopReason().orElseThrow().isValid(), "known to the SDK: " + m.stopReason());
  }

  @Test
  void streamEncoder_textAndTools_accumulatedBySdk() throws Exception {
    Message m = accumulate(encode(new ChatEvent.Started("chatcmpl-2", "gpt-4o"), new ChatEvent.TextDelta("Hel"),
        new ChatEvent.TextDelta("lo 🌍"), new ChatEvent.ToolCallStarted(0, "call_a", "f"),
        new ChatEvent.ToolArgumentsDelta(0, "{\"x\":"), new ChatEvent.ToolArgumentsDelta(0, "[1,2]}"),
        new ChatEvent.ToolCallStarted(1, "call_b", "g"), new ChatEvent.ToolArgumentsDelta(1, "{}"),
        new ChatEvent.Finished(FinishReason.TOOL_CALLS), new ChatEvent.UsageReported(new Usage(40, 12, 30, 0))));
    m.validate();
    assertEquals("chatcmpl-2", m.id());
    assertEquals("claude-alias", m.model().asString());
    assertEquals(3, m.content().size());
    assertEquals("Hello 🌍", m.content().get(0).asText().text());
    assertEquals("f", m.content().get(1).asToolUse().name());
    assertEquals(Map.of("x", List.of(1, 2)), m.content().get(1).asToolUse()._input().convert(Map.class));
    assertEquals(Map.of(), m.content().get(2).asToolUse()._input().convert(Map.class));
    assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
    assertEquals(12, m.usage().outputTokens());
  }

  @Test
  void streamEncoder_decodedAnthropicStream_accumulatedBySdk() throws Exception {
    StreamEncoder e = AnthropicCodec.streamEncoder("claude-x");
    StringBuilder b = new StringBuilder();
    for (ChatEvent ev : AnthropicStreamDecoderTest.EXPECTED) {
      b.append(e.encode(ev).utf8String());
    }
    Message m = accumulate(b.append(e.end().utf8String()).toString().getBytes(StandardCharsets.UTF_8));
    m.validate();
    assertEquals(List.of("Grüße 🌍"), m.content().stream().filter(ContentBlock::isText)
        .map(c -> c.asText().text()).toList());
    assertEquals(42, m.usage().outputTokens());
  }

  @Test
  void streamEncoder_noStartAndLength_accumulatedBySdk() throws Exception {
    Message m = accumulate(encode(new ChatEvent.TextDelta("Once"), new ChatEvent.Finished(FinishReason.LENGTH)));
    m.validate();
    assertTrue(m.id().startsWith("msg_"));
    assertEquals(StopReason.MAX_TOKENS, m.stopReason().orElseThrow());
  }

  @Test
  void streamEncoder_failed_sdkRaisesTheError() {
    byte[] sse = encode(new ChatEvent.Started("i", "m"), new ChatEvent.TextDelta("part"),
        new ChatEvent.Failed("overloaded_error", "Overloaded"));
    AnthropicException e = assertThrows(AnthropicException.class, () -> accumulate(sse));
    assertTrue(String.valueOf(e.getMessage()).contains("Overloaded") || e.toString().contains("overloaded"),
        e.toString());
  }

  @Test
  void goldenClientStreams_allAccumulatedBySdk() throws Exception {
    List<String> checked = new ArrayList<>();
    java.nio.file.Path dir = java.nio.file.Path.of(System.getProperty("basedir", "."))
        .resolve("src/test/resources/golden/anthropic");
    try (var files = java.nio.file.Files.walk(dir)) {
      for (java.nio.file.Path p : files.filter(f -> f.toString().endsWith(".client.sse")).sorted().toList()) {
        byte[] sse = java.nio.file.Files.readAllBytes(p);
        if (new String(sse, StandardCharsets.UTF_8).contains("event: error")) {
          assertThrows(AnthropicException.class, () -> accumulate(sse), p.toString());
        } else {
          accumulate(sse).validate();
        }
        checked.add(p.getFileName().toString());
      }
    }
    assertTrue(checked.size() >= 5, "golden streams found: " + checked);
  }

  @Test
  void goldenClientResponses_allValidatedBySdk() throws Exception {
    java.nio.file.Path dir = java.nio.file.Path.of(System.getProperty("basedir", "."))
        .resolve("src/test/resources/golden/anthropic/responses");
    int n = 0;
    try (var files = java.nio.file.Files.list(dir)) {
      for (java.nio.file.Path p : files.filter(f -> f.toString().endsWith(".client.json")).toList()) {
        SDK_JSON.readValue(java.nio.file.Files.readAllBytes(p), Message.class).validate();
        n++;
      }
    }
    assertTrue(n >= 3, "golden responses found: " + n);
  }
}
