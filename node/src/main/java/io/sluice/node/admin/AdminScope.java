package io.sluice.node.admin;

import io.sluice.persistence.AdminKeyState;
import io.sluice.persistence.AdminRole;
import java.util.List;

/**
 * Who is calling the admin API and what they may do: the policy every admin route is checked
 * against, kept pure so that each role × action is tested without a cluster.
 *
 * <ul>
 *   <li>root (SLUICE_ADMIN_KEY): everything, and alone manages admin keys;
 *   <li>{@code admin}: everything but admin keys;
 *   <li>{@code read-only}: every read, no write;
 *   <li>{@code tenant-admin}: for its listed tenants only, read the tenant, change its limits
 *       (not its models), issue, list and revoke its keys, and read its usage; nothing else.
 * </ul>
 */
public record AdminScope(String id, AdminRole role, List<String> tenants) {
  /** The root caller's id in the audit trail. */
  public static final AdminScope ROOT = new AdminScope("root", null, List.of());

  /** What an admin route does. */
  public enum Action {
    MANAGE_ADMIN_KEYS(false, false),
    READ_CLUSTER(true, false),
    LIST_TENANTS(true, false),
    CREATE_TENANT(false, false),
    READ_TENANT(true, true),
    PATCH_LIMITS(false, true),
    PATCH_MODELS(false, false),
    DISABLE_TENANT(false, false),
    READ_USAGE(true, true),
    READ_CIRCUITS(true, false),
    LIST_KEYS(true, true),
    ISSUE_KEY(false, true),
    REVOKE_KEY(false, true),
    READ_AUDIT(true, true);

    /** Whether it only reads. */
    public final boolean read;
    /** Whether a tenant-admin may do it on a tenant of its list. */
    public final boolean tenantAdmin;

    Action(boolean read, boolean tenantAdmin) {
      this.read = read;
      this.tenantAdmin = tenantAdmin;
    }
  }

  public static AdminScope of(AdminKeyState.AdminKey key) {
    return new AdminScope(key.keyId(), key.role(), key.tenants());
  }

  public boolean root() {
    return role == null;
  }

  /** Whether this caller may do {@code action} on {@code tenantId} (null for actions on no tenant). */
  public boolean allows(Action action, String tenantId) {
    if (root()) {
      return true;
    }
    if (action == Action.MANAGE_ADMIN_KEYS) {
      return false;
    }
    return switch (role) {
      case ADMIN -> true;
      case READ_ONLY -> action.read;
      case TENANT_ADMIN -> action.tenantAdmin && tenantId != null && tenants.contains(tenantId);
    };
  }
}
