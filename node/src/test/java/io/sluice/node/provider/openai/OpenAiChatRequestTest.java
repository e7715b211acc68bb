package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class OpenAiChatRequestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ChatRequest decode(String json) throws InvalidChat {
    return OpenAiChatCodec.decodeRequest(json.getBytes(StandardCharsets.UTF_8));
  }

  /** A request with these messages (a JSON array's elements) and these extra top-level fields. */
  private static String body(String messages, String extra) {
    return "{\"model\":\"m\",\"messages\":[" + messages + "]" + (extra.isEmpty() ? "" : "," + extra) + "}";
  }

  private static JsonNode encode(ChatRequest r) throws Exception {
    return JSON.readTree(OpenAiChatCodec.encodeRequest(r));
  }

  private static ChatRequest neutral(List<Part> system, List<Message> messages) {
    return new ChatRequest("m", system, messages, List.of(), null, -1, null, null, List.of(), false, false);
  }

  @Test
  void decodeRequest_minimal_defaults() throws Exception {
    ChatRequest r = decode(body("{\"role\":\"user\",\"content\":\"hi\"}", ""));
    assertEquals(new ChatRequest("m", List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))),
        List.of(), null, -1, null, null, List.of(), false, false), r);
  }

  @Test
  void decodeRequest_systemAndDeveloperAnywhere_liftedInOrder() throws Exception {
    ChatRequest r = decode(body("""
        {"role":"system","content":"a"},
        {"role":"user","content":"q"},
        {"role":"developer","content":[{"type":"text","text":"b"},{"type":"text","text":"c"}]},
        {"role":"assistant","content":"r"}""", ""));
    assertEquals(List.of(new Part.Text("a"), new Part.Text("b"), new Part.Text("c")), r.system());
    assertEquals(List.of(Message.Role.USER, Message.Role.ASSISTANT), r.messages().stream().map(Message::role).toList());
  }

  @Test
  void decodeRequest_userParts_textAndImages() throws Exception {
    ChatRequest r = decode(body("""
        {"role":"user","content":[
          {"type":"text","text":"look"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
          {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}""", ""));
    assertEquals(List.of(new Part.Text("look"), Part.Image.inline("image/png", "iVBORw0KGgo="),
        Part.Image.ofUrl("https://example.com/cat.jpg")), r.messages().get(0).content());
  }

  @Test
  void decodeRequest_dataUrlWithParameters_mediaTypeWithoutThem() throws Exception {
    ChatRequest r = decode(body(
        "{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;name=x.jpg;base64,/9j/\"}}]}",
        ""));
    assertEquals(Part.Image.inline("image/jpeg", "/9j/"), r.messages().get(0).content().get(0));
  }

  @Test
  void decodeRequest_assistantToolCallsAndToolResults_mergedIntoOneUserTurn() throws Exception {
    ChatRequest r = decode(body("""
        {"role":"user","content":"weather?"},
        {"role":"assistant","content":"checking","tool_calls":[
          {"id":"call_1","type":"function","function":{"name":"get","arguments":"{\\"city\\":\\"Oslo\\"}"}},
          {"id":"call_2","type":"function","function":{"name":"get","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"cold"},
        {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"wa"},{"type":"text","text":"rm"}]},
        {"role":"user","content":"thanks"},
        {"role":"user","content":"and tomorrow?"}""", ""));
    assertEquals(List.of(
        new Message(Message.Role.USER, List.of(new Part.Text("weather?"))),
        new Message(Message.Role.ASSISTANT, List.of(new Part.Text("checking"),
            new Part.ToolCall("call_1", "get", "{\"city\":\"Oslo\"}"), new Part.ToolCall("call_2", "get", "{}"))),
        new Message(Message.Role.USER, List.of(new Part.ToolResult("call_1", null, "cold", false),
            new Part.ToolResult("call_2", null, "warm", false), new Part.Text("thanks"))),
        new Message(Message.Role.USER, List.of(new Part.Text("and tomorrow?")))), r.messages());
  }

  @Test
  void decodeRequest_toolMessagesBeforeAssistantOrAtEnd_ownUserTurn() throws Exception {
    ChatRequest r = decode(body("""
        {"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"a","content":"1"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"b","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"b","content":"2"}""", ""));
    assertEquals(List.of(
        new Message(Message.Role.ASSISTANT, List.of(new Part.ToolCall("a", "f", "{}"))),
        new Message(Message.Role.USER, List.of(new Part.ToolResult("a", null, "1", false))),
        new Message(Message.Role.ASSISTANT, List.of(new Part.ToolCall("b", "f", "{}"))),
        new Message(Message.Role.USER, List.of(new Part.ToolResult("b", null, "2", false)))), r.messages());
  }

  @Test
  void decodeRequest_assistantRefusalPartAndNoArguments_textAndEmptyObject() throws Exception {
    ChatRequest r = decode(body("""
        {"role":"assistant","content":[{"type":"refusal","refusal":"no"}],
         "tool_calls":[{"id":"a","function":{"name":"f"}}]}""", ""));
    assertEquals(List.of(new Part.Text("no"), new Part.ToolCall("a", "f", "{}")), r.messages().get(0).content());
  }

  @Test
  void decodeRequest_toolsAndNamedChoice_mapped() throws Exception {
    ChatRequest r = decode(body("{\"role\":\"user\",\"content\":\"x\"}", """
        "tools":[{"type":"function","function":{"name":"get","description":"Gets.","parameters":{"type":"object","properties":{}},"strict":true}},
                 {"type":"function","function":{"name":"bare"}}],
        "tool_choice":{"type":"function","function":{"name":"get"}}"""));
    JsonNode schema = JSON.readTree("{\"type\":\"object\",\"properties\":{}}");
    assertEquals(List.of(new Tool("get", "Gets.", schema), new Tool("bare", null, null)), r.tools());
    assertEquals(ToolChoice.named("get"), r.toolChoice());
  }

  @ParameterizedTest
  @CsvSource({"auto,AUTO", "none,NONE", "required,REQUIRED"})
  void decodeRequest_toolChoiceString_mode(String wire, ToolChoice.Mode mode) throws Exception {
    assertEquals(new ToolChoice(mode, null),
        decode(body("{\"role\":\"user\",\"content\":\"x\"}", "\"tool_choice\":\"" + wire + "\"")).toolChoice());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "\"max_completion_tokens\":50,\"max_tokens\":10 | 50",
      "\"max_tokens\":10 | 10",
      "\"max_completion_tokens\":null,\"max_tokens\":10 | 10",
      "\"max_tokens\":0 | 0",
      "\"max_tokens\":null | -1",
      "\"max_tokens\":64.0 | 64"})
  void decodeRequest_outputLimit_preferredFieldFirst(String fields, long expected) throws Exception {
    assertEquals(expected, decode(body("{\"role\":\"user\",\"content\":\"x\"}", fields)).maxTokens());
  }

  @Test
  void decodeRequest_samplingStopAndStream_read() throws Exception {
    ChatRequest r = decode(body("{\"role\":\"user\",\"content\":\"x\"}",
        "\"temperature\":0.2,\"top_p\":1,\"stop\":[\"a\",\"b\"],\"stream\":true,\"stream_options\":{\"include_usage\":true},"
            + "\"seed\":7,\"user\":\"u\",\"n\":1"));
    assertEquals(0.2, r.temperature());
    assertEquals(1.0, r.topP());
    assertEquals(List.of("a", "b"), r.stop());
    assertTrue(r.stream());
    assertTrue(r.includeUsage());
  }

  @Test
  void decodeRequest_stopString_oneSequence() throws Exception {
    assertEquals(List.of("END"), decode(body("{\"role\":\"user\",\"content\":\"x\"}", "\"stop\":\"END\"")).stop());
  }

  @Test
  void decodeRequest_includeUsageWithoutStream_false() throws Exception {
    ChatRequest r = decode(body("{\"role\":\"user\",\"content\":\"x\"}", "\"stream_options\":{\"include_usage\":true}"));
    assertFalse(r.stream());
    assertFalse(r.includeUsage());
  }

  @Test
  void decodeRequest_streamWithoutOptions_noUsageAsked() throws Exception {
    ChatRequest r = decode(body("{\"role\":\"user\",\"content\":\"x\"}", "\"stream\":true,\"stream_options\":null"));
    assertTrue(r.stream());
    assertFalse(r.includeUsage());
  }

  /** Each malformed body, and the param path its refusal names. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} | model",
      "{\"model\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} | model",
      "{\"model\":\"m\"} | messages",
      "{\"model\":\"m\",\"messages\":[]} | messages",
      "{\"model\":\"m\",\"messages\":{}} | messages",
      "{\"model\":\"m\",\"messages\":[\"hi\"]} | messages.0",
      "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]} | messages.0.role",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]} | messages.0.role",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"function\",\"name\":\"f\",\"content\":\"x\"}]} | messages.0.role",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]} | messages.0.content",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":null}]} | messages.0.content",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]} | messages.0.content",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}]} | messages.0.content.0",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]} | messages.0.content.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]} | messages.0.content.0.text",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{}}]}]} | messages.0.content.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]} | messages.0.content.0.image_url.url",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png,abc\"}}]}]} | messages.0.content.0.image_url.url",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:;base64,abc\"}}]}]} | messages.0.content.0.image_url.url",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,\"}}]}]} | messages.0.content.0.image_url.url",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x\"}}]}]} | messages.0.content.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"system\"}]} | messages.0.content",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"refusal\",\"refusal\":\"x\"}]}]} | messages.0.content.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"refusal\",\"refusal\":\"x\"}]}]} | messages.0.content.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"refusal\"}]}]} | messages.0.content.0.refusal",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"function_call\":{\"name\":\"f\",\"arguments\":\"{}\"}}]} | messages.0.function_call",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":{}}]} | messages.0.tool_calls",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]} | messages.0.tool_calls.0.id",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"type\":\"custom\",\"custom\":{}}]}]} | messages.0.tool_calls.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\"}]}]} | messages.0.tool_calls.0.function",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"function\":{\"arguments\":\"{}\"}}]}]} | messages.0.tool_calls.0.function.name",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]} | messages.0.tool_calls.0.function.arguments",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]} | messages.0.tool_call_id",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"a\"}]} | messages.0.content",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"functions\":[{\"name\":\"f\"}]} | functions",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"function_call\":\"auto\"} | function_call",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2} | n",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":{}} | tools",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[1]} | tools.0",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"custom\"}]} | tools.0.type",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]} | tools.0.function",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{}}]} | tools.0.function.name",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]} | tools.0.function.parameters",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":1}}]} | tools.0.function.description",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":\"any\"} | tool_choice",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":{\"type\":\"allowed_tools\"}} | tool_choice",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":{\"type\":\"function\",\"function\":{}}} | tool_choice.function.name",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":-1} | max_tokens",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1.5} | max_tokens",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_completion_tokens\":\"9\"} | max_completion_tokens",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"} | temperature",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":true} | top_p",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":5} | stop",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"a\",1]} | stop.1",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"} | stream",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true,\"stream_options\":[]} | stream_options",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true,\"stream_options\":{\"include_usage\":1}} | stream_options.include_usage"})
  void decodeRequest_malformed_invalidChatWithParam(String json, String param) {
    InvalidChat e = assertThrows(InvalidChat.class, () -> decode(json));
    assertEquals(param, e.param(), e.getMessage());
    assertFalse(e.getMessage().isBlank());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "not json", "[1,2]", "\"s\"", "{\"model\":\"m\",", "null"})
  void decodeRequest_notAJsonObject_invalidChatWithoutParam(String body) {
    InvalidChat e = assertThrows(InvalidChat.class, () -> decode(body));
    assertNull(e.param());
  }

  @Test
  void encodeRequest_everyField_plainOpenAiShape() throws Exception {
    JsonNode schema = JSON.readTree("{\"type\":\"object\"}");
    ChatRequest r = new ChatRequest("gpt", List.of(new Part.Text("be brief")),
        List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))),
        List.of(new Tool("f", "does f", schema)), ToolChoice.REQUIRED, 100, 0.5, 0.9, List.of("x"), true, false);
    assertEquals(JSON.readTree("""
        {"model":"gpt","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],
         "tools":[{"type":"function","function":{"name":"f","description":"does f","parameters":{"type":"object"}}}],
         "tool_choice":"required","max_tokens":100,"temperature":0.5,"top_p":0.9,"stop":["x"],
         "stream":true,"stream_options":{"include_usage":true}}"""), encode(r));
  }

  @Test
  void encodeRequest_nothingOptional_onlyModelAndMessages() throws Exception {
    ChatRequest r = neutral(List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))));
    assertEquals(JSON.readTree("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), encode(r));
  }

  @Test
  void encodeRequest_severalSystemParts_oneLeadingSystemMessageWithParts() throws Exception {
    ChatRequest r = neutral(List.of(new Part.Text("a"), new Part.Text("b")),
        List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))));
    assertEquals(JSON.readTree("{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
        + "{\"type\":\"text\",\"text\":\"b\"}]}"), encode(r).get("messages").get(0));
  }

  @Test
  void encodeRequest_toolResultsWithText_toolMessagesFirstThenUser() throws Exception {
    ChatRequest r = neutral(List.of(), List.of(
        new Message(Message.Role.ASSISTANT, List.of(new Part.Text("let me see"), new Part.ToolCall("c1", "f", "{\"a\":1}"),
            new Part.ToolCall("c2", "g", "{}"))),
        new Message(Message.Role.USER, List.of(new Part.Text("here:"), new Part.ToolResult("c1", "f", "one", false),
            new Part.ToolResult("c2", null, "oops", true)))));
    assertEquals(JSON.readTree("""
        [{"role":"assistant","content":"let me see","tool_calls":[
           {"id":"c1","type":"function","function":{"name":"f","arguments":"{\\"a\\":1}"}},
           {"id":"c2","type":"function","function":{"name":"g","arguments":"{}"}}]},
         {"role":"tool","tool_call_id":"c1","content":"one"},
         {"role":"tool","tool_call_id":"c2","content":"oops"},
         {"role":"user","content":"here:"}]"""), encode(r).get("messages"));
  }

  @Test
  void encodeRequest_onlyToolCalls_nullContent() throws Exception {
    ChatRequest r = neutral(List.of(), List.of(
        new Message(Message.Role.ASSISTANT, List.of(new Part.ToolCall("c1", "f", "{}")))));
    assertTrue(encode(r).get("messages").get(0).get("content").isNull());
  }

  @Test
  void encodeRequest_images_imageUrlPartsWithDataUrlForInline() throws Exception {
    ChatRequest r = neutral(List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text("see"),
        Part.Image.inline("image/webp", "UklGR"), Part.Image.ofUrl("https://x/y.png")))));
    assertEquals(JSON.readTree("""
        [{"type":"text","text":"see"},
         {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGR"}},
         {"type":"image_url","image_url":{"url":"https://x/y.png"}}]"""), encode(r).get("messages").get(0).get("content"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"AUTO | \"auto\"", "NONE | \"none\"", "REQUIRED | \"required\"",
      "NAMED | {\"type\":\"function\",\"function\":{\"name\":\"f\"}}"})
  void encodeRequest_toolChoice_wireForm(ToolChoice.Mode mode, String wire) throws Exception {
    ChatRequest r = new ChatRequest("m", List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text("x")))),
        List.of(new Tool("f", null, null)), new ToolChoice(mode, mode == ToolChoice.Mode.NAMED ? "f" : null), -1, null,
        null, List.of(), false, false);
    JsonNode encoded = encode(r);
    assertEquals(JSON.readTree(wire), encoded.get("tool_choice"));
    assertEquals(JSON.readTree("[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"), encoded.get("tools"));
  }

  @Test
  void encodeRequest_streamWithoutClientUsage_stillAsksForUsage() throws Exception {
    ChatRequest r = new ChatRequest("m", List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text("x")))),
        List.of(), null, 0, null, null, List.of(), true, false);
    JsonNode encoded = encode(r);
    assertTrue(encoded.get("stream_options").get("include_usage").booleanValue());
    assertEquals(0, encoded.get("max_tokens").intValue());
  }

  @Test
  void encodeRequest_partsARoleCannotHold_illegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> OpenAiChatCodec.encodeRequest(neutral(List.of(),
        List.of(new Message(Message.Role.USER, List.of(new Part.ToolCall("c", "f", "{}")))))));
    assertThrows(IllegalArgumentException.class, () -> OpenAiChatCodec.encodeRequest(neutral(List.of(),
        List.of(new Message(Message.Role.ASSISTANT, List.of(Part.Image.ofUrl("https://x")))))));
    assertThrows(IllegalArgumentException.class, () -> OpenAiChatCodec.encodeRequest(neutral(
        List.of(Part.Image.ofUrl("https://x")), List.of(new Message(Message.Role.USER, List.of(new Part.Text("x")))))));
  }

  @Test
  void encodeRequest_unicodeAndEscapes_survive() throws Exception {
    String text = "naïve \"quote\" \\ \n tab\t emoji \uD83D\uDE00 \u0000";
    ChatRequest r = neutral(List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text(text)))));
    assertEquals(r, OpenAiChatCodec.decodeRequest(OpenAiChatCodec.encodeRequest(r)));
  }
}
