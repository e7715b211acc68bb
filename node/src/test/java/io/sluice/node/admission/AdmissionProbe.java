package io.sluice.node.admission;

import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;

/**
 * What tests of other packages may read of a node's admission state: the usage this node
 * recorded for a tenant (every finished ticket adds to it once) and the tenant's concurrency
 * slots held free on this node (a finished ticket gives its slot back there).
 */
public final class AdmissionProbe {
  private AdmissionProbe() {}

  /** The usage this node recorded for {@code tenantId} in its current {@code kind} window; zero before any. */
  public static UsageCounters used(Admission admission, String tenantId, WindowKind kind) {
    TenantAdmission t = admission.tenantAdmission(tenantId);
    TenantAdmission.WindowUsage u = t == null ? null : t.usage.get(kind.ordinal());
    return u == null ? new UsageCounters(0, 0, 0, 0) : u.snapshot();
  }

  /** The tenant's concurrency slots this node holds and no request is using. */
  public static long freeSlots(Admission admission, String tenantId) {
    TenantAdmission t = admission.tenantAdmission(tenantId);
    return t == null ? 0 : t.freeSlots.get();
  }
}
