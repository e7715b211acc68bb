package io.sluice.node.tenant;

import io.sluice.node.tenant.TenantCommand.IssueKey;
import io.sluice.node.tenant.TenantCommand.Rejection;
import io.sluice.node.tenant.TenantCommand.RotateKey;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.KeyExpirySet;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantState;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The key issue and rotation decisions both tenant entities share (single-region and
 * replicated), so the two write the same events for the same command. Pure: the caller passes
 * the time it stamps the events with.
 */
final class KeyRotation {
  private KeyRotation() {}

  /** The event that issues the key of {@code c} at {@code now}. */
  static KeyIssued issued(IssueKey c, Instant now) {
    return new KeyIssued(c.keyId(), c.keyHash(), now, c.spec().expiresAt(), c.spec().models(), c.spec().limits());
  }

  /**
   * Why {@code c} is refused on {@code s} at {@code now}, or null when it is not: the old key
   * must exist and be usable now, the tenant enabled, and the new key id unused ({@code
   * tombstones}: ids revoked anywhere, which a replicated tenant never reuses).
   */
  static Rejection refusal(TenantState s, RotateKey c, Set<String> tombstones, Instant now) {
    TenantState.KeyRecord old = s.keys().get(c.keyId());
    if (old == null) {
      return Rejection.KEY_NOT_FOUND;
    }
    if (!old.usableAt(now)) {
      return Rejection.KEY_INACTIVE;
    }
    if (!s.enabled()) {
      return Rejection.DISABLED;
    }
    if (s.keys().containsKey(c.newKeyId()) || tombstones.contains(c.newKeyId())) {
      return Rejection.ALREADY_EXISTS;
    }
    return null;
  }

  /**
   * A rotation's events: the new key, with the old key's models and limits, then the old key's
   * expiry brought forward to the end of the overlap (never later than it already was).
   */
  static List<TenantEvent> events(TenantState s, RotateKey c, Instant now) {
    TenantState.KeyRecord old = s.keys().get(c.keyId());
    Instant end = TenantState.KeyRecord.earliest(old.expiresAt(), now.plusMillis(c.overlapMillis()));
    return List.of(new KeyIssued(c.newKeyId(), c.newKeyHash(), now, c.newExpiresAt(), old.models(), old.limits()),
        new KeyExpirySet(c.keyId(), end, now));
  }
}
