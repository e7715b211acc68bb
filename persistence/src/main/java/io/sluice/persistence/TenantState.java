package io.sluice.persistence;

import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tenant's durable state, rebuilt from {@link TenantEvent}s and stored as the snapshot.
 *
 * <p>{@link #apply} is the one pure event handler: it never reads a clock or does I/O, so replay
 * after a restart gives back exactly this state. {@code revision} counts applied events; nodes use
 * it to never let an older view of the tenant replace a newer one.
 *
 * @param tenantId  the tenant, or null before creation
 * @param models    allowed model names, or null for all models
 * @param keys      issued keys by key id, including revoked ones (for listing and audit)
 */
public record TenantState(
    String tenantId,
    boolean enabled,
    TenantLimits limits,
    List<String> models,
    Map<String, KeyRecord> keys,
    Instant createdAt,
    long revision) implements CborSerializable {

  /** One issued key: its id, its SHA-256 hash, when it was issued and, if so, revoked. */
  public record KeyRecord(String keyId, String keyHash, Instant createdAt, Instant revokedAt)
      implements CborSerializable {
    public boolean active() {
      return revokedAt == null;
    }
  }

  /** The state of a tenant that was never created. */
  public static final TenantState EMPTY =
      new TenantState(null, false, TenantLimits.UNLIMITED, null, Map.of(), null, 0);

  public boolean exists() {
    return tenantId != null;
  }

  /** Returns the state after {@code event}. Pure. */
  public TenantState apply(TenantEvent event) {
    long rev = revision + 1;
    if (event instanceof TenantCreated e) {
      return new TenantState(e.tenantId(), true, e.limits(), copy(e.models()), Map.of(), e.at(), rev);
    } else if (event instanceof LimitsChanged e) {
      return new TenantState(tenantId, enabled, e.limits(), models, keys, createdAt, rev);
    } else if (event instanceof ModelsChanged e) {
      return new TenantState(tenantId, enabled, limits, copy(e.models()), keys, createdAt, rev);
    } else if (event instanceof TenantDisabled) {
      return new TenantState(tenantId, false, limits, models, keys, createdAt, rev);
    } else if (event instanceof KeyIssued e) {
      Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
      next.put(e.keyId(), new KeyRecord(e.keyId(), e.keyHash(), e.at(), null));
      return new TenantState(tenantId, enabled, limits, models, Map.copyOf(next), createdAt, rev);
    } else if (event instanceof KeyRevoked e) {
      KeyRecord old = keys.get(e.keyId());
      if (old == null || !old.active()) {
        return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev);
      }
      Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
      next.put(e.keyId(), new KeyRecord(old.keyId(), old.keyHash(), old.createdAt(), e.at()));
      return new TenantState(tenantId, enabled, limits, models, Map.copyOf(next), createdAt, rev);
    }
    throw new IllegalArgumentException("unknown event " + event.getClass().getName());
  }

  private static List<String> copy(List<String> models) {
    return models == null ? null : List.copyOf(models);
  }
}
