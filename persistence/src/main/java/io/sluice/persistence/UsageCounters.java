package io.sluice.persistence;

/**
 * Usage in one window: requests, prompt and completion tokens, and cost in nano-USD. Nodes report
 * these cumulatively per window, so a repeated or reordered report is harmless.
 */
public record UsageCounters(long requests, long promptTokens, long completionTokens, long costNanos)
    implements CborSerializable {

  public static final UsageCounters ZERO = new UsageCounters(0, 0, 0, 0);

  public UsageCounters plus(UsageCounters o) {
    return new UsageCounters(requests + o.requests, promptTokens + o.promptTokens,
        completionTokens + o.completionTokens, costNanos + o.costNanos);
  }

  /** Field-wise maximum: merging two cumulative reports keeps the later (larger) one. */
  public UsageCounters max(UsageCounters o) {
    return new UsageCounters(Math.max(requests, o.requests), Math.max(promptTokens, o.promptTokens),
        Math.max(completionTokens, o.completionTokens), Math.max(costNanos, o.costNanos));
  }

  public long tokens() {
    return promptTokens + completionTokens;
  }
}
