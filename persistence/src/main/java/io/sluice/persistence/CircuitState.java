package io.sluice.persistence;

import java.time.Instant;

/**
 * A tenant's circuit for one deployment, opened when that deployment answered this tenant's
 * traffic with 401, 403 or 429 often enough. Open until {@code openUntil}, then half-open: the
 * next success closes it, the next failure opens it again.
 *
 * @param lastStatus the upstream status that opened it, and {@code lastError} its message
 */
public record CircuitState(boolean open, Instant openUntil, int lastStatus, String lastError)
    implements CborSerializable {

  public static final CircuitState CLOSED = new CircuitState(false, Instant.EPOCH, 0, null);

  /** closed, open or half_open at {@code now}. */
  public String status(Instant now) {
    if (!open) {
      return "closed";
    }
    return now.isBefore(openUntil) ? "open" : "half_open";
  }
}
