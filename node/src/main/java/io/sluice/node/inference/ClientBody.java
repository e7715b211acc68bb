package io.sluice.node.inference;

import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;

/**
 * A client's request body as its surface scanned it: the few fields the pipeline decides on, the
 * bytes to pass through to a deployment of the same protocol, and the neutral request for a
 * deployment of another, decoded only when one is asked for.
 */
public interface ClientBody {

  /** The protocol the body is written in. */
  Protocol protocol();

  Operation operation();

  /** The model the client named. */
  String model();

  /** Whether the client asked for a stream. */
  boolean stream();

  /** Whether the client asked for usage in its stream (OpenAI's stream_options); true where usage always comes. */
  boolean includeUsage();

  /** The client's output limit, or -1 when it set none. */
  long maxTokens();

  /**
   * The prompt's tokens, counted on first call (after the cheap checks, so a refused request
   * costs no tokenizer time) and remembered.
   */
  long promptTokens();

  /**
   * The body for a deployment of the same protocol: the client's bytes, with only the model
   * replaced (and whatever the gateway must ask of such an upstream, such as stream usage).
   */
  byte[] passthrough(String upstreamModel);

  /** The neutral request, decoded on first call and remembered. */
  ChatRequest chat() throws InvalidChat;
}
