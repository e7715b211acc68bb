package io.sluice.persistence;

/**
 * A limited quantity: what a lease grants and a limit caps. Each lives in one window kind. Spend
 * is counted in nano-USD (1e-9 USD) so that prices of a few cents per million tokens stay exact
 * enough while fitting a long. Stored by name: do not rename.
 */
public enum Quantity {
  REQUESTS_PER_MINUTE(WindowKind.MINUTE),
  TOKENS_PER_MINUTE(WindowKind.MINUTE),
  TOKENS_PER_DAY(WindowKind.DAY),
  SPEND_PER_DAY(WindowKind.DAY),
  SPEND_PER_MONTH(WindowKind.MONTH);

  private final WindowKind window;

  Quantity(WindowKind window) {
    this.window = window;
  }

  public WindowKind window() {
    return window;
  }

  /** How much of this quantity {@code usage} consumed. */
  public long of(UsageCounters usage) {
    return switch (this) {
      case REQUESTS_PER_MINUTE -> usage.requests();
      case TOKENS_PER_MINUTE, TOKENS_PER_DAY -> usage.promptTokens() + usage.completionTokens();
      case SPEND_PER_DAY, SPEND_PER_MONTH -> usage.costNanos();
    };
  }
}
