package io.sluice.node.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.ToolChoice;
import io.sluice.node.inference.chat.Usage;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GeminiCodecTest {

  @Test
  void toolIds_signatureRoundTrip_restoresStandardBase64() {
    for (String sig : List.of("CiQB0e2Kb+7xZ/Qq1mB3v9w=", "AAAA", "AB+/", "ABC=", "AB==", "a")) {
      String id = ToolIds.withSignature(ToolIds.newId(), sig);
      assertTrue(id.matches("[A-Za-z0-9_-]+"), id);
      String back = ToolIds.signature(id);
      String expected = sig.length() % 4 == 0 ? sig : sig + "=".repeat(4 - sig.length() % 4);
      assertEquals(expected, back, id);
    }
  }

  @Test
  void toolIds_foreignOrPlainIds_carryNoSignature() {
    assertNull(ToolIds.signature(ToolIds.newId()));
    assertNull(ToolIds.signature("toolu_01A09q90qw90lq917835lq9"));
    assertNull(ToolIds.signature("call_abc__ts_xyz"));
    assertNull(ToolIds.signature("call_abc-def-ghi-jkl-mno-pqr__ts_xyz"));
    assertNull(ToolIds.signature(null));
  }

  @Test
  void encodeRequest_toolResultWithoutEarlierCall_refusedNamingTheId() {
    ChatRequest r = request(List.of(new Message(Message.Role.USER,
        List.of(new Part.ToolResult("call_missing", null, "42", false)))));
    InvalidChat e = assertThrows(InvalidChat.class, () -> GeminiCodec.encodeRequest(r));
    assertTrue(e.getMessage().contains("call_missing"), e.getMessage());
    assertEquals("messages", e.param());
  }

  @Test
  void encodeRequest_toolResultWithItsOwnName_needsNoEarlierCall() throws Exception {
    ChatRequest r = request(List.of(new Message(Message.Role.USER,
        List.of(new Part.ToolResult("x", "lookup", "[1,2]", false)))));
    JsonNode part = GeminiCodec.JSON.readTree(GeminiCodec.encodeRequest(r)).at("/contents/0/parts/0/functionResponse");
    assertEquals("lookup", part.path("name").asText());
    assertEquals("[1,2]", part.at("/response/output").asText(), "an array is not an object: wrapped as output");
  }

  @Test
  void encodeRequest_errorResult_wrappedAsError() throws Exception {
    ChatRequest r = request(List.of(
        new Message(Message.Role.ASSISTANT, List.of(new Part.ToolCall("c1", "f", "{}"))),
        new Message(Message.Role.USER, List.of(new Part.ToolResult("c1", null, "timed out", true)))));
    JsonNode body = GeminiCodec.JSON.readTree(GeminiCodec.encodeRequest(r));
    assertEquals("timed out", body.at("/contents/1/parts/0/functionResponse/response/error").asText());
    assertEquals("f", body.at("/contents/1/parts/0/functionResponse/name").asText());
  }

  @Test
  void encodeRequest_noContent_refused() {
    ChatRequest r = request(List.of(new Message(Message.Role.USER, List.of(new Part.Text("")))));
    assertThrows(InvalidChat.class, () -> GeminiCodec.encodeRequest(r));
  }

  @Test
  void encodeRequest_badDataUrl_refused() {
    ChatRequest r = request(List.of(new Message(Message.Role.USER, List.of(Part.Image.ofUrl("data:image/png,abc")))));
    assertThrows(InvalidChat.class, () -> GeminiCodec.encodeRequest(r));
  }

  @Test
  void encodeRequest_consecutiveTurnsOfOneRole_merged() throws Exception {
    ChatRequest r = request(List.of(new Message(Message.Role.USER, List.of(new Part.Text("a"))),
        new Message(Message.Role.USER, List.of(new Part.Text("b"))),
        new Message(Message.Role.ASSISTANT, List.of(new Part.Text("c")))));
    JsonNode contents = GeminiCodec.JSON.readTree(GeminiCodec.encodeRequest(r)).get("contents");
    assertEquals(2, contents.size());
    assertEquals(2, contents.at("/0/parts").size());
    assertEquals("model", contents.at("/1/role").asText());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"STOP, false, STOP", "STOP, true, TOOL_CALLS", "MAX_TOKENS, false, LENGTH", "SAFETY, false, CONTENT_FILTER",
      "RECITATION, false, CONTENT_FILTER", "BLOCKLIST, false, CONTENT_FILTER", "PROHIBITED_CONTENT, false, CONTENT_FILTER",
      "SPII, false, CONTENT_FILTER", "OTHER, false, STOP", "MALFORMED_FUNCTION_CALL, false, STOP",
      "A_NEWER_REASON, true, TOOL_CALLS"})
  void finishReason_geminiReason_mapped(String reason, boolean calls, String expected) {
    assertEquals(expected, GeminiCodec.finishReason(reason, calls).name());
  }

  @Test
  void usage_thoughtsCountAsCompletionAndCachedAsRead() {
    Usage u = GeminiCodec.usage(("{\"usageMetadata\":{\"promptTokenCount\":100,\"candidatesTokenCount\":20,"
        + "\"thoughtsTokenCount\":30,\"cachedContentTokenCount\":64}}").getBytes());
    assertEquals(new Usage(100, 50, 64, 0), u);
    assertNull(GeminiCodec.usage("{\"candidates\":[]}".getBytes()));
    assertNull(GeminiCodec.usage("not json".getBytes()));
  }

  @Test
  void decodeResponse_notGemini_refused() {
    assertThrows(InvalidChat.class, () -> GeminiCodec.decodeResponse("{\"choices\":[]}".getBytes()));
    assertThrows(InvalidChat.class, () -> GeminiCodec.decodeResponse("nope".getBytes()));
  }

  @Test
  void streamDecoder_usageOnEveryChunk_lastBeforeCutIsReported() {
    var d = GeminiCodec.streamDecoder();
    List<ChatEvent> events = new ArrayList<>(d.decode(ByteString.fromString(
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],\"usageMetadata\":{\"promptTokenCount\":3,"
            + "\"candidatesTokenCount\":1}}\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}],"
            + "\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2}}\n\n")));
    events.addAll(d.end());
    List<Usage> usages = events.stream().filter(e -> e instanceof ChatEvent.UsageReported)
        .map(e -> ((ChatEvent.UsageReported) e).usage()).toList();
    assertEquals(List.of(Usage.of(3, 1), Usage.of(3, 2)), usages);
    assertTrue(events.stream().noneMatch(e -> e instanceof ChatEvent.Finished), "a cut stream has no finish");
  }

  @Test
  void streamDecoder_unterminatedLastEventThatParses_decoded() {
    var d = GeminiCodec.streamDecoder();
    assertTrue(d.decode(ByteString.fromString("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},"
        + "\"finishReason\":\"STOP\"}]}")).isEmpty());
    List<ChatEvent> events = d.end();
    assertEquals(new ChatEvent.Finished(io.sluice.node.inference.chat.FinishReason.STOP), events.get(events.size() - 1));
  }

  private static ChatRequest request(List<Message> messages) {
    return new ChatRequest("m", List.of(), messages, List.of(), ToolChoice.AUTO, -1, null, null, List.of(), false,
        false);
  }
}
