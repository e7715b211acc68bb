package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AnthropicStreamDecoderTest {
  static final String STREAM = String.join("",
      "event: message_start\n",
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",",
      "\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"usage\":{\"input_tokens\":10,",
      "\"cache_creation_input_tokens\":2,\"cache_read_input_tokens\":30,\"output_tokens\":1}}}\n\n",
      "event: ping\ndata: {\"type\": \"ping\"}\n\n",
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,",
      "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,",
      "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,",
      "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig\"}}\n\n",
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,",
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,",
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Grüße 🌍\"}}\n\n",
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,",
      "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_a\",\"name\":\"f\",\"input\":{}}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,",
      "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,",
      "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,",
      "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n",
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":3,",
      "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_b\",\"name\":\"g\",\"input\":{}}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,",
      "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":3}\n\n",
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",",
      "\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n",
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");

  static final List<ChatEvent> EXPECTED = List.of(
      new ChatEvent.Started("msg_1", "claude-x"),
      new ChatEvent.UsageReported(new Usage(42, 1, 30, 2)),
      new ChatEvent.TextDelta("Grüße 🌍"),
      new ChatEvent.ToolCallStarted(0, "toolu_a", "f"),
      new ChatEvent.ToolArgumentsDelta(0, "{\"a\":"),
      new ChatEvent.ToolArgumentsDelta(0, "1}"),
      new ChatEvent.ToolCallStarted(1, "toolu_b", "g"),
      new ChatEvent.ToolArgumentsDelta(1, "{}"),
      new ChatEvent.Finished(FinishReason.TOOL_CALLS),
      new ChatEvent.UsageReported(new Usage(42, 42, 30, 2)));

  static List<ChatEvent> decode(byte[] body, int... cuts) {
    StreamDecoder d = AnthropicCodec.streamDecoder();
    List<ChatEvent> out = new ArrayList<>();
    int from = 0;
    for (int cut : cuts) {
      out.addAll(d.decode(ByteString.fromArray(body, from, cut - from)));
      from = cut;
    }
    out.addAll(d.decode(ByteString.fromArray(body, from, body.length - from)));
    out.addAll(d.end());
    return out;
  }

  @Test
  void decode_wholeStream_yieldsEvents() {
    assertEquals(EXPECTED, decode(STREAM.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void decode_splitAtEveryByteOffset_yieldsSameEvents() {
    byte[] body = STREAM.getBytes(StandardCharsets.UTF_8);
    for (int cut = 0; cut <= body.length; cut++) {
      assertEquals(EXPECTED, decode(body, cut), "split at " + cut);
    }
  }

  @Test
  void decode_crlfSplitAtEveryByteOffset_yieldsSameEvents() {
    byte[] body = STREAM.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
    for (int cut = 0; cut <= body.length; cut++) {
      assertEquals(EXPECTED, decode(body, cut), "split at " + cut);
    }
  }

  @Test
  void decode_eventsOnlyCompleteAtTheBlankLine() {
    StreamDecoder d = AnthropicCodec.streamDecoder();
    assertTrue(d.decode(ByteString.fromString("event: content_block_start\ndata: {\"type\":\"content_block_start\","
        + "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"Hi\"}}\n")).isEmpty());
    assertEquals(List.of(new ChatEvent.TextDelta("Hi")), d.decode(ByteString.fromString("\n")));
  }

  @Test
  void decode_unterminatedLastEvent_deliveredAtEnd() {
    StreamDecoder d = AnthropicCodec.streamDecoder();
    assertTrue(d.decode(ByteString.fromString("event: message_delta\ndata: {\"type\":\"message_delta\","
        + "\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":3}}")).isEmpty());
    assertEquals(List.of(new ChatEvent.Finished(FinishReason.LENGTH), new ChatEvent.UsageReported(Usage.of(0, 3))),
        d.end());
  }

  @Test
  void decode_unknownEventsAndBlocks_ignored() {
    String s = "event: future_event\ndata: {\"type\":\"future_event\",\"x\":1}\n\n"
        + ": comment\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
        + "{\"type\":\"server_tool_use\",\"id\":\"s\",\"name\":\"web_search\",\"input\":{}}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        + "{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        + "{\"type\":\"future_delta\",\"x\":\"y\"}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    assertEquals(List.of(), decode(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void decode_errorMidStream_failsAndIgnoresTheRest() {
    String s = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        + "{\"type\":\"text_delta\",\"text\":\"a\"}}\n\n"
        + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
        + "\"Overloaded, key sk-ant-api03-secretsecret\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        + "{\"type\":\"text_delta\",\"text\":\"b\"}}\n\n";
    assertEquals(List.of(new ChatEvent.TextDelta("a"),
        new ChatEvent.Failed("overloaded_error", "Overloaded, key sk-ant-***")), decode(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void decode_dataNotJson_fails() {
    List<ChatEvent> events = decode("event: content_block_delta\ndata: {not json\n\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(1, events.size());
    assertTrue(events.get(0) instanceof ChatEvent.Failed);
  }

  @Test
  void decode_dataWithoutEventLine_readsTypeFromData() {
    String s = "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n";
    assertEquals(List.of(new ChatEvent.TextDelta("x")), decode(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void decode_fieldsWithoutSpaceAfterColon_read() {
    String s = "event:content_block_delta\ndata:{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        + "{\"type\":\"text_delta\",\"text\":\" x\"}}\n\n";
    assertEquals(List.of(new ChatEvent.TextDelta(" x")), decode(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void decode_messageDeltaWithInputFields_replacesStartUsage() {
    String s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\","
        + "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
        + "\"usage\":{\"input_tokens\":8,\"cache_read_input_tokens\":4,\"output_tokens\":9}}\n\n";
    List<ChatEvent> events = decode(s.getBytes(StandardCharsets.UTF_8));
    assertEquals(new ChatEvent.UsageReported(new Usage(12, 9, 4, 0)), events.get(events.size() - 1));
  }

  @ParameterizedTest
  @ValueSource(strings = {"end_turn", "stop_sequence", "pause_turn", "refusal", "max_tokens"})
  void decode_messageDeltaStopReason_mapped(String stop) {
    String s = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stop
        + "\"},\"usage\":{\"output_tokens\":1}}\n\n";
    assertEquals(new ChatEvent.Finished(AnthropicCodec.finishReason(stop)),
        decode(s.getBytes(StandardCharsets.UTF_8)).get(0));
  }

  @Test
  void decode_textBlockStartWithText_emitsIt() {
    String s = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        + "\"content_block\":{\"type\":\"text\",\"text\":\"pre\"}}\n\n";
    assertEquals(List.of(new ChatEvent.TextDelta("pre")), decode(s.getBytes(StandardCharsets.UTF_8)));
  }
}
