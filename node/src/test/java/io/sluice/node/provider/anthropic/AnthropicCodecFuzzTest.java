package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.FuzzChunks;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.StreamTap;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * {@link AnthropicCodec}'s decoders and tap on any bytes: a request or a response is decoded or
 * refused with {@link InvalidChat}, and what is decoded encodes to a body that decodes to the same
 * value; a stream decodes without throwing to the same events however it is split; the tap passes
 * every byte on and reads the same usage whatever the split.
 */
class AnthropicCodecFuzzTest {
  private static final long DEFAULT_MAX_TOKENS = 4096;

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void decoders_anyBytes_refuseOrRoundTrip(byte[] body) {
    try {
      ChatRequest r = AnthropicCodec.decodeRequest(body);
      ChatRequest limited = r.maxTokens() < 0 ? r.withMaxTokens(DEFAULT_MAX_TOKENS) : r;
      // tool_choice is sent only with tools (Anthropic refuses it alone).
      ChatRequest expected = !r.tools().isEmpty() ? limited : new ChatRequest(limited.model(), limited.system(),
          limited.messages(), limited.tools(), null, limited.maxTokens(), limited.temperature(), limited.topP(),
          limited.stop(), limited.stream(), limited.includeUsage());
      try {
        assertEquals(expected, AnthropicCodec.decodeRequest(AnthropicCodec.encodeRequest(r, DEFAULT_MAX_TOKENS)),
            "request round trip");
      } catch (InvalidChat e) {
        throw new AssertionError("an encoded request does not decode: " + e.getMessage(), e);
      }
    } catch (InvalidChat refused) {
      // the 400 the surface answers
    }
    try {
      ChatResponse r = AnthropicCodec.decodeResponse(body);
      // An Anthropic message always carries usage: a response without any is written with zeros;
      // and an id: a response without one is written with the fresh id the encoder makes ("msg_x").
      String id = r.id() != null ? r.id() : "msg_x";
      ChatResponse expected = new ChatResponse(id, r.model(), r.content(), r.finishReason(),
          r.usage() != null ? r.usage() : Usage.of(0, 0));
      try {
        assertEquals(expected, AnthropicCodec.decodeResponse(AnthropicCodec.encodeResponse(r, prefix -> prefix + "x")),
            "response round trip");
      } catch (InvalidChat e) {
        throw new AssertionError("an encoded response does not decode: " + e.getMessage(), e);
      }
    } catch (InvalidChat refused) {
      // a bad upstream answer
    }
    AnthropicCodec.usage(body);
    List<ChatEvent> first = null;
    Usage usage = null;
    long content = -1;
    ByteString all = ByteString.fromArray(body);
    for (List<ByteString> chunks : FuzzChunks.splits(body)) {
      List<ChatEvent> events = decodeStream(AnthropicCodec.streamDecoder(), chunks);
      StreamTap tap = AnthropicCodec.tap();
      ByteString out = ByteString.emptyByteString();
      for (ByteString c : chunks) {
        out = out.concat(tap.onChunk(c));
      }
      out = out.concat(tap.flush());
      assertEquals(all, out, "the tap passes every byte on");
      if (first == null) {
        first = events;
        usage = tap.usage();
        content = tap.contentChunks();
      } else {
        assertEquals(first, events, "stream events depend on the split");
        assertEquals(usage, tap.usage(), "tap usage depends on the split");
        assertEquals(content, tap.contentChunks(), "tap content count depends on the split");
      }
    }
  }

  private static List<ChatEvent> decodeStream(StreamDecoder d, List<ByteString> chunks) {
    List<ChatEvent> events = new ArrayList<>();
    for (ByteString c : chunks) {
      events.addAll(d.decode(c));
    }
    events.addAll(d.end());
    return events;
  }
}
