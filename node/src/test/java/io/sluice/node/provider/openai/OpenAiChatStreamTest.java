package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class OpenAiChatStreamTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** OpenAI's stream for a short answer with include_usage, as api.openai.com frames it. */
  static final String TEXT_STREAM = """
      data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

      data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hé"},"logprobs":null,"finish_reason":null}],"usage":null}

      data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"llo ✓"},"logprobs":null,"finish_reason":null}],"usage":null}

      data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

      data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}}}

      data: [DONE]

      """;

  static final List<ChatEvent> TEXT_EVENTS = List.of(
      new ChatEvent.Started("chatcmpl-9", "gpt-4o-mini"), new ChatEvent.TextDelta("Hé"),
      new ChatEvent.TextDelta("llo ✓"), new ChatEvent.Finished(FinishReason.STOP),
      new ChatEvent.UsageReported(Usage.of(8, 3)));

  /** Two parallel tool calls, CRLF framed, with a keep-alive comment and an unknown field. */
  static final String TOOL_STREAM = String.join("\r\n",
      ": keep-alive",
      "",
      "data: {\"id\":\"chatcmpl-t\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
          + "\"tool_calls\":[{\"index\":0,\"id\":\"call_A\",\"type\":\"function\",\"function\":{\"name\":\"get\",\"arguments\":\"\"}}]},"
          + "\"finish_reason\":null}]}",
      "",
      "event: message",
      "data: {\"id\":\"chatcmpl-t\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
          + "\"function\":{\"arguments\":\"{\\\"c\\\":\"}}]},\"finish_reason\":null}]}",
      "",
      "data: {\"id\":\"chatcmpl-t\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
          + "\"id\":\"call_B\",\"type\":\"function\",\"function\":{\"name\":\"put\",\"arguments\":\"{}\"}},{\"index\":0,"
          + "\"function\":{\"arguments\":\"1}\"}}]},\"finish_reason\":null}]}",
      "",
      "data: {\"id\":\"chatcmpl-t\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],"
          + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":2}}}",
      "",
      "data: [DONE]",
      "",
      "");

  static final List<ChatEvent> TOOL_EVENTS = List.of(
      new ChatEvent.Started("chatcmpl-t", "m"), new ChatEvent.ToolCallStarted(0, "call_A", "get"),
      new ChatEvent.ToolArgumentsDelta(0, "{\"c\":"), new ChatEvent.ToolCallStarted(1, "call_B", "put"),
      new ChatEvent.ToolArgumentsDelta(1, "{}"), new ChatEvent.ToolArgumentsDelta(0, "1}"),
      new ChatEvent.Finished(FinishReason.TOOL_CALLS), new ChatEvent.UsageReported(new Usage(5, 7, 2, 0)));

  /** Events whose data spans lines, CRLF framed: a line end split across chunks must not end an event. */
  static final String MULTILINE_STREAM = "data: {\"id\":\"chatcmpl-ml\",\r\ndata: \"model\":\"m\",\"choices\":[]}\r\n\r\n"
      + "data: {\"id\":\"chatcmpl-ml\",\"choices\":[{\"index\":0,\"delta\":\r\ndata: {\"content\":\"a\\nb\"},"
      + "\"finish_reason\":\r\ndata:\"stop\"}]}\r\n\r\n";

  static final List<ChatEvent> MULTILINE_EVENTS = List.of(new ChatEvent.Started("chatcmpl-ml", "m"),
      new ChatEvent.TextDelta("a\nb"), new ChatEvent.Finished(FinishReason.STOP));

  static Stream<Arguments> streams() {
    return Stream.of(Arguments.of("text", TEXT_STREAM, TEXT_EVENTS), Arguments.of("tools", TOOL_STREAM, TOOL_EVENTS),
        Arguments.of("multiline", MULTILINE_STREAM, MULTILINE_EVENTS));
  }

  static List<ChatEvent> decodeWhole(String sse) {
    return decodeSplit(ByteString.fromString(sse), new int[0]);
  }

  /** Feeds {@code bytes} cut at {@code cuts} (ascending offsets), then ends the stream. */
  static List<ChatEvent> decodeSplit(ByteString bytes, int[] cuts) {
    StreamDecoder d = OpenAiChatCodec.streamDecoder();
    List<ChatEvent> events = new ArrayList<>();
    int from = 0;
    for (int cut : cuts) {
      events.addAll(d.decode(bytes.slice(from, cut)));
      from = cut;
    }
    events.addAll(d.decode(bytes.slice(from, bytes.length())));
    events.addAll(d.end());
    return events;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamDecoder_wholeStream_events(String name, String sse, List<ChatEvent> expected) {
    assertEquals(expected, decodeWhole(sse));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamDecoder_splitAtEveryOffset_sameEvents(String name, String sse, List<ChatEvent> expected) {
    ByteString bytes = ByteString.fromString(sse);
    for (int cut = 0; cut <= bytes.length(); cut++) {
      assertEquals(expected, decodeSplit(bytes, new int[] {cut}), "cut at " + cut);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamDecoder_byteByByte_sameEvents(String name, String sse, List<ChatEvent> expected) {
    ByteString bytes = ByteString.fromString(sse);
    int[] cuts = new int[bytes.length() - 1];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = i + 1;
    }
    assertEquals(expected, decodeSplit(bytes, cuts));
  }

  @ParameterizedTest
  @ValueSource(strings = {"\n", "\r\n", "\r"})
  void streamDecoder_anyLineEnding_sameEvents(String eol) {
    assertEquals(TEXT_EVENTS, decodeWhole(TEXT_STREAM.replace("\n", eol)));
  }

  /** Found by OpenAiChatCodecFuzzTest: a bare "data" line (no colon) threw out of the decoder. */
  @Test
  void streamDecoder_dataLineWithoutColon_emptyValueJoined() {
    List<ChatEvent> events = decodeWhole("data\ndata: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\ndata\n\n");
    assertEquals(List.of(new ChatEvent.Started("i", "m"), new ChatEvent.TextDelta("x")), events);
  }

  @Test
  void streamDecoder_contentAndFinishInOneChunk_bothInOrder() {
    List<ChatEvent> events = decodeWhole("data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"end\"},\"finish_reason\":\"length\"}]}\n\n");
    assertEquals(List.of(new ChatEvent.Started("i", "m"), new ChatEvent.TextDelta("end"),
        new ChatEvent.Finished(FinishReason.LENGTH)), events);
  }

  @Test
  void streamDecoder_unterminatedLastEvent_deliveredAtEnd() {
    StreamDecoder d = OpenAiChatCodec.streamDecoder();
    assertEquals(List.of(), d.decode(ByteString.fromString("data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[]}")));
    assertEquals(List.of(new ChatEvent.Started("i", "m")), d.end());
  }

  @Test
  void streamDecoder_multiLineData_joinedWithNewline() {
    List<ChatEvent> events = decodeWhole("data: {\"id\":\"i\",\ndata: \"model\":\"m\"}\n\n");
    assertEquals(List.of(new ChatEvent.Started("i", "m")), events);
  }

  @Test
  void streamDecoder_errorPayload_failedAndNothingAfter() {
    List<ChatEvent> events = decodeWhole(TEXT_STREAM.substring(0, TEXT_STREAM.indexOf("data:", 10))
        + "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
        + TEXT_STREAM.substring(TEXT_STREAM.indexOf("data:", 10)));
    assertEquals(List.of(new ChatEvent.Started("chatcmpl-9", "gpt-4o-mini"),
        new ChatEvent.Failed("server_error", "The server had an error")), events);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"error\":\"overloaded\"}|null|overloaded",
      "{\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\",\"code\":400}|BadRequestError|bad",
      "{\"error\":{\"code\":500}}|null|{\"error\":{\"code\":500}}",
      "{not json|invalid_response|The upstream sent an unreadable stream event.",
      "[1]|invalid_response|The upstream sent an unreadable stream event."})
  void streamDecoder_otherErrorShapes_failed(String spec) {
    String[] p = spec.split("\\|");
    assertEquals(List.of(new ChatEvent.Failed(p[1].equals("null") ? null : p[1], p[2])),
        decodeWhole("data: " + p[0] + "\n\n"));
  }

  @Test
  void streamDecoder_emptyDataAndPaddedDone_ignoredAndEnding() {
    assertEquals(List.of(new ChatEvent.Started("i", "m")), decodeWhole("data:\n\ndata: \n\n"
        + "data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[]}\n\ndata: [DONE] \n\ndata: {\"error\":\"late\"}\n\n"));
  }

  @Test
  void streamDecoder_afterDone_ignored() {
    assertEquals(List.of(), decodeWhole("data: [DONE]\n\ndata: {\"id\":\"i\",\"choices\":[]}\n\n"));
  }

  @Test
  void streamDecoder_repeatedIdsAndFinish_startedAndFinishedOnce() {
    String chunk = "data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
        + "\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"x\"}}]},\"finish_reason\":%s}]}\n\n";
    List<ChatEvent> events = decodeWhole(chunk.formatted("null") + chunk.formatted("\"tool_calls\"")
        + chunk.formatted("\"tool_calls\""));
    assertEquals(List.of(new ChatEvent.Started("i", "m"), new ChatEvent.ToolCallStarted(0, "c", "f"),
        new ChatEvent.ToolArgumentsDelta(0, "x"), new ChatEvent.ToolArgumentsDelta(0, "x"),
        new ChatEvent.Finished(FinishReason.TOOL_CALLS), new ChatEvent.ToolArgumentsDelta(0, "x")), events);
  }

  @Test
  void streamDecoder_otherChoicesAndGroqUsage_choiceZeroAndUsage() {
    List<ChatEvent> events = decodeWhole(
        "data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"B\"}},"
            + "{\"index\":0,\"delta\":{\"content\":\"A\"}}]}\n\n"
            + "data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
            + "\"x_groq\":{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}}\n\n");
    assertEquals(List.of(new ChatEvent.Started("i", "m"), new ChatEvent.TextDelta("A"),
        new ChatEvent.Finished(FinishReason.STOP), new ChatEvent.UsageReported(Usage.of(3, 1))), events);
  }

  @Test
  void streamDecoder_toolCallWithoutIdOrIndex_startedWithFreshId() {
    List<ChatEvent> events = decodeWhole("data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
        + "{\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n");
    ChatEvent.ToolCallStarted started = (ChatEvent.ToolCallStarted) events.get(1);
    assertEquals(0, started.index());
    assertEquals("f", started.name());
    assertTrue(started.id().startsWith("call_"), started.id());
    assertEquals(new ChatEvent.ToolArgumentsDelta(0, "{}"), events.get(2));
  }

  @Test
  void streamDecoder_legacyFunctionCallDelta_toolCallZero() {
    List<ChatEvent> events = decodeWhole("data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
        + "{\"function_call\":{\"name\":\"f\",\"arguments\":\"\"}}}]}\n\n"
        + "data: {\"id\":\"i\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
        + "{\"function_call\":{\"arguments\":\"{}\"}},\"finish_reason\":\"function_call\"}]}\n\n");
    assertEquals(4, events.size(), events.toString());
    assertEquals("f", ((ChatEvent.ToolCallStarted) events.get(1)).name());
    assertEquals(new ChatEvent.ToolArgumentsDelta(0, "{}"), events.get(2));
    assertEquals(new ChatEvent.Finished(FinishReason.TOOL_CALLS), events.get(3));
  }

  // The encoder.

  private static List<JsonNode> dataEvents(String sse) throws Exception {
    assertTrue(sse.endsWith("\n\n"), sse);
    List<JsonNode> out = new ArrayList<>();
    for (String event : sse.split("\n\n")) {
      assertTrue(event.startsWith("data: ") && !event.contains("\n"), event);
      String data = event.substring(6);
      out.add(data.equals("[DONE]") ? null : JSON.readTree(data));
    }
    return out;
  }

  static String encodeAll(StreamEncoder e, List<ChatEvent> events) {
    StringBuilder out = new StringBuilder();
    for (ChatEvent event : events) {
      out.append(e.encode(event).utf8String());
    }
    return out.append(e.end().utf8String()).toString();
  }

  @Test
  void streamEncoder_textWithUsage_roleChunkDeltasFinishUsageDone() throws Exception {
    String sse = encodeAll(new ChatStreamEncoder(true, 1_700_000_000L), TEXT_EVENTS);
    List<JsonNode> events = dataEvents(sse);
    assertEquals(6, events.size(), sse);
    String head = "\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\"";
    assertEquals(JSON.readTree("{" + head + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        + "\"logprobs\":null,\"finish_reason\":null}]}"), events.get(0));
    assertEquals(JSON.readTree("{\"content\":\"Hé\"}"), events.get(1).at("/choices/0/delta"));
    assertEquals(JSON.readTree("{" + head + ",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
        + "\"finish_reason\":\"stop\"}]}"), events.get(3));
    assertEquals(JSON.readTree("{" + head + ",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,"
        + "\"total_tokens\":11}}"), events.get(4));
    assertEquals(null, events.get(5));
  }

  @Test
  void streamEncoder_withoutUsage_noUsageChunk() throws Exception {
    List<JsonNode> events = dataEvents(encodeAll(new ChatStreamEncoder(false, 1), TEXT_EVENTS));
    assertEquals(5, events.size());
    assertTrue(events.stream().limit(4).noneMatch(e -> e.has("usage")));
  }

  @Test
  void streamEncoder_usageBeforeAndAfterFinish_lastOneAtEnd() throws Exception {
    StreamEncoder e = new ChatStreamEncoder(true, 1);
    assertEquals("", e.encode(new ChatEvent.UsageReported(Usage.of(5, 0))).utf8String());
    e.encode(new ChatEvent.Started("chatcmpl-1", "m"));
    e.encode(new ChatEvent.TextDelta("x"));
    e.encode(new ChatEvent.Finished(FinishReason.STOP));
    assertEquals("", e.encode(new ChatEvent.UsageReported(new Usage(5, 9, 1, 0))).utf8String());
    List<JsonNode> tail = dataEvents(e.end().utf8String());
    assertEquals(2, tail.size());
    assertEquals(JSON.readTree("{\"prompt_tokens\":5,\"completion_tokens\":9,\"total_tokens\":14,"
        + "\"prompt_tokens_details\":{\"cached_tokens\":1}}"), tail.get(0).get("usage"));
    assertEquals(null, tail.get(1));
  }

  @Test
  void streamEncoder_toolCalls_firstDeltaCarriesIdTypeName() throws Exception {
    List<JsonNode> events = dataEvents(encodeAll(new ChatStreamEncoder(true, 1), TOOL_EVENTS));
    assertEquals(JSON.readTree("{\"tool_calls\":[{\"index\":0,\"id\":\"call_A\",\"type\":\"function\","
        + "\"function\":{\"name\":\"get\",\"arguments\":\"\"}}]}"), events.get(1).at("/choices/0/delta"));
    assertEquals(JSON.readTree("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"c\\\":\"}}]}"),
        events.get(2).at("/choices/0/delta"));
    assertEquals("tool_calls", events.get(6).at("/choices/0/finish_reason").textValue());
  }

  @Test
  void streamEncoder_failed_errorEventThenNothing() throws Exception {
    StreamEncoder e = new ChatStreamEncoder(true, 1);
    e.encode(new ChatEvent.Started("chatcmpl-1", "m"));
    e.encode(new ChatEvent.UsageReported(Usage.of(1, 1)));
    String error = e.encode(new ChatEvent.Failed("overloaded_error", "Overloaded")).utf8String();
    assertEquals("data: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\",\"param\":null,"
        + "\"code\":null}}\n\n", error);
    assertEquals(0, e.encode(new ChatEvent.TextDelta("late")).length());
    assertEquals(0, e.end().length());
  }

  @Test
  void streamEncoder_failedWithoutType_serverError() {
    String error = new ChatStreamEncoder(false, 1).encode(new ChatEvent.Failed(null, "boom")).utf8String();
    assertEquals("data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
        error);
  }

  @Test
  void streamEncoder_deltaBeforeStarted_roleChunkWithFreshId() throws Exception {
    List<JsonNode> events = dataEvents(new ChatStreamEncoder(false, 1).encode(new ChatEvent.TextDelta("x")).utf8String());
    assertEquals(2, events.size());
    assertEquals("assistant", events.get(0).at("/choices/0/delta/role").textValue());
    assertTrue(events.get(0).get("id").textValue().startsWith("chatcmpl-"));
    assertEquals(events.get(0).get("id"), events.get(1).get("id"));
  }

  @Test
  void streamEncoder_nothingButEnd_onlyDone() {
    assertEquals("data: [DONE]\n\n", new ChatStreamEncoder(true, 1).end().utf8String());
  }

  @Test
  void streamEncoder_emptyTextAndSecondFinish_nothing() {
    StreamEncoder e = new ChatStreamEncoder(false, 1);
    e.encode(new ChatEvent.Started("chatcmpl-1", "m"));
    assertEquals(0, e.encode(new ChatEvent.TextDelta("")).length());
    assertTrue(e.encode(new ChatEvent.Finished(FinishReason.STOP)).length() > 0);
    assertEquals(0, e.encode(new ChatEvent.Finished(FinishReason.LENGTH)).length());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamEncoderThenDecoder_events_roundTrip(String name, String sse, List<ChatEvent> events) {
    assertEquals(events, decodeWhole(encodeAll(OpenAiChatCodec.streamEncoder(true), events)));
  }
}
