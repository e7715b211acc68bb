package io.sluice.node.provider.anthropic;

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
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class AnthropicResponseTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static byte[] bytes(String json) {
    return json.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
  }

  private static ChatResponse decode(String json) throws InvalidChat {
    return AnthropicCodec.decodeResponse(bytes(json));
  }

  @ParameterizedTest
  @CsvSource({
      "end_turn, STOP", "stop_sequence, STOP", "pause_turn, STOP", "max_tokens, LENGTH",
      "model_context_window_exceeded, LENGTH", "tool_use, TOOL_CALLS", "refusal, CONTENT_FILTER",
      "some_future_reason, STOP"})
  void decodeResponse_stopReason_mapsToFinishReason(String stop, FinishReason reason) throws Exception {
    assertEquals(reason, decode("{'content':[],'stop_reason':'" + stop + "'}").finishReason());
  }

  @Test
  void decodeResponse_nullStopReason_hasNoFinishReason() throws Exception {
    assertNull(decode("{'content':[],'stop_reason':null}").finishReason());
  }

  @Test
  void decodeResponse_blocks_textAndToolCallsInOrderOthersDropped() throws Exception {
    ChatResponse r = decode("{'id':'msg_1','model':'claude','content':[{'type':'thinking','thinking':'x'},"
        + "{'type':'text','text':'a'},{'type':'tool_use','id':'toolu_1','name':'f','input':{'k':[1]}},"
        + "{'type':'server_tool_use','id':'s','name':'web_search','input':{}},{'type':'text','text':'b'}],"
        + "'stop_reason':'tool_use','usage':{'input_tokens':1,'output_tokens':2}}");
    assertEquals(new ChatResponse("msg_1", "claude", List.of(new Part.Text("a"),
        new Part.ToolCall("toolu_1", "f", "{\"k\":[1]}"), new Part.Text("b")), FinishReason.TOOL_CALLS,
        Usage.of(1, 2)), r);
  }

  @Test
  void decodeResponse_cacheTokens_addedToPrompt() throws Exception {
    assertEquals(new Usage(111, 7, 100, 10), decode("{'content':[],'usage':{'input_tokens':1,"
        + "'cache_creation_input_tokens':10,'cache_read_input_tokens':100,'output_tokens':7}}").usage());
  }

  @Test
  void decodeResponse_nullCacheFields_readAsZero() throws Exception {
    assertEquals(Usage.of(4, 5), decode("{'content':[],'usage':{'input_tokens':4,"
        + "'cache_creation_input_tokens':null,'cache_read_input_tokens':null,'output_tokens':5}}").usage());
  }

  @Test
  void decodeResponse_noUsage_isNull() throws Exception {
    assertNull(decode("{'content':[]}").usage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "{", "[]", "{'type':'error','error':{'type':'api_error','message':'x'}}",
      "{'content':'text'}"})
  void decodeResponse_notAMessage_refused(String body) {
    assertThrows(InvalidChat.class, () -> decode(body));
  }

  @ParameterizedTest
  @CsvSource({"STOP, end_turn", "LENGTH, max_tokens", "TOOL_CALLS, tool_use", "CONTENT_FILTER, refusal"})
  void encodeResponse_finishReason_mapsToStopReason(FinishReason reason, String stop) throws Exception {
    JsonNode m = JSON.readTree(AnthropicCodec.encodeResponse(new ChatResponse("msg_x", "m", List.of(), reason, null)));
    assertEquals(stop, m.path("stop_reason").asText());
    assertTrue(m.has("stop_sequence") && m.path("stop_sequence").isNull());
  }

  @Test
  void encodeResponse_message_hasTheShapeTheSdkExpects() throws Exception {
    JsonNode m = JSON.readTree(AnthropicCodec.encodeResponse(new ChatResponse("chatcmpl-9", "gpt-4o",
        List.of(new Part.Text("hi"), new Part.ToolCall("call_1", "f", "{\"a\":1}"), new Part.ToolCall("call_2", "g",
            "not json"), new Part.ToolResult("x", null, "ignored", false)),
        FinishReason.TOOL_CALLS, new Usage(110, 20, 100, 4))));
    assertEquals(JSON.readTree("{\"id\":\"chatcmpl-9\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"gpt-4o\","
        + "\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"f\","
        + "\"input\":{\"a\":1}},{\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"g\",\"input\":{}}],"
        + "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":6,"
        + "\"cache_creation_input_tokens\":4,\"cache_read_input_tokens\":100,\"output_tokens\":20}}"), m);
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = "")
  void encodeResponse_noId_getsMessageId(String id) throws Exception {
    JsonNode m = JSON.readTree(AnthropicCodec.encodeResponse(new ChatResponse(id, "m", List.of(), null, null)));
    assertTrue(m.path("id").asText().matches("msg_[0-9A-Za-z]{24}"), m.path("id").asText());
    assertTrue(m.path("stop_reason").isNull());
    assertEquals(0, m.path("usage").path("input_tokens").asLong(-1));
    assertEquals(0, m.path("usage").path("output_tokens").asLong(-1));
  }

  @Test
  void encodeResponse_cacheExceedsPrompt_inputClampedToZero() throws Exception {
    JsonNode m = JSON.readTree(AnthropicCodec.encodeResponse(new ChatResponse("msg_1", "m", List.of(), null,
        new Usage(5, 1, 10, 0))));
    assertEquals(0, m.path("usage").path("input_tokens").asLong(-1));
  }

  @Test
  void decodeResponse_ofEncodeResponse_preservesResponse() throws Exception {
    ChatResponse r = new ChatResponse("msg_7", "claude", List.of(new Part.Text("x"),
        new Part.ToolCall("toolu_1", "f", "{\"a\":[true,null]}")), FinishReason.LENGTH, new Usage(30, 4, 5, 6));
    assertEquals(r, AnthropicCodec.decodeResponse(AnthropicCodec.encodeResponse(r)));
  }

  @Test
  void usage_wholeResponse_readsTokens() {
    assertEquals(new Usage(13, 2, 3, 0), AnthropicCodec.usage(bytes("{'id':'m','content':[],'usage':{"
        + "'input_tokens':10,'cache_read_input_tokens':3,'output_tokens':2}}")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"{'content':[]}", "{'usage':null}", "{'usage':{}}", "not json", "", "[1]"})
  void usage_noUsage_isNull(String body) {
    assertNull(AnthropicCodec.usage(bytes(body)));
  }
}
