package io.sluice.node.inference;

import io.sluice.node.auth.TenantView;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.Deployment;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.CircuitState;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Tells a tenant's entity what its traffic met on a deployment: a tenant-specific refusal (401,
 * 403, 429) counts towards the tenant's circuit for that deployment, and a success through a
 * half-open circuit closes it. Fire-and-forget: the request never waits for the entity.
 */
public class CircuitReports {
  private final ClusterSharding sharding;

  public CircuitReports(ClusterSharding sharding) {
    this.sharding = sharding;
  }

  /** Reports a failed attempt, when its class is specific to the tenant. */
  public void failed(TenantView view, Deployment d, int status, ErrorClass error, Optional<Duration> retryAfter) {
    if (!error.tenantSpecific()) {
      return;
    }
    tell(view, new TenantCommand.ReportUpstream(d.name(), status, "HTTP " + status,
        retryAfter.map(Duration::toMillis).orElse(0L), false));
  }

  /** Reports a success when the tenant's circuit for {@code d} is open (the success was a probe). */
  public void succeeded(TenantView view, Deployment d) {
    CircuitState c = view.state().circuits().get(d.name());
    if (c != null && c.open()) {
      tell(view, new TenantCommand.ReportUpstream(d.name(), 200, null, 0, true));
    }
  }

  protected void tell(TenantView view, TenantCommand.ReportUpstream report) {
    sharding.entityRefFor(TenantEntity.ENTITY_KEY, view.tenantId()).tell(report);
  }
}
