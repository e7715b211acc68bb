package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class AnthropicStreamEncoderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One rendered SSE event. */
  record Sse(String name, JsonNode data) {}

  /** Parses the encoder's output, checking its framing: {@code event: NAME\ndata: JSON\n\n}. */
  static List<Sse> parse(String stream) throws Exception {
    List<Sse> out = new ArrayList<>();
    if (stream.isEmpty()) {
      return out;
    }
    assertTrue(stream.endsWith("\n\n"), stream);
    for (String event : stream.substring(0, stream.length() - 2).split("\n\n", -1)) {
      String[] lines = event.split("\n", -1);
      assertEquals(2, lines.length, event);
      assertTrue(lines[0].startsWith("event: ") && lines[1].startsWith("data: "), event);
      JsonNode data = JSON.readTree(lines[1].substring(6));
      String name = lines[0].substring(7);
      assertEquals(name, data.path("type").asText(), "event name and data type agree");
      out.add(new Sse(name, data));
    }
    return out;
  }

  static List<Sse> run(StreamEncoder e, ChatEvent... events) throws Exception {
    StringBuilder b = new StringBuilder();
    for (ChatEvent ev : events) {
      b.append(e.encode(ev).utf8String());
    }
    b.append(e.end().utf8String());
    return parse(b.toString());
  }

  static List<Sse> run(ChatEvent... events) throws Exception {
    return run(AnthropicCodec.streamEncoder("claude-alias"), events);
  }

  static List<String> names(List<Sse> events) {
    return events.stream().map(Sse::name).toList();
  }

  /** The stream's grammar: start first, blocks opened and closed in order with rising indexes, delta, stop. */
  static void assertWellFormed(List<Sse> events) {
    assertEquals("message_start", events.get(0).name());
    int open = -1;
    int next = 0;
    for (int i = 1; i < events.size(); i++) {
      Sse e = events.get(i);
      int index = e.data().path("index").asInt(-1);
      switch (e.name()) {
        case "content_block_start" -> {
          assertEquals(-1, open, "a block opens only after the last one closed");
          assertEquals(next++, index);
          open = index;
        }
        case "content_block_delta" -> assertEquals(open, index, "a delta goes to the open block");
        case "content_block_stop" -> {
          assertEquals(open, index);
          open = -1;
        }
        case "message_delta" -> assertEquals(-1, open, "every block closed before message_delta");
        case "message_stop" -> assertEquals(events.size() - 1, i, "message_stop is last");
        case "error" -> assertEquals(events.size() - 1, i, "error is last");
        default -> throw new AssertionError("unexpected event " + e.name());
      }
    }
  }

  @Test
  void encode_textThenToolsThenUsage_wellFormedAndMerged() throws Exception {
    List<Sse> out = run(new ChatEvent.Started("chatcmpl-1", "gpt"), new ChatEvent.TextDelta("a"),
        new ChatEvent.TextDelta("b"), new ChatEvent.ToolCallStarted(0, "call_1", "f"),
        new ChatEvent.ToolArgumentsDelta(0, "{\"x\""), new ChatEvent.ToolArgumentsDelta(0, ":1}"),
        new ChatEvent.ToolCallStarted(1, "call_2", "g"), new ChatEvent.Finished(FinishReason.TOOL_CALLS),
        new ChatEvent.UsageReported(new Usage(50, 7, 20, 5)));
    assertWellFormed(out);
    assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_stop", "message_delta", "message_stop"), names(out));
    JsonNode start = out.get(0).data().path("message");
    assertEquals("chatcmpl-1", start.path("id").asText());
    assertEquals("claude-alias", start.path("model").asText());
    assertEquals(0, start.path("usage").path("input_tokens").asInt(-1), "no usage was known yet");
    assertEquals("tool_use", out.get(5).data().path("content_block").path("type").asText());
    assertEquals("call_1", out.get(5).data().path("content_block").path("id").asText());
    assertEquals("{}", out.get(5).data().path("content_block").path("input").toString());
    assertEquals(":1}", out.get(7).data().path("delta").path("partial_json").asText());
    JsonNode delta = out.get(11).data();
    assertEquals("tool_use", delta.path("delta").path("stop_reason").asText());
    assertEquals(JSON.readTree("{\"input_tokens\":25,\"cache_creation_input_tokens\":5,\"cache_read_input_tokens\":20,"
        + "\"output_tokens\":7}"), delta.path("usage"));
  }

  @Test
  void encode_messageDelta_heldUntilUsage() {
    StreamEncoder e = AnthropicCodec.streamEncoder("m");
    e.encode(new ChatEvent.Started("id", "m"));
    e.encode(new ChatEvent.TextDelta("x"));
    String finished = e.encode(new ChatEvent.Finished(FinishReason.STOP)).utf8String();
    assertTrue(finished.contains("content_block_stop") && !finished.contains("message_delta"), finished);
    String usage = e.encode(new ChatEvent.UsageReported(Usage.of(3, 4))).utf8String();
    assertTrue(usage.startsWith("event: message_delta\n") && usage.contains("\"output_tokens\":4"), usage);
    assertEquals("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", e.end().utf8String());
  }

  @Test
  void encode_noUsageEver_messageDeltaAtEndWithZeros() throws Exception {
    List<Sse> out = run(new ChatEvent.Started("id", "m"), new ChatEvent.TextDelta("x"),
        new ChatEvent.Finished(FinishReason.LENGTH));
    assertWellFormed(out);
    JsonNode delta = out.get(out.size() - 2).data();
    assertEquals("max_tokens", delta.path("delta").path("stop_reason").asText());
    assertEquals(0, delta.path("usage").path("output_tokens").asInt(-1));
  }

  @Test
  void encode_usageBeforeContent_carriedInMessageStart() throws Exception {
    List<Sse> out = run(new ChatEvent.Started("msg_1", "c"), new ChatEvent.UsageReported(new Usage(40, 1, 30, 0)),
        new ChatEvent.TextDelta("x"), new ChatEvent.Finished(FinishReason.STOP),
        new ChatEvent.UsageReported(new Usage(40, 9, 30, 0)));
    JsonNode u = out.get(0).data().path("message").path("usage");
    assertEquals(10, u.path("input_tokens").asInt());
    assertEquals(30, u.path("cache_read_input_tokens").asInt());
    assertEquals(0, u.path("output_tokens").asInt());
    assertEquals(9, out.get(out.size() - 2).data().path("usage").path("output_tokens").asInt());
  }

  @Test
  void encode_usageAfterMessageDelta_notSentAgain() throws Exception {
    List<Sse> out = run(new ChatEvent.Started("msg_1", "c"), new ChatEvent.Finished(FinishReason.STOP),
        new ChatEvent.UsageReported(Usage.of(1, 2)), new ChatEvent.UsageReported(Usage.of(1, 3)),
        new ChatEvent.TextDelta("late"));
    assertEquals(List.of("message_start", "message_delta", "message_stop"), names(out));
  }

  @Test
  void encode_noStarted_synthesisedBeforeFirstBlock() throws Exception {
    List<Sse> out = run(AnthropicCodec.streamEncoder(null), new ChatEvent.ToolCallStarted(0, null, "f"),
        new ChatEvent.ToolArgumentsDelta(0, "{}"));
    assertWellFormed(out);
    JsonNode m = out.get(0).data().path("message");
    assertTrue(m.path("id").asText().matches("msg_[0-9A-Za-z]{24}"));
    assertEquals("", m.path("model").asText());
    assertTrue(out.get(1).data().path("content_block").path("id").asText().startsWith("toolu_"));
    assertEquals("end_turn", out.get(out.size() - 2).data().path("delta").path("stop_reason").asText());
  }

  @Test
  void encode_nullModel_takesTheUpstreams() throws Exception {
    List<Sse> out = run(AnthropicCodec.streamEncoder(null), new ChatEvent.Started("i", "upstream-model"));
    assertEquals("upstream-model", out.get(0).data().path("message").path("model").asText());
  }

  @Test
  void encode_emptyStream_stillStartsAndStops() throws Exception {
    List<Sse> out = run();
    assertWellFormed(out);
    assertEquals(List.of("message_start", "message_delta", "message_stop"), names(out));
  }

  @Test
  void encode_failedMidStream_errorEventLastAndNothingAfter() throws Exception {
    StreamEncoder e = AnthropicCodec.streamEncoder("m");
    StringBuilder b = new StringBuilder();
    b.append(e.encode(new ChatEvent.Started("i", "m")).utf8String());
    b.append(e.encode(new ChatEvent.TextDelta("partial")).utf8String());
    b.append(e.encode(new ChatEvent.Failed("overloaded_error", "Overloaded")).utf8String());
    assertEquals(ByteString.emptyByteString(), e.encode(new ChatEvent.TextDelta("more")));
    assertEquals(ByteString.emptyByteString(), e.end());
    List<Sse> out = parse(b.toString());
    assertWellFormed(out);
    assertEquals(JSON.readTree("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"),
        out.get(out.size() - 1).data());
  }

  @Test
  void encode_failedWithoutType_isApiError() throws Exception {
    List<Sse> out = parse(AnthropicCodec.streamEncoder("m").encode(new ChatEvent.Failed(null, null)).utf8String());
    assertEquals(List.of("error"), names(out));
    assertEquals("api_error", out.get(0).data().path("error").path("type").asText());
  }

  @Test
  void encode_textAfterTool_opensNewTextBlock() throws Exception {
    List<Sse> out = run(new ChatEvent.TextDelta("a"), new ChatEvent.ToolCallStarted(0, "c", "f"),
        new ChatEvent.TextDelta("b"), new ChatEvent.TextDelta(""), new ChatEvent.ToolArgumentsDelta(0, ""));
    assertWellFormed(out);
    assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop"), names(out));
  }

  @Test
  void encode_argumentsForUnannouncedCall_opensToolBlock() throws Exception {
    List<Sse> out = run(new ChatEvent.ToolArgumentsDelta(3, "{\"a\":1}"));
    assertWellFormed(out);
    assertEquals("tool_use", out.get(1).data().path("content_block").path("type").asText());
    assertEquals("{\"a\":1}", out.get(2).data().path("delta").path("partial_json").asText());
  }

  @Test
  void end_calledTwice_sendsNothingTheSecondTime() {
    StreamEncoder e = AnthropicCodec.streamEncoder("m");
    assertTrue(e.end().utf8String().endsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    assertEquals(ByteString.emptyByteString(), e.end());
  }

  @Test
  void encode_decodedAnthropicStream_reencodesToSameEvents() throws Exception {
    // Anthropic → neutral → Anthropic → neutral loses nothing the neutral model carries.
    StreamEncoder e = AnthropicCodec.streamEncoder("claude-x");
    StringBuilder b = new StringBuilder();
    for (ChatEvent ev : AnthropicStreamDecoderTest.EXPECTED) {
      b.append(e.encode(ev).utf8String());
    }
    b.append(e.end().utf8String());
    List<ChatEvent> again = AnthropicStreamDecoderTest.decode(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    List<ChatEvent> expected = new ArrayList<>(AnthropicStreamDecoderTest.EXPECTED);
    // message_start carries no output tokens of its own
    expected.set(1, new ChatEvent.UsageReported(new Usage(42, 0, 30, 2)));
    assertEquals(expected, again);
  }
}
