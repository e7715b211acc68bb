package io.sluice.node.auth;

import io.sluice.persistence.KeyLimits;
import io.sluice.persistence.TenantState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a node needs of a tenant on the request path, derived once from the entity's state: its
 * unrevoked keys by hash, each with what the key itself allows ({@link KeyGrant}), and its allowed
 * models as a hash set, so checking a request is a map look-up, one long comparison for the
 * key's expiry and a set look-up. {@code revision} orders views: a node never replaces a view
 * with an older one.
 *
 * <p>The directory caches the tenant's view, with {@code key} null. Authentication hands the
 * request a view narrowed to its key ({@link #as}) when the key restricts models or has limits.
 */
public record TenantView(String tenantId, boolean usable, Map<String, KeyGrant> keys,
    Set<String> models, TenantState state, KeyGrant key) {

  /**
   * One unrevoked key as a request sees it: its id, when it expires (epoch millis, {@link
   * Long#MAX_VALUE} for never), the models it may use within the tenant's (null: all of them) and
   * its own limits (null: none). An expired key is refused by comparing the expiry with the
   * node's clock on each request, so expiry needs no message to reach any node.
   */
  public record KeyGrant(String keyId, long expiresAtMillis, Set<String> models, KeyLimits limits) {

    /** Whether the key asks more of a request than the tenant does. */
    public boolean restricts() {
      return models != null || (limits != null && limits.limited());
    }
  }

  /** A tenant that does not exist, as the directory caches it (briefly) to spare the entity. */
  public static TenantView missing(String tenantId) {
    return new TenantView(tenantId, false, Map.of(), Set.of(), TenantState.EMPTY, null);
  }

  public static TenantView of(String tenantId, TenantState state) {
    if (!state.exists()) {
      return missing(tenantId);
    }
    Map<String, KeyGrant> keys = new HashMap<>();
    for (TenantState.KeyRecord k : state.keys().values()) {
      if (k.active()) {
        keys.put(k.keyHash(), new KeyGrant(k.keyId(),
            k.expiresAt() == null ? Long.MAX_VALUE : k.expiresAt().toEpochMilli(),
            k.models() == null ? null : Set.copyOf(k.models()), k.limits()));
      }
    }
    List<String> models = state.models();
    return new TenantView(tenantId, state.enabled(), Map.copyOf(keys),
        models == null ? null : Set.copyOf(models), state, null);
  }

  public long revision() {
    return state.revision();
  }

  /** The key with hash {@code keyHash} when it may be used at {@code nowMillis}, else null. */
  public KeyGrant grant(String keyHash, long nowMillis) {
    if (!usable) {
      return null;
    }
    KeyGrant k = keys.get(keyHash);
    return k == null || nowMillis >= k.expiresAtMillis() ? null : k;
  }

  /**
   * Whether the view has the key among the tenant's unrevoked keys (expired or not): a key it
   * does not have may be newer than the view, or revoked, or no key at all.
   */
  public boolean knows(String keyHash) {
    return keys.containsKey(keyHash);
  }

  /** Whether the key (by its hash) may be used at {@code nowMillis}. */
  public boolean accepts(String keyHash, long nowMillis) {
    return grant(keyHash, nowMillis) != null;
  }

  /** Whether the key (by its hash) may be used now, by the system clock (the request path passes its own clock). */
  public boolean accepts(String keyHash) {
    return accepts(keyHash, System.currentTimeMillis());
  }

  /** This view for a request made with {@code grant}: narrowed to it when it restricts anything. */
  public TenantView as(KeyGrant grant) {
    return grant.restricts() ? new TenantView(tenantId, usable, keys, models, state, grant) : this;
  }

  /**
   * Whether the request may use the model: the tenant allows it ({@code models == null} means
   * every model) and so does the request's key, when it names models.
   */
  public boolean allows(String model) {
    return (models == null || models.contains(model))
        && (key == null || key.models() == null || key.models().contains(model));
  }
}
