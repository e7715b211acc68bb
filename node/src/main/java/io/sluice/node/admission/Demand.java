package io.sluice.node.admission;

/**
 * What one request reserves before it is forwarded: one request, an estimate of its tokens
 * (prompt counted with a tokenizer, plus max_tokens or the configured default), and the cost of
 * those tokens in nano-USD. Replaced by the actual usage when the response ends.
 */
public record Demand(long promptTokens, long completionTokens, long costNanos) {
  public long tokens() {
    return promptTokens + completionTokens;
  }
}
