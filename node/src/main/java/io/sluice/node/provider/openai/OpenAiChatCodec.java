package io.sluice.node.provider.openai;

import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.StreamEncoder;

/**
 * OpenAI chat completions in and out of the neutral chat model, for the two places where the
 * OpenAI protocol meets another one: the OpenAI surface over a non-OpenAI deployment (decode the
 * client's request, render responses and streams) and an OpenAI-compatible deployment behind
 * another surface (encode the request, decode responses and streams). When surface and upstream
 * both speak OpenAI the bytes pass through and none of this runs.
 *
 * <p>Stateless and thread-safe; the stream codecs it makes are one per stream.
 */
public final class OpenAiChatCodec {
  private OpenAiChatCodec() {}

  /** A client's chat completions request, in neutral form; InvalidChat names the bad field. */
  public static ChatRequest decodeRequest(byte[] body) throws InvalidChat {
    return ChatRequestReader.read(body);
  }

  /** A neutral request as a chat completions body for an OpenAI-compatible upstream. */
  public static byte[] encodeRequest(ChatRequest r) {
    return ChatRequestWriter.write(r);
  }

  /** An upstream's chat.completion (its first choice), in neutral form. */
  public static ChatResponse decodeResponse(byte[] body) throws InvalidChat {
    return ChatResponseCodec.read(body);
  }

  /** A neutral response as the chat.completion object OpenAI's SDKs parse, created now. */
  public static byte[] encodeResponse(ChatResponse r) {
    return ChatResponseCodec.write(r, ChatWire.nowSeconds());
  }

  /** A decoder of one upstream chat.completion.chunk SSE stream. */
  public static StreamDecoder streamDecoder() {
    return new ChatStreamDecoder();
  }

  /**
   * An encoder of one client stream.
   *
   * @param includeUsage the client asked for the usage chunk (stream_options.include_usage)
   */
  public static StreamEncoder streamEncoder(boolean includeUsage) {
    return new ChatStreamEncoder(includeUsage, ChatWire.nowSeconds());
  }
}
