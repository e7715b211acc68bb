package io.sluice.node.inference;

/**
 * What a request asks an upstream to do, whatever protocol it came in: each provider maps it to
 * its own endpoint, or refuses it when it has none.
 */
public enum Operation {
  /** Generate a reply to a conversation (OpenAI chat completions, Anthropic messages). */
  CHAT,
  /** Embed text (OpenAI embeddings). */
  EMBEDDINGS,
  /** Continue a prompt (OpenAI's legacy completions); only OpenAI-compatible deployments serve it. */
  COMPLETIONS
}
