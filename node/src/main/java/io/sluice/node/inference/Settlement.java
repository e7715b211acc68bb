package io.sluice.node.inference;

import io.sluice.node.admission.Demand;
import io.sluice.node.admission.Pricing;
import io.sluice.node.inference.chat.Usage;
import io.sluice.persistence.UsageCounters;

/**
 * What a request is charged. The upstream's reported usage when it reported one; otherwise the
 * reservation's prompt estimate, plus, for a stream, one token per event that carried generated
 * text (a stream cut off before its usage still pays for what it generated).
 *
 * <p>A stream is charged at least one completion token per content event it delivered: every such
 * event carries generated text, so a reported count below the events is a count from before them.
 * Anthropic's {@code message_start} reports {@code output_tokens: 1} before any text, and the final
 * count comes only in {@code message_delta}; a stream cancelled or cut in between must still pay for
 * the deltas it delivered. A complete stream's final count is never below its events, so it is
 * charged exactly.
 */
final class Settlement {
  /** A request that produced nothing: the request itself, no tokens. */
  static final UsageCounters NOTHING_GENERATED = new UsageCounters(1, 0, 0, 0);

  private Settlement() {}

  static UsageCounters whole(Usage reported, Demand demand, Pricing price) {
    long prompt = reported != null ? reported.promptTokens() : demand.promptTokens();
    long completion = reported != null ? reported.completionTokens() : demand.completionTokens();
    return new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion));
  }

  static UsageCounters stream(Usage reported, long contentEvents, Demand demand, Pricing price) {
    long prompt = reported != null ? reported.promptTokens() : demand.promptTokens();
    long completion = reported != null ? Math.max(reported.completionTokens(), contentEvents) : contentEvents;
    return new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion));
  }
}
