package io.sluice.node.auth;

import io.sluice.persistence.TenantState;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a node needs of a tenant on the request path, derived once from the entity's state: the
 * hashes of its active keys and its allowed models as hash sets, so checking a request is two set
 * look-ups. {@code revision} orders views: a node never replaces a view with an older one.
 */
public record TenantView(String tenantId, boolean usable, Set<String> activeKeyHashes,
    Set<String> models, TenantState state) {

  /** A tenant that does not exist, as the directory caches it (briefly) to spare the entity. */
  public static TenantView missing(String tenantId) {
    return new TenantView(tenantId, false, Set.of(), Set.of(), TenantState.EMPTY);
  }

  public static TenantView of(String tenantId, TenantState state) {
    if (!state.exists()) {
      return missing(tenantId);
    }
    Set<String> hashes = new HashSet<>();
    for (TenantState.KeyRecord k : state.keys().values()) {
      if (k.active()) {
        hashes.add(k.keyHash());
      }
    }
    List<String> models = state.models();
    return new TenantView(tenantId, state.enabled(), Set.copyOf(hashes),
        models == null ? null : Set.copyOf(models), state);
  }

  public long revision() {
    return state.revision();
  }

  /** Whether the key (by its hash) may be used now. */
  public boolean accepts(String keyHash) {
    return usable && activeKeyHashes.contains(keyHash);
  }

  /** Whether the tenant may use the model ({@code models == null} means every model). */
  public boolean allows(String model) {
    return models == null || models.contains(model);
  }
}
