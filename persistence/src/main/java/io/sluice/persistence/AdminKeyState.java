package io.sluice.persistence;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin keys ever issued, by key id, revoked ones included (so an id is never reused and the
 * list shows when a key stopped working). A pure function of the {@link AdminKeyEvent}s.
 */
public record AdminKeyState(Map<String, AdminKey> keys) implements CborSerializable {
  public static final AdminKeyState EMPTY = new AdminKeyState(Map.of());

  public AdminKeyState {
    keys = Map.copyOf(keys);
  }

  /** One admin key: its hash, role, tenants (for a tenant-admin), and when it was issued and revoked. */
  public record AdminKey(String keyId, String keyHash, AdminRole role, List<String> tenants, Instant createdAt,
      Instant revokedAt) implements CborSerializable {
    public AdminKey {
      tenants = tenants == null ? List.of() : List.copyOf(tenants);
    }

    public boolean active() {
      return revokedAt == null;
    }
  }

  public AdminKeyState apply(AdminKeyEvent event) {
    Map<String, AdminKey> next = new LinkedHashMap<>(keys);
    if (event instanceof AdminKeyEvent.AdminKeyIssued e) {
      next.put(e.keyId(), new AdminKey(e.keyId(), e.keyHash(), e.role(), e.tenants(), e.at(), null));
    } else if (event instanceof AdminKeyEvent.AdminKeyRevoked e) {
      AdminKey k = next.get(e.keyId());
      if (k != null && k.active()) {
        next.put(e.keyId(), new AdminKey(k.keyId(), k.keyHash(), k.role(), k.tenants(), k.createdAt(), e.at()));
      }
    }
    return new AdminKeyState(next);
  }
}
