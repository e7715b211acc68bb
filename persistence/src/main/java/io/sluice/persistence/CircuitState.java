package io.sluice.persistence;

import java.time.Instant;

/**
 * A tenant's circuit for one deployment, opened when that deployment answered this tenant's
 * traffic with 401, 403 or 429 often enough. Open until {@code openUntil}, then half-open: the
 * next success closes it, the next failure opens it again.
 *
 * <p>Circuits are keyed by (region, deployment) and written only by their region. A tenant's state
 * holds its own region's circuits under the deployment's name (the only ones with one region) and,
 * in a multi-region replica, every other region's under {@link #regionKey}; those are only read,
 * by nodes honouring another region's circuit for a {@code shared} deployment.
 *
 * @param lastStatus the upstream status that opened it, and {@code lastError} its message
 */
public record CircuitState(boolean open, Instant openUntil, int lastStatus, String lastError)
    implements CborSerializable {

  public static final CircuitState CLOSED = new CircuitState(false, Instant.EPOCH, 0, null);

  /** Separates a deployment's name from another region's name in {@link #regionKey}. */
  public static final String REGION_SEPARATOR = "@";

  /** The key of region {@code region}'s circuit for {@code deployment} in another region's replica. */
  public static String regionKey(String deployment, String region) {
    return deployment + REGION_SEPARATOR + region;
  }

  /** closed, open or half_open at {@code now}. */
  public String status(Instant now) {
    if (!open) {
      return "closed";
    }
    return now.isBefore(openUntil) ? "open" : "half_open";
  }
}
