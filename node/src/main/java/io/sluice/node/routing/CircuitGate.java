package io.sluice.node.routing;

import io.sluice.persistence.CircuitState;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;

/**
 * Whether a tenant's circuit keeps a request off a deployment, as a node decides it from the
 * tenant's state it holds (so never a remote call). It exists to keep the one rule in a pure place:
 * a deployment is blocked while this region's circuit for it is open, and, for a deployment marked
 * {@code shared} (one provider account used from every region), also while any other region's
 * circuit for it is open. A half-open circuit blocks nothing: its region lets the next request
 * probe, and another region's half-open one lets this region's traffic through as well, until
 * that region closes it or opens it again (which replication then brings here).
 */
public final class CircuitGate {
  private final List<String> others;
  private final InstantSource clock;

  /**
   * @param self this node's region (null when single-region)
   * @param regions every region (empty when single-region)
   * @param clock the wall clock the circuits' {@code openUntil} is compared with
   */
  public CircuitGate(String self, List<String> regions, InstantSource clock) {
    this.others = regions.stream().filter(r -> !r.equals(self)).toList();
    this.clock = clock;
  }

  /** Whether {@code d} may take the tenant's request now, given the tenant's circuits. */
  public boolean allows(Map<String, CircuitState> circuits, Deployment d) {
    if (circuits.isEmpty()) {
      return true;
    }
    Instant now = clock.instant();
    if (open(circuits.get(d.name()), now)) {
      return false;
    }
    if (d.shared()) {
      for (String region : others) {
        if (open(circuits.get(CircuitState.regionKey(d.name(), region)), now)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean open(CircuitState c, Instant now) {
    return c != null && c.open() && now.isBefore(c.openUntil());
  }
}
