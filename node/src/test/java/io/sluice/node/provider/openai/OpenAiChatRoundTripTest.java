package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import io.sluice.node.inference.chat.Usage;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * decode(encode(x)) == x for neutral values in the form the OpenAI codec keeps (what it cannot
 * carry is listed in OpenAiChatRequestTest and the golden files: a tool result's error flag and
 * name, text before tool results in one turn, cache-write tokens), and encoding is stable:
 * encode(decode(encode(x))) is the same bytes.
 */
class OpenAiChatRoundTripTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Message user(Part... parts) {
    return new Message(Message.Role.USER, List.of(parts));
  }

  private static Message assistant(Part... parts) {
    return new Message(Message.Role.ASSISTANT, List.of(parts));
  }

  static Stream<Arguments> requests() throws Exception {
    Tool weather = new Tool("get_weather", "Weather now.",
        JSON.readTree("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"));
    Tool bare = new Tool("noop", null, null);
    return Stream.of(
        Arguments.of("minimal", new ChatRequest("m", List.of(), List.of(user(new Part.Text("hi"))), List.of(), null,
            -1, null, null, List.of(), false, false)),
        Arguments.of("everything", new ChatRequest("gpt-4o", List.of(new Part.Text("sys one"), new Part.Text("sys two")),
            List.of(
                user(new Part.Text("look"), Part.Image.inline("image/png", "iVBORw0KGgo="),
                    Part.Image.ofUrl("https://example.com/a.png")),
                assistant(new Part.Text("checking"), new Part.ToolCall("call_1", "get_weather", "{\"city\":\"Oslo\"}"),
                    new Part.ToolCall("call_2", "get_weather", "{\"city\":\"Rome\"}")),
                user(new Part.ToolResult("call_1", null, "cold", false), new Part.ToolResult("call_2", null, "warm", false),
                    new Part.Text("so?")),
                assistant(new Part.Text("Rome is "), new Part.Text("warmer.")),
                user(Part.Image.ofUrl("https://example.com/b.png"))),
            List.of(weather, bare), ToolChoice.named("get_weather"), 2048, 0.25, 0.75, List.of("\n\n", "END"), true,
            true)),
        Arguments.of("tool-results-end", new ChatRequest("m", List.of(new Part.Text("s")), List.of(
            user(new Part.Text("roll")), assistant(new Part.ToolCall("c", "roll", "{}")),
            user(new Part.ToolResult("c", null, "6", false))), List.of(bare), ToolChoice.NONE, 0, null, null,
            List.of("x"), false, false)),
        Arguments.of("required", new ChatRequest("m", List.of(), List.of(user(new Part.Text("a"))), List.of(weather),
            ToolChoice.REQUIRED, 5, 0.0, null, List.of(), true, true)),
        Arguments.of("auto", new ChatRequest("m", List.of(), List.of(user(new Part.Text("a"), new Part.Text("b"))),
            List.of(weather), ToolChoice.AUTO, -1, null, 1.0, List.of(), false, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void request_encodeThenDecode_same(String name, ChatRequest r) throws Exception {
    byte[] encoded = OpenAiChatCodec.encodeRequest(r);
    ChatRequest decoded = OpenAiChatCodec.decodeRequest(encoded);
    assertEquals(r, decoded);
    assertArrayEquals(encoded, OpenAiChatCodec.encodeRequest(decoded));
  }

  static Stream<Arguments> responses() {
    return Stream.of(
        Arguments.of("text", new ChatResponse("chatcmpl-1", "gpt-4o", List.of(new Part.Text("Hello.")), FinishReason.STOP,
            new Usage(120, 8, 100, 0))),
        Arguments.of("tools", new ChatResponse("chatcmpl-2", "gpt-4o", List.of(new Part.ToolCall("call_a", "f", "{\"x\":1}"),
            new Part.ToolCall("call_b", "g", "{}")), FinishReason.TOOL_CALLS, Usage.of(50, 20))),
        Arguments.of("text-and-tools", new ChatResponse("chatcmpl-3", "m", List.of(new Part.Text("Sure."),
            new Part.ToolCall("call_c", "f", "{}")), FinishReason.LENGTH, Usage.of(1, 1))),
        Arguments.of("filtered", new ChatResponse("chatcmpl-4", "m", List.of(), FinishReason.CONTENT_FILTER, Usage.of(3, 0))),
        Arguments.of("bare", new ChatResponse("chatcmpl-5", "m", List.of(), FinishReason.STOP, null)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("responses")
  void response_encodeThenDecode_same(String name, ChatResponse r) throws Exception {
    byte[] encoded = ChatResponseCodec.write(r, 1);
    ChatResponse decoded = OpenAiChatCodec.decodeResponse(encoded);
    assertEquals(r, decoded);
    assertArrayEquals(encoded, ChatResponseCodec.write(decoded, 1));
  }

  static Stream<Arguments> streams() {
    return Stream.of(
        Arguments.of("text", List.of(new ChatEvent.Started("chatcmpl-s", "m"), new ChatEvent.TextDelta("a"),
            new ChatEvent.TextDelta("\u00e9\uD83D\uDE00\n"), new ChatEvent.Finished(FinishReason.LENGTH),
            new ChatEvent.UsageReported(new Usage(4, 2, 1, 0)))),
        Arguments.of("tools", List.of(new ChatEvent.Started("chatcmpl-t", "m"), new ChatEvent.TextDelta("x"),
            new ChatEvent.ToolCallStarted(0, "call_0", "f"), new ChatEvent.ToolArgumentsDelta(0, "{\"a\""),
            new ChatEvent.ToolCallStarted(1, "call_1", "g"), new ChatEvent.ToolArgumentsDelta(0, ":1}"),
            new ChatEvent.ToolArgumentsDelta(1, "{}"), new ChatEvent.Finished(FinishReason.TOOL_CALLS),
            new ChatEvent.UsageReported(Usage.of(9, 9)))),
        Arguments.of("failed", List.of(new ChatEvent.Started("chatcmpl-f", "m"), new ChatEvent.TextDelta("x"),
            new ChatEvent.Failed("overloaded_error", "Overloaded"))),
        Arguments.of("no-usage", List.of(new ChatEvent.Started("chatcmpl-n", "m"),
            new ChatEvent.Finished(FinishReason.CONTENT_FILTER))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void stream_encodeThenDecode_same(String name, List<ChatEvent> events) {
    String sse = OpenAiChatStreamTest.encodeAll(new ChatStreamEncoder(true, 1), events);
    List<ChatEvent> decoded = OpenAiChatStreamTest.decodeWhole(sse);
    assertEquals(events, decoded);
    assertEquals(sse, OpenAiChatStreamTest.encodeAll(new ChatStreamEncoder(true, 1), decoded));
  }
}
