package io.sluice.node.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.eventstream.HeaderValue;

class BedrockCodecTest {

  private static ChatRequest withImage(Part.Image image) {
    return new ChatRequest("m", List.of(), List.of(new Message(Message.Role.USER, List.of(image))), List.of(), null,
        -1, null, null, List.of(), false, false);
  }

  @Test
  void encodeRequest_imageByHttpUrl_refusedNamingTheMessage() {
    InvalidChat e = assertThrows(InvalidChat.class,
        () -> BedrockCodec.encodeRequest(withImage(Part.Image.ofUrl("https://example.com/cat.png"))));
    assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    assertEquals("messages.0.content", e.param());
  }

  @Test
  void encodeRequest_unsupportedMediaType_refused() {
    assertThrows(InvalidChat.class, () -> BedrockCodec.encodeRequest(withImage(Part.Image.inline("image/tiff", "AAAA"))));
  }

  @Test
  void encodeRequest_inlineJpeg_formatJpeg() throws Exception {
    String body = new String(BedrockCodec.encodeRequest(withImage(Part.Image.inline("image/jpeg", "AAAA"))),
        StandardCharsets.UTF_8);
    assertTrue(body.contains("{\"image\":{\"format\":\"jpeg\",\"source\":{\"bytes\":\"AAAA\"}}}"), body);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource({"end_turn, STOP", "stop_sequence, STOP", "max_tokens, LENGTH", "model_context_window_exceeded, LENGTH",
      "tool_use, TOOL_CALLS", "guardrail_intervened, CONTENT_FILTER", "content_filtered, CONTENT_FILTER",
      "something_new, STOP"})
  void finishReason_converseStopReason_neutral(String stop, FinishReason reason) {
    assertEquals(reason, BedrockCodec.finishReason(stop));
  }

  @Test
  void usage_noUsage_null() {
    assertNull(BedrockCodec.usage("{\"output\":{}}".getBytes(StandardCharsets.UTF_8)));
    assertEquals(new Usage(10, 2, 3, 4), BedrockCodec.usage(
        "{\"usage\":{\"inputTokens\":3,\"outputTokens\":2,\"cacheReadInputTokens\":3,\"cacheWriteInputTokens\":4}}"
            .getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void streamDecoder_corruptedFrame_failsAndStops() {
    byte[] frame = new software.amazon.eventstream.Message(Map.of(":message-type", HeaderValue.fromString("event"), ":event-type",
        HeaderValue.fromString("messageStart")), "{}".getBytes(StandardCharsets.UTF_8)).toByteBuffer().array();
    byte[] bad = frame.clone();
    bad[bad.length - 1] ^= 0x5a; // the message CRC
    StreamDecoder d = BedrockCodec.streamDecoder();
    List<ChatEvent> events = d.decode(ByteString.fromArray(concat(frame, bad)));
    assertInstanceOf(ChatEvent.Started.class, events.get(0));
    assertInstanceOf(ChatEvent.Failed.class, events.get(1));
    assertEquals(List.of(), d.decode(ByteString.fromArray(frame)), "nothing after a failure");
  }

  @Test
  void streamDecoder_errorFrame_failedWithItsCode() {
    byte[] frame = new software.amazon.eventstream.Message(Map.of(":message-type", HeaderValue.fromString("error"), ":error-code",
        HeaderValue.fromString("InternalFailure"), ":error-message", HeaderValue.fromString("boom")), new byte[0])
        .toByteBuffer().array();
    assertEquals(List.of(new ChatEvent.Failed("InternalFailure", "boom")),
        BedrockCodec.streamDecoder().decode(ByteString.fromArray(frame)));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
