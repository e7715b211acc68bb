package io.sluice.node.inference;

/**
 * Counts the tokens of a text, for the reservation a request makes before it is forwarded. Every
 * surface's scanner counts its prompt with one; {@link #NO_COUNT} skips counting.
 */
@FunctionalInterface
public interface TokenCounter {
  /** A counter that counts nothing: for scans that only need the fields. */
  TokenCounter NO_COUNT = text -> 0;

  int count(String text);
}
