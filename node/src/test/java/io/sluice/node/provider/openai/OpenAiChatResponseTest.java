package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Usage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class OpenAiChatResponseTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ChatResponse decode(String json) throws InvalidChat {
    return OpenAiChatCodec.decodeResponse(json.getBytes(StandardCharsets.UTF_8));
  }

  private static String completion(String message, String finish, String usage) {
    return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,"
        + "\"message\":" + message + ",\"logprobs\":null,\"finish_reason\":" + finish + "}]"
        + (usage == null ? "" : ",\"usage\":" + usage) + "}";
  }

  @Test
  void decodeResponse_text_contentFinishAndUsage() throws Exception {
    ChatResponse r = decode(completion("{\"role\":\"assistant\",\"content\":\"Hello\",\"refusal\":null}", "\"stop\"",
        "{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":4,\"audio_tokens\":0}}"));
    assertEquals(new ChatResponse("chatcmpl-1", "gpt-x", List.of(new Part.Text("Hello")), FinishReason.STOP,
        new Usage(9, 2, 4, 0)), r);
  }

  @Test
  void decodeResponse_toolCalls_textThenCallsInOrder() throws Exception {
    ChatResponse r = decode(completion("""
        {"role":"assistant","content":null,"tool_calls":[
          {"id":"call_a","type":"function","function":{"name":"get","arguments":"{\\"q\\":1}"}},
          {"id":"call_b","type":"function","function":{"name":"put","arguments":""}}]}""", "\"tool_calls\"", null));
    assertEquals(List.of(new Part.ToolCall("call_a", "get", "{\"q\":1}"), new Part.ToolCall("call_b", "put", "")),
        r.content());
    assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
    assertNull(r.usage());
  }

  @Test
  void decodeResponse_legacyFunctionCall_toolCallWithFreshId() throws Exception {
    ChatResponse r = decode(completion(
        "{\"role\":\"assistant\",\"content\":null,\"function_call\":{\"name\":\"f\",\"arguments\":\"{}\"}}",
        "\"function_call\"", null));
    Part.ToolCall call = (Part.ToolCall) r.content().get(0);
    assertEquals("f", call.name());
    assertEquals("{}", call.arguments());
    assertTrue(call.id().startsWith("call_") && call.id().length() > 10, call.id());
    assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
  }

  @Test
  void decodeResponse_refusal_asText() throws Exception {
    ChatResponse r = decode(completion("{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't.\"}", "\"stop\"",
        null));
    assertEquals(List.of(new Part.Text("I can't.")), r.content());
  }

  @ParameterizedTest
  @CsvSource(nullValues = "NULL", value = {"\"stop\",STOP", "\"length\",LENGTH", "\"tool_calls\",TOOL_CALLS",
      "\"content_filter\",CONTENT_FILTER", "\"function_call\",TOOL_CALLS", "\"eos\",STOP", "null,NULL"})
  void decodeResponse_finishReason_mapped(String wire, FinishReason expected) throws Exception {
    assertEquals(expected, decode(completion("{\"role\":\"assistant\",\"content\":\"x\"}", wire, null)).finishReason());
  }

  @Test
  void decodeResponse_noChoices_emptyContent() throws Exception {
    ChatResponse r = decode("{\"id\":\"x\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":0}}");
    assertEquals(new ChatResponse("x", "m", List.of(), null, Usage.of(3, 0)), r);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', nullValues = "NULL", value = {
      "{\"id\":\"x\"} | choices",
      "{\"choices\":{}} | choices",
      "{\"choices\":[{\"index\":0}]} | choices.0.message",
      "{\"error\":{\"message\":\"bad\",\"type\":\"x\"}} | error",
      "{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{}}]}}]} | choices.0.message.tool_calls.0.function.name",
      "[] | NULL",
      "nope | NULL"})
  void decodeResponse_notACompletion_invalidChat(String body, String param) {
    InvalidChat e = assertThrows(InvalidChat.class, () -> decode(body));
    assertEquals(param, e.param());
  }

  private static JsonNode encode(ChatResponse r) throws Exception {
    return JSON.readTree(ChatResponseCodec.write(r, 1_700_000_000L));
  }

  @Test
  void encodeResponse_textAndUsage_exactShape() throws Exception {
    ChatResponse r = new ChatResponse("chatcmpl-abc", "gpt-x", List.of(new Part.Text("Hel"), new Part.Text("lo")),
        FinishReason.LENGTH, new Usage(10, 5, 3, 2));
    assertEquals(JSON.readTree("""
        {"id":"chatcmpl-abc","object":"chat.completion","created":1700000000,"model":"gpt-x",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Hello","refusal":null},
                     "logprobs":null,"finish_reason":"length"}],
         "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":3}}}"""),
        encode(r));
  }

  @Test
  void encodeResponse_onlyToolCalls_nullContentAndCalls() throws Exception {
    ChatResponse r = new ChatResponse("msg_01", "claude", List.of(new Part.ToolCall("toolu_1", "get", "{\"a\":1}")),
        FinishReason.TOOL_CALLS, Usage.of(1, 2));
    JsonNode encoded = encode(r);
    assertEquals("chatcmpl-msg_01", encoded.get("id").textValue());
    JsonNode message = encoded.get("choices").get(0).get("message");
    assertTrue(message.get("content").isNull());
    assertEquals(JSON.readTree("[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":\"get\","
        + "\"arguments\":\"{\\\"a\\\":1}\"}}]"), message.get("tool_calls"));
    assertEquals("tool_calls", encoded.get("choices").get(0).get("finish_reason").textValue());
    assertEquals(JSON.readTree("{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}"), encoded.get("usage"));
  }

  @Test
  void encodeResponse_noIdNoReasonNoUsage_freshIdStopNoUsage() throws Exception {
    JsonNode encoded = encode(new ChatResponse(null, "m", List.of(new Part.Text("x")), null, null));
    String id = encoded.get("id").textValue();
    assertTrue(id.matches("chatcmpl-[A-Za-z0-9]{29}"), id);
    assertEquals("stop", encoded.get("choices").get(0).get("finish_reason").textValue());
    assertTrue(!encoded.has("usage"));
  }

  @Test
  void encodeResponse_now_createdIsCurrentEpochSecond() throws Exception {
    long before = System.currentTimeMillis() / 1000;
    JsonNode encoded = JSON.readTree(OpenAiChatCodec.encodeResponse(
        new ChatResponse("chatcmpl-1", "m", List.of(), FinishReason.STOP, null)));
    long created = encoded.get("created").longValue();
    assertTrue(created >= before && created <= System.currentTimeMillis() / 1000, String.valueOf(created));
  }

  @ParameterizedTest
  @ValueSource(strings = {"STOP", "LENGTH", "TOOL_CALLS", "CONTENT_FILTER"})
  void encodeResponse_finishReason_roundTrips(FinishReason reason) throws Exception {
    ChatResponse r = new ChatResponse("chatcmpl-1", "m", List.of(new Part.Text("x")), reason, Usage.of(1, 1));
    assertEquals(r, OpenAiChatCodec.decodeResponse(OpenAiChatCodec.encodeResponse(r)));
  }

  @Test
  void encodeResponse_toolResultOrImage_illegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> OpenAiChatCodec.encodeResponse(
        new ChatResponse("x", "m", List.of(Part.Image.ofUrl("https://x")), null, null)));
    assertThrows(IllegalArgumentException.class, () -> OpenAiChatCodec.encodeResponse(
        new ChatResponse("x", "m", List.of(new Part.ToolResult("c", null, "r", false)), null, null)));
  }
}
