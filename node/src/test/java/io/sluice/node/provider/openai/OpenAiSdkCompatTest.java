package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.openai.core.ObjectMappers;
import com.openai.core.handlers.SseHandler;
import com.openai.core.http.Headers;
import com.openai.core.http.HttpResponse;
import com.openai.core.http.SseMessage;
import com.openai.core.http.StreamResponse;
import com.openai.errors.SseException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The official OpenAI Java SDK (its model classes and its own SSE reader, no network) parses what
 * OpenAiChatCodec renders, validates it strictly, and sees the same content, tool calls, finish
 * reason and usage as the neutral values that went in.
 */
class OpenAiSdkCompatTest {
  private static final JsonMapper SDK = ObjectMappers.jsonMapper();

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.node.provider.openai.OpenAiChatRoundTripTest#responses")
  void encodeResponse_sdkParsesAndValidates_sameContent(String name, ChatResponse r) throws Exception {
    ChatCompletion c = SDK.readValue(OpenAiChatCodec.encodeResponse(r), ChatCompletion.class).validate();
    assertEquals(r.id(), c.id());
    assertEquals(r.model(), c.model());
    ChatCompletion.Choice choice = c.choices().get(0);
    assertEquals(text(r.content()), choice.message().content().orElse(null));
    assertEquals(calls(r.content()), choice.message().toolCalls().orElse(List.of()).stream()
        .map(ChatCompletionMessageToolCall::asFunction)
        .map(f -> f.id() + " " + f.function().name() + " " + f.function().arguments()).toList());
    assertEquals(ChatWire.finishReason(r.finishReason()), choice.finishReason().asString());
    assertEquals(r.usage() == null, c.usage().isEmpty());
    c.usage().ifPresent(u -> {
      assertEquals(r.usage().promptTokens(), u.promptTokens());
      assertEquals(r.usage().completionTokens(), u.completionTokens());
      assertEquals(r.usage().promptTokens() + r.usage().completionTokens(), u.totalTokens());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.node.provider.openai.OpenAiChatRoundTripTest#streams")
  void streamEncoder_sdkReadsEveryChunk_sameContent(String name, List<ChatEvent> events) {
    String sse = OpenAiChatStreamTest.encodeAll(OpenAiChatCodec.streamEncoder(true), events);
    ChatEvent.Failed failed = events.stream().filter(e -> e instanceof ChatEvent.Failed)
        .map(e -> (ChatEvent.Failed) e).findFirst().orElse(null);
    if (failed != null) {
      SseException e = assertThrows(SseException.class, () -> sdkChunks(sse));
      assertTrue(e.getMessage().contains(failed.message()), e.getMessage());
      return;
    }
    ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
    List<ChatCompletionChunk> chunks = sdkChunks(sse);
    chunks.forEach(accumulator::accumulate);
    ChatCompletion c = accumulator.chatCompletion().validate();
    ChatCompletion.Choice choice = c.choices().get(0);
    String text = events.stream().filter(e -> e instanceof ChatEvent.TextDelta)
        .map(e -> ((ChatEvent.TextDelta) e).text()).collect(Collectors.joining());
    assertEquals(text, choice.message().content().orElse(""));
    List<String> calls = new ArrayList<>();
    for (ChatEvent e : events) {
      if (e instanceof ChatEvent.ToolCallStarted s) {
        calls.add(s.id() + " " + s.name() + " ");
      } else if (e instanceof ChatEvent.ToolArgumentsDelta d) {
        calls.set(d.index(), calls.get(d.index()) + d.fragment());
      }
    }
    assertEquals(calls, choice.message().toolCalls().orElse(List.of()).stream()
        .map(ChatCompletionMessageToolCall::asFunction)
        .map(f -> f.id() + " " + f.function().name() + " " + f.function().arguments()).toList());
    FinishReason finish = events.stream().filter(e -> e instanceof ChatEvent.Finished)
        .map(e -> ((ChatEvent.Finished) e).reason()).findFirst().orElseThrow();
    assertEquals(ChatWire.finishReason(finish), choice.finishReason().asString());
    Usage usage = events.stream().filter(e -> e instanceof ChatEvent.UsageReported)
        .map(e -> ((ChatEvent.UsageReported) e).usage()).reduce((a, b) -> b).orElse(null);
    assertEquals(usage == null, c.usage().isEmpty());
    c.usage().ifPresent(u -> assertEquals(usage.promptTokens() + usage.completionTokens(), u.totalTokens()));
  }

  static Stream<Path> goldenResponses() throws IOException {
    return golden(".out.json").filter(p -> p.getParent().getFileName().toString().endsWith("response"));
  }

  static Stream<Path> goldenStreams() throws IOException {
    return golden(".out.sse");
  }

  private static Stream<Path> golden(String suffix) throws IOException {
    try (Stream<Path> files = Files.walk(Path.of("src/test/resources/golden/openai"))) {
      List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
      assertTrue(!found.isEmpty());
      return found.stream();
    }
  }

  /** Every chat.completion in the golden files, as the SDK reads it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("goldenResponses")
  void goldenResponse_sdkParsesAndValidates(Path file) throws Exception {
    ChatCompletion c = SDK.readValue(Files.readAllBytes(file), ChatCompletion.class).validate();
    assertEquals(1, c.choices().size());
  }

  /** Every rendered stream in the golden files, through the SDK's reader and accumulator. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("goldenStreams")
  void goldenStream_sdkReadsAndAccumulates(Path file) throws Exception {
    String sse = Files.readString(file, StandardCharsets.UTF_8);
    if (sse.contains("data: {\"error\"")) {
      assertThrows(SseException.class, () -> sdkChunks(sse));
      return;
    }
    ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
    sdkChunks(sse).forEach(accumulator::accumulate);
    ChatCompletion c = accumulator.chatCompletion().validate();
    assertTrue(c.usage().isPresent(), "the golden streams are rendered with usage");
  }

  @Test
  void streamEncoder_withoutUsage_sdkSeesNoUsage() {
    StreamEncoder e = OpenAiChatCodec.streamEncoder(false);
    String sse = OpenAiChatStreamTest.encodeAll(e, OpenAiChatStreamTest.TEXT_EVENTS);
    ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
    sdkChunks(sse).forEach(accumulator::accumulate);
    ChatCompletion c = accumulator.chatCompletion().validate();
    assertTrue(c.usage().isEmpty());
    assertEquals("Héllo ✓", c.choices().get(0).message().content().orElseThrow());
  }

  @Test
  void encodeResponse_noFinishReason_sdkSeesStop() throws Exception {
    ChatCompletion c = SDK.readValue(OpenAiChatCodec.encodeResponse(new ChatResponse("chatcmpl-1", "m",
        List.of(new Part.Text("x")), null, null)), ChatCompletion.class).validate();
    assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
  }

  @Test
  void encodeResponse_onlyToolCalls_sdkSeesNoContent() throws Exception {
    ChatCompletion c = SDK.readValue(OpenAiChatCodec.encodeResponse(new ChatResponse("msg_1", "claude",
        List.of(new Part.ToolCall("toolu_1", "f", "{}")), FinishReason.TOOL_CALLS, Usage.of(1, 1))),
        ChatCompletion.class).validate();
    assertTrue(c.choices().get(0).message().content().isEmpty());
    assertEquals("chatcmpl-msg_1", c.id());
  }

  /** The chunks as the SDK's own SSE reader yields them, each validated. */
  private static List<ChatCompletionChunk> sdkChunks(String sse) {
    HttpResponse response = new HttpResponse() {
      private final InputStream body = new ByteArrayInputStream(sse.getBytes(StandardCharsets.UTF_8));

      @Override
      public int statusCode() {
        return 200;
      }

      @Override
      public Headers headers() {
        return Headers.builder().build();
      }

      @Override
      public InputStream body() {
        return body;
      }

      @Override
      public void close() {}
    };
    try (StreamResponse<SseMessage> messages = sdkSseReader().handle(response)) {
      return messages.stream().map(m -> {
        try {
          return SDK.readValue(m.getData(), ChatCompletionChunk.class).validate();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).toList();
    }
  }

  /**
   * The SDK's own SSE reader (the one its streaming client uses: [DONE] ends the stream, an
   * {"error":...} event raises SseException). It is Kotlin-internal, so synthetic to javac, hence
   * reflection; the SDK version is pinned in node/pom.xml.
   */
  @SuppressWarnings("unchecked")
  private static HttpResponse.Handler<StreamResponse<SseMessage>> sdkSseReader() {
    try {
      return (HttpResponse.Handler<StreamResponse<SseMessage>>)
          SseHandler.class.getMethod("sseHandler", JsonMapper.class).invoke(null, SDK);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("openai-java's SseHandler.sseHandler moved", e);
    }
  }

  private static String text(List<Part> parts) {
    String text = parts.stream().filter(p -> p instanceof Part.Text).map(p -> ((Part.Text) p).text())
        .collect(Collectors.joining());
    return parts.stream().anyMatch(p -> p instanceof Part.Text) ? text : null;
  }

  private static List<String> calls(List<Part> parts) {
    return parts.stream().filter(p -> p instanceof Part.ToolCall).map(p -> (Part.ToolCall) p)
        .map(c -> c.id() + " " + c.name() + " " + c.arguments()).toList();
  }
}
