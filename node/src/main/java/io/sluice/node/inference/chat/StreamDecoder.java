package io.sluice.node.inference.chat;

import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Turns one upstream protocol's streamed body (SSE, or Bedrock's binary frames) into neutral
 * {@link ChatEvent}s as the bytes arrive, split anywhere. Stateful and not thread-safe: one per
 * stream, fed in order.
 */
public interface StreamDecoder {

  /** The events that {@code chunk} completes, in order; empty when it completes none. */
  List<ChatEvent> decode(ByteString chunk);

  /** The body ended: the events still held (an unterminated last event), in order. */
  List<ChatEvent> end();
}
