package io.sluice.node.inference.chat;

/**
 * Tokens an upstream reported for one response.
 *
 * @param promptTokens every input token billed, cached ones included (Anthropic's input, cache
 *     creation and cache read tokens added up)
 * @param completionTokens output tokens (Gemini's thoughts included)
 * @param cacheReadTokens the part of {@code promptTokens} read from a prompt cache, 0 if unknown
 * @param cacheWriteTokens the part of {@code promptTokens} written to a prompt cache, 0 if unknown
 */
public record Usage(long promptTokens, long completionTokens, long cacheReadTokens, long cacheWriteTokens) {
  public static Usage of(long promptTokens, long completionTokens) {
    return new Usage(promptTokens, completionTokens, 0, 0);
  }
}
