package io.sluice.node.surface.responses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.ToolChoice;
import io.sluice.node.inference.chat.Usage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Responses surface's scan, translation to the neutral model, and rendering of answers and streams. */
class ResponsesSurfaceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ResponsesSurface surface = new ResponsesSurface(null, () -> text -> text.length());

  private ClientBody scan(String body) {
    return surface.scan(body.getBytes(StandardCharsets.UTF_8), null);
  }

  @Test
  void scan_fields_modelStreamLimitAndProtocol() {
    ClientBody b = scan("{\"model\":\"m\",\"input\":\"hi\",\"stream\":true,\"max_output_tokens\":64}");
    assertEquals(Protocol.OPENAI_RESPONSES, b.protocol());
    assertEquals("m", b.model());
    assertTrue(b.stream());
    assertTrue(b.includeUsage());
    assertEquals(64, b.maxTokens());
    assertEquals("{\"model\":\"up\",\"input\":\"hi\",\"stream\":true,\"max_output_tokens\":64}",
        new String(b.passthrough("up"), StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"input\":\"hi\"}", "{\"model\":1}", "[]", "{\"model\":\"m\",\"model\":\"n\"}",
      "{\"model\":\"m\",\"stream\":\"yes\"}", "{\"model\":\"m\",\"max_output_tokens\":0}"})
  void scan_malformed_refused400(String body) {
    Refusal.Refused r = assertThrows(Refusal.Refused.class, () -> scan(body));
    assertEquals(400, r.refusal().status());
  }

  @Test
  void chat_stringInputAndInstructions_oneUserTurnAndSystemText() throws InvalidChat {
    ChatRequest c = scan("{\"model\":\"m\",\"instructions\":\"Be terse.\",\"input\":\"hi\",\"temperature\":0.5,"
        + "\"top_p\":0.9,\"max_output_tokens\":32}").chat();
    assertEquals(List.of(new Part.Text("Be terse.")), c.system());
    assertEquals(List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))), c.messages());
    assertEquals(0.5, c.temperature());
    assertEquals(0.9, c.topP());
    assertEquals(32, c.maxTokens());
  }

  @Test
  void chat_items_callAndOutputJoinTheirTurnsAndDeveloperTextIsSystem() throws InvalidChat {
    ChatRequest c = scan("""
        {"model":"m","input":[
          {"role":"developer","content":"Use tools."},
          {"type":"message","role":"user","content":[{"type":"input_text","text":"Weather?"},
             {"type":"input_image","image_url":"data:image/png;base64,iVBO"}]},
          {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
          {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"},
          {"type":"reasoning","id":"rs_1","summary":[]},
          {"type":"function_call_output","call_id":"call_1","output":"sunny"},
          {"role":"user","content":"Thanks"}],
         "tools":[{"type":"function","name":"get_weather","description":"d","parameters":{"type":"object"}}],
         "tool_choice":{"type":"function","name":"get_weather"}}
        """).chat();
    assertEquals(List.of(new Part.Text("Use tools.")), c.system());
    assertEquals(3, c.messages().size());
    assertEquals(List.of(new Part.Text("Weather?"), Part.Image.inline("image/png", "iVBO")),
        c.messages().get(0).content());
    assertEquals(List.of(new Part.Text("Checking."), new Part.ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}")),
        c.messages().get(1).content());
    assertEquals(List.of(new Part.ToolResult("call_1", "get_weather", "sunny", false), new Part.Text("Thanks")),
        c.messages().get(2).content());
    assertEquals("get_weather", c.tools().get(0).name());
    assertEquals(ToolChoice.named("get_weather"), c.toolChoice());
  }

  @ParameterizedTest
  @ValueSource(strings = {"previous_response_id\":\"resp_1", "conversation\":\"conv_1"})
  void chat_statefulFeature_refusedNamingTheField(String field) {
    ClientBody b = scan("{\"model\":\"m\",\"input\":\"hi\",\"" + field + "\"}");
    InvalidChat e = assertThrows(InvalidChat.class, b::chat);
    String name = field.substring(0, field.indexOf('"'));
    assertEquals(name, e.param());
    assertTrue(e.getMessage().contains("only OpenAI's Responses API"), e.getMessage());
  }

  @Test
  void chat_storeTrueOrBackground_refusedButStoreFalseServed() throws InvalidChat {
    assertEquals("store", assertThrows(InvalidChat.class,
        () -> scan("{\"model\":\"m\",\"input\":\"hi\",\"store\":true}").chat()).param());
    assertEquals("background", assertThrows(InvalidChat.class,
        () -> scan("{\"model\":\"m\",\"input\":\"hi\",\"background\":true}").chat()).param());
    assertEquals(1, scan("{\"model\":\"m\",\"input\":\"hi\",\"store\":false}").chat().messages().size());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "\"input\":\"hi\",\"tools\":[{\"type\":\"web_search\"}]",
      "\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_1\"}]",
      "\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\",\"file_id\":\"f\"}]}]",
      "\"input\":\"hi\",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\",\"schema\":{}}}",
      "\"input\":\"hi\",\"tool_choice\":{\"type\":\"allowed_tools\"}",
      "\"input\":[]"})
  void chat_untranslatable_refusedWithTheField(String fields) {
    InvalidChat e = assertThrows(InvalidChat.class, () -> scan("{\"model\":\"m\"," + fields + "}").chat());
    assertTrue(e.param() != null, e.getMessage());
  }

  @Test
  void promptTokens_countsInstructionsTextsAndTools() {
    ClientBody b = scan("{\"model\":\"m\",\"instructions\":\"abcd\",\"input\":[{\"role\":\"user\",\"content\":\"ef\"}]}");
    // counter = text length: 3 priming + 4 + 3 (instructions) + 3 + 2 (one item)
    assertEquals(15, b.promptTokens());
    String tool = "{\"type\":\"function\",\"name\":\"f\"}";
    // a string input counts its tools too: 3 + 3 + 2 + the tool's JSON
    assertEquals(8 + tool.length(), scan("{\"model\":\"m\",\"input\":\"ef\",\"tools\":[" + tool + "]}").promptTokens());
  }

  @Test
  void render_textAndCall_responseObjectWithItemsAndUsage() throws Exception {
    ClientBody b = scan("{\"model\":\"m\",\"input\":\"hi\",\"instructions\":\"x\",\"temperature\":0.2}");
    JsonNode r = JSON.readTree(surface.render(new ChatResponse("msg_1", "claude-x", List.of(new Part.Text("Hello"),
        new Part.ToolCall("toolu_1", "f", "{}")), FinishReason.TOOL_CALLS, new Usage(10, 5, 4, 0)), b));
    assertEquals("resp_msg_1", r.get("id").asText());
    assertEquals("response", r.get("object").asText());
    assertEquals("completed", r.get("status").asText());
    assertEquals("claude-x", r.get("model").asText());
    assertEquals("x", r.get("instructions").asText());
    assertEquals(0.2, r.get("temperature").asDouble());
    assertEquals("message", r.at("/output/0/type").asText());
    assertEquals("Hello", r.at("/output/0/content/0/text").asText());
    assertEquals("function_call", r.at("/output/1/type").asText());
    assertEquals("toolu_1", r.at("/output/1/call_id").asText());
    assertEquals(10, r.at("/usage/input_tokens").asLong());
    assertEquals(4, r.at("/usage/input_tokens_details/cached_tokens").asLong());
    assertEquals(15, r.at("/usage/total_tokens").asLong());
    for (String required : List.of("created_at", "error", "incomplete_details", "metadata", "parallel_tool_calls",
        "tool_choice", "tools", "top_p")) {
      assertTrue(r.has(required), required);
    }
  }

  @Test
  void render_lengthFinish_incompleteWithReason() throws Exception {
    JsonNode r = JSON.readTree(surface.render(new ChatResponse("m1", "x", List.of(new Part.Text("a")),
        FinishReason.LENGTH, Usage.of(1, 1)), scan("{\"model\":\"m\",\"input\":\"hi\"}")));
    assertEquals("incomplete", r.get("status").asText());
    assertEquals("max_output_tokens", r.at("/incomplete_details/reason").asText());
  }

  /** One SSE event: its event line's type and its data. */
  private record Event(String type, JsonNode data) {}

  private static List<Event> events(ByteString bytes) throws Exception {
    List<Event> out = new ArrayList<>();
    for (String block : bytes.utf8String().split("\n\n")) {
      if (block.isBlank()) {
        continue;
      }
      String[] lines = block.split("\n");
      assertTrue(lines[0].startsWith("event: "), block);
      assertTrue(lines[1].startsWith("data: "), block);
      out.add(new Event(lines[0].substring(7), JSON.readTree(lines[1].substring(6))));
    }
    return out;
  }

  @Test
  void encoder_textThenCall_eventsInTheApiOrderNumberedFromZero() throws Exception {
    ClientBody b = scan("{\"model\":\"m\",\"input\":\"hi\",\"stream\":true}");
    StreamEncoder enc = surface.encoder(b);
    ByteString out = ByteString.emptyByteString();
    for (ChatEvent e : List.of(new ChatEvent.Started("msg_9", "claude-x"), new ChatEvent.TextDelta("Hel"),
        new ChatEvent.TextDelta("lo"), new ChatEvent.ToolCallStarted(0, "toolu_1", "f"),
        new ChatEvent.ToolArgumentsDelta(0, "{\"a\""), new ChatEvent.ToolArgumentsDelta(0, ":1}"),
        new ChatEvent.Finished(FinishReason.TOOL_CALLS), new ChatEvent.UsageReported(Usage.of(7, 3)))) {
      out = out.concat(enc.encode(e));
    }
    out = out.concat(enc.end());
    List<Event> events = events(out);
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed"), events.stream().map(Event::type).toList());
    for (int i = 0; i < events.size(); i++) {
      assertEquals(events.get(i).type(), events.get(i).data().get("type").asText());
      assertEquals(i, events.get(i).data().get("sequence_number").asInt());
    }
    assertTrue(events.get(0).data().at("/response/usage").isNull());
    assertEquals("Hello", events.get(6).data().get("text").asText());
    assertEquals("{\"a\":1}", events.get(12).data().get("arguments").asText());
    assertEquals("f", events.get(12).data().get("name").asText());
    assertEquals(1, events.get(10).data().get("output_index").asInt());
    JsonNode done = events.get(14).data().get("response");
    assertEquals("completed", done.get("status").asText());
    assertEquals("resp_msg_9", done.get("id").asText());
    assertEquals(2, done.get("output").size());
    assertEquals(7, done.at("/usage/input_tokens").asLong());
    assertEquals(10, done.at("/usage/total_tokens").asLong());
  }

  @Test
  void encoder_failed_endsWithResponseFailedAndNothingAfter() throws Exception {
    StreamEncoder enc = surface.encoder(scan("{\"model\":\"m\",\"input\":\"hi\",\"stream\":true}"));
    ByteString out = enc.encode(new ChatEvent.TextDelta("a"))
        .concat(enc.encode(new ChatEvent.Failed("overloaded_error", "busy")));
    assertTrue(enc.end().isEmpty());
    List<Event> events = events(out);
    Event last = events.get(events.size() - 1);
    assertEquals("response.failed", last.type());
    assertEquals("failed", last.data().at("/response/status").asText());
    assertEquals("overloaded_error", last.data().at("/response/error/code").asText());
    assertEquals("busy", last.data().at("/response/error/message").asText());
    assertEquals("response.output_item.done", events.get(events.size() - 2).type(), "the open item is closed first");
  }

  @Test
  void streamError_isTheApisErrorEvent() throws Exception {
    List<Event> events = events(surface.streamError(Refusal.of(Refusal.Kind.UPSTREAM_FAILED, 502, "gone",
        "stream_interrupted", null)));
    assertEquals("error", events.get(0).type());
    assertEquals("stream_interrupted", events.get(0).data().get("code").asText());
    assertEquals("gone", events.get(0).data().get("message").asText());
    assertTrue(events.get(0).data().has("sequence_number"));
    assertNull(events.get(0).data().get("param").textValue());
    assertFalse(events.get(0).data().has("error"), "a top-level error key would make the SDK throw instead");
  }

  @Test
  void scan_unusedCounter_noTokenizerCallUntilAsked() {
    int[] calls = {0};
    ResponsesSurface counting = new ResponsesSurface(null, () -> text -> ++calls[0]);
    ClientBody b = counting.scan("{\"model\":\"m\",\"input\":\"hi\"}".getBytes(StandardCharsets.UTF_8), null);
    assertEquals(0, calls[0]);
    b.promptTokens();
    assertTrue(calls[0] > 0);
  }
}
