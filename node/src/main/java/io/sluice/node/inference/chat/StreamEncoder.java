package io.sluice.node.inference.chat;

import org.apache.pekko.util.ByteString;

/**
 * Renders neutral {@link ChatEvent}s as one client protocol's stream (OpenAI chunks, Anthropic
 * events). Stateful and not thread-safe: one per stream, fed in order. It may hold an event back
 * until a later one arrives (Anthropic's {@code message_delta} waits for the usage).
 */
public interface StreamEncoder {

  /** The bytes to send for {@code event}; empty when it sends nothing yet. */
  ByteString encode(ChatEvent event);

  /** The stream ended normally: whatever was held, and the protocol's closing bytes. */
  ByteString end();
}
