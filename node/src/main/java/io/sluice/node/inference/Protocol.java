package io.sluice.node.inference;

/**
 * A wire protocol, spoken by a client surface, an upstream provider, or both. When the client's
 * surface and the deployment's provider speak the same one, the request and its answer pass
 * through as bytes; otherwise both are translated through the neutral chat model.
 */
public enum Protocol {
  /** OpenAI's chat completions and embeddings (and every OpenAI-compatible server). */
  OPENAI,
  /** Anthropic's Messages API. */
  ANTHROPIC,
  /**
   * Google's Gemini generateContent API (AI Studio and Vertex). Spoken by a provider only: no
   * surface speaks it, so a Gemini deployment always translates.
   */
  GEMINI,
  /** AWS Bedrock's Converse API (upstream only: no client surface speaks it). */
  BEDROCK,
  /**
   * OpenAI's Responses API ({@code /v1/responses}). Only OpenAI's own API (and Azure's v1 API)
   * serves it, so it passes through only to those; for any other provider it is translated.
   */
  OPENAI_RESPONSES
}
