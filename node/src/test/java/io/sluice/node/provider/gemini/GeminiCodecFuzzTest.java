package io.sluice.node.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.FuzzChunks;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.provider.openai.OpenAiChatCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.util.ByteString;

/**
 * {@link GeminiCodec}'s decoders on any bytes: a response is decoded or refused with {@link
 * InvalidChat}; a stream decodes without throwing, to the same events however its bytes are split
 * (tool-call ids drawn from a counter, so that runs compare); usage never throws; and any request
 * an OpenAI client can send encodes for Gemini or is refused with {@link InvalidChat}.
 */
class GeminiCodecFuzzTest {

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void decoders_anyBytes_refuseOrDecode(byte[] body) {
    try {
      GeminiCodec.decodeResponse(body, counter());
    } catch (InvalidChat refused) {
      // a bad upstream answer
    }
    GeminiCodec.usage(body);
    try {
      ChatRequest r = OpenAiChatCodec.decodeRequest(body);
      GeminiCodec.encodeRequest(r);
    } catch (InvalidChat refused) {
      // refused at the surface, or not expressible for Gemini: a 400 either way
    }
    List<ChatEvent> first = null;
    for (List<ByteString> chunks : FuzzChunks.splits(body)) {
      StreamDecoder d = new GeminiStreamDecoder(counter());
      List<ChatEvent> events = new ArrayList<>();
      for (ByteString c : chunks) {
        events.addAll(d.decode(c));
      }
      events.addAll(d.end());
      if (first == null) {
        first = events;
      } else {
        assertEquals(first, events, "stream events depend on the split");
      }
    }
  }

  private static Supplier<String> counter() {
    AtomicInteger n = new AtomicInteger();
    return () -> "call_" + n.incrementAndGet();
  }
}
