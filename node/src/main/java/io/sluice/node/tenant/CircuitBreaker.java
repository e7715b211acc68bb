package io.sluice.node.tenant;

import io.sluice.node.tenant.TenantCommand.ReportUpstream;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.CircuitClosed;
import io.sluice.persistence.TenantEvent.CircuitOpened;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/**
 * A tenant's circuit decisions for its own region, kept apart from the entity that persists them:
 * what a node's report of the tenant's traffic on a deployment changes. {@code threshold}
 * tenant-specific refusals (401, 403, 429) in a row open the circuit for at least {@code
 * openFor}, or the upstream's Retry-After when longer; once that has passed the circuit is
 * half-open, and the next success closes it while the next refusal opens it again at once. An
 * open circuit ignores late answers of requests sent before it opened.
 *
 * <p>The failure counts are transient (one instance per entity incarnation): losing them only
 * delays an opening. The events are the region's own; other regions' circuits are never decided
 * here, only read ({@code io.sluice.node.routing.CircuitGate}).
 */
public final class CircuitBreaker {
  private final int threshold;
  private final Duration openFor;
  private final InstantSource clock;
  /** Tenant-specific failures per deployment since the last success or opening. */
  private final Map<String, Integer> failures = new HashMap<>();

  public CircuitBreaker(int threshold, Duration openFor, InstantSource clock) {
    if (threshold < 1) {
      throw new IllegalArgumentException("sluice.circuit threshold must be at least 1, was " + threshold);
    }
    this.threshold = threshold;
    this.openFor = openFor;
    this.clock = clock;
  }

  public CircuitBreaker(QuotaSettings quota, InstantSource clock) {
    this(quota.circuitThreshold(), quota.circuitOpenFor(), clock);
  }

  /**
   * The event {@code report} leads to given the region's circuits, or null when it changes
   * nothing. Counts the failure either way.
   */
  public TenantEvent onReport(Map<String, CircuitState> circuits, ReportUpstream report) {
    Instant now = clock.instant();
    String deployment = report.deployment();
    CircuitState circuit = circuits.getOrDefault(deployment, CircuitState.CLOSED);
    if (report.success()) {
      failures.remove(deployment);
      if (!circuit.open() || now.isBefore(circuit.openUntil())) {
        return null; // only a half-open circuit closes; an open one ignores late successes
      }
      return new CircuitClosed(deployment, now);
    }
    if (report.status() != 401 && report.status() != 403 && report.status() != 429) {
      return null;
    }
    boolean halfOpen = circuit.open() && !now.isBefore(circuit.openUntil());
    if (circuit.open() && !halfOpen) {
      return null; // already open: answers of requests sent before it opened
    }
    int count = failures.merge(deployment, 1, Integer::sum);
    if (!halfOpen && count < threshold) {
      return null;
    }
    failures.remove(deployment);
    Duration retryAfter = Duration.ofMillis(report.retryAfterMillis());
    Duration open = openFor.compareTo(retryAfter) >= 0 ? openFor : retryAfter;
    return new CircuitOpened(deployment, report.status(), report.error(), now.plus(open), now);
  }
}
