package io.sluice.node.inference;

import io.sluice.node.admission.Demand;
import io.sluice.node.admission.Pricing;
import io.sluice.node.inference.chat.Usage;
import io.sluice.persistence.UsageCounters;

/**
 * What a request is charged. The upstream's reported usage when it reported one; otherwise the
 * reservation's prompt estimate, plus, for a stream, one token per event that carried generated
 * text (a stream cut off before its usage still pays for what it generated).
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
    long completion = reported != null ? reported.completionTokens() : contentEvents;
    return new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion));
  }
}
