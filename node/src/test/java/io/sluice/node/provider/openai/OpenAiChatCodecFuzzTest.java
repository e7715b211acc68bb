package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.FuzzChunks;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * {@link OpenAiChatCodec}'s decoders on any bytes: a request or a response is decoded or refused
 * with {@link InvalidChat}, and what is decoded encodes to a body that decodes to the same value;
 * a stream decodes without throwing, to the same events however its bytes are split.
 */
class OpenAiChatCodecFuzzTest {

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void decoders_anyBytes_refuseOrRoundTrip(byte[] body) {
    try {
      ChatRequest r = OpenAiChatCodec.decodeRequest(body);
      // A streamed request always asks its upstream for usage: the gateway charges from it.
      ChatRequest expected = new ChatRequest(r.model(), r.system(), r.messages(), r.tools(), r.toolChoice(),
          r.maxTokens(), r.temperature(), r.topP(), r.stop(), r.stream(), r.includeUsage() || r.stream());
      assertEquals(expected, redecode(OpenAiChatCodec.encodeRequest(r)), "request round trip");
    } catch (InvalidChat refused) {
      // the 400 the surface answers
    }
    try {
      ChatResponse r = OpenAiChatCodec.decodeResponse(body);
      byte[] encoded = OpenAiChatCodec.encodeResponse(r);
      try {
        ChatResponse again = OpenAiChatCodec.decodeResponse(encoded);
        // OpenAI's SDKs require an id, a model and a finish_reason: a response without an id gets a
        // fresh one, an id without OpenAI's "chatcmpl-" prefix (another provider's) gets the prefix,
        // a response without a model gets "", and without a reason "stop".
        String id = r.id() == null || r.id().isEmpty() ? again.id()
            : r.id().startsWith("chatcmpl-") ? r.id() : "chatcmpl-" + r.id();
        ChatResponse expected = new ChatResponse(id,
            r.model() == null ? "" : r.model(), r.content(),
            r.finishReason() == null ? FinishReason.STOP : r.finishReason(), r.usage());
        assertEquals(expected, again, "response round trip");
      } catch (InvalidChat e) {
        throw new AssertionError("an encoded response does not decode: " + e.getMessage(), e);
      }
    } catch (InvalidChat refused) {
      // a bad upstream answer, classified as such
    }
    List<ChatEvent> first = null;
    for (List<ByteString> chunks : FuzzChunks.splits(body)) {
      List<ChatEvent> events = generatedIds(decodeStream(OpenAiChatCodec.streamDecoder(), chunks), body);
      if (first == null) {
        first = events;
      } else {
        assertEquals(first, events, "stream events depend on the split");
      }
    }
  }

  private static ChatRequest redecode(byte[] encoded) {
    try {
      return OpenAiChatCodec.decodeRequest(encoded);
    } catch (InvalidChat e) {
      throw new AssertionError("an encoded request does not decode: " + e.getMessage(), e);
    }
  }

  /** The events with every tool-call id the upstream did not send (a fresh one) as "generated". */
  private static List<ChatEvent> generatedIds(List<ChatEvent> events, byte[] body) {
    String text = new String(body, java.nio.charset.StandardCharsets.UTF_8);
    List<ChatEvent> out = new ArrayList<>(events.size());
    for (ChatEvent e : events) {
      if (e instanceof ChatEvent.ToolCallStarted s && s.id() != null && !text.contains(s.id())) {
        out.add(new ChatEvent.ToolCallStarted(s.index(), "generated", s.name()));
      } else {
        out.add(e);
      }
    }
    return out;
  }

  static List<ChatEvent> decodeStream(StreamDecoder d, List<ByteString> chunks) {
    List<ChatEvent> events = new ArrayList<>();
    for (ByteString c : chunks) {
      events.addAll(d.decode(c));
    }
    events.addAll(d.end());
    return events;
  }
}
