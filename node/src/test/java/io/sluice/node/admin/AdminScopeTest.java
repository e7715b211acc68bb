package io.sluice.node.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.admin.AdminScope.Action;
import io.sluice.persistence.AdminRole;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class AdminScopeTest {
  private static final AdminScope ADMIN = new AdminScope("adm_1", AdminRole.ADMIN, List.of());
  private static final AdminScope READ_ONLY = new AdminScope("adm_2", AdminRole.READ_ONLY, List.of());
  private static final AdminScope TENANT_ADMIN = new AdminScope("adm_3", AdminRole.TENANT_ADMIN, List.of("acme"));

  /** What each role may do (on its own tenant, for a tenant-admin), written out rather than derived. */
  private static final Set<Action> READS = EnumSet.of(Action.READ_CLUSTER, Action.LIST_TENANTS, Action.READ_TENANT,
      Action.READ_USAGE, Action.READ_CIRCUITS, Action.LIST_KEYS, Action.READ_AUDIT);
  private static final Set<Action> TENANT_ADMIN_OWN = EnumSet.of(Action.READ_TENANT, Action.PATCH_LIMITS,
      Action.READ_USAGE, Action.LIST_KEYS, Action.ISSUE_KEY, Action.REVOKE_KEY, Action.READ_AUDIT);

  static Stream<Arguments> roleTimesAction() {
    return Stream.of(Action.values()).flatMap(a -> Stream.of(
        Arguments.of("root", AdminScope.ROOT, a, "acme", true),
        Arguments.of("admin", ADMIN, a, "acme", a != Action.MANAGE_ADMIN_KEYS),
        Arguments.of("read-only", READ_ONLY, a, "acme", READS.contains(a)),
        Arguments.of("tenant-admin own tenant", TENANT_ADMIN, a, "acme", TENANT_ADMIN_OWN.contains(a)),
        Arguments.of("tenant-admin other tenant", TENANT_ADMIN, a, "globex", false),
        Arguments.of("tenant-admin no tenant", TENANT_ADMIN, a, null, false)));
  }

  @ParameterizedTest(name = "{0} {2} -> {4}")
  @MethodSource("roleTimesAction")
  void allows_roleAndAction_matchesThePolicy(String name, AdminScope scope, Action action, String tenant,
      boolean expected) {
    assertEquals(expected, scope.allows(action, tenant));
  }

  @ParameterizedTest
  @EnumSource(AdminRole.class)
  void allows_anyScopedRole_neverManagesAdminKeys(AdminRole role) {
    AdminScope scope = new AdminScope("adm_x", role, List.of("acme"));
    assertFalse(scope.allows(Action.MANAGE_ADMIN_KEYS, null));
    assertFalse(scope.allows(Action.MANAGE_ADMIN_KEYS, "acme"));
    assertFalse(scope.root());
    assertTrue(AdminScope.ROOT.root());
  }
}
