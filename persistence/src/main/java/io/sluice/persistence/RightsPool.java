package io.sluice.persistence;

/**
 * What regions hold escrow rights to and move between them: each windowed {@link Quantity}, and
 * concurrency slots, which live in no window (their window id is always {@link #NO_WINDOW}). Its
 * own enum rather than a new {@link Quantity}, because every quantity loop in the ledger would
 * otherwise meet a value that has no window. Stored by name: do not rename.
 */
public enum RightsPool {
  REQUESTS_PER_MINUTE(Quantity.REQUESTS_PER_MINUTE),
  TOKENS_PER_MINUTE(Quantity.TOKENS_PER_MINUTE),
  TOKENS_PER_DAY(Quantity.TOKENS_PER_DAY),
  SPEND_PER_DAY(Quantity.SPEND_PER_DAY),
  SPEND_PER_MONTH(Quantity.SPEND_PER_MONTH),
  CONCURRENCY(null);

  /** The window id of the {@link #CONCURRENCY} pool: slots are held until they are moved back. */
  public static final long NO_WINDOW = 0;

  private final Quantity quantity;

  RightsPool(Quantity quantity) {
    this.quantity = quantity;
  }

  /** The quantity, or null for {@link #CONCURRENCY}. */
  public Quantity quantity() {
    return quantity;
  }

  /** The window kind the pool lives in, or null for {@link #CONCURRENCY}. */
  public WindowKind window() {
    return quantity == null ? null : quantity.window();
  }

  public static RightsPool of(Quantity q) {
    return valueOf(q.name());
  }
}
