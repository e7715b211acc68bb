package io.sluice.node.tenant;

import io.sluice.persistence.TenantEvent.AdminActionRecorded;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.ReplicaId;
import org.apache.pekko.persistence.typed.ReplicationId;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * A tenant's audit trail: the {@link AdminActionRecorded} events of its journal, read with the
 * read journal the tenant list uses. The journal is the trail's only store, so it holds every
 * admin write that happened, and nothing else can drop one.
 */
public final class AuditLog {
  private final Function<String, CompletionStage<List<AdminActionRecorded>>> read;

  public AuditLog(Function<String, CompletionStage<List<AdminActionRecorded>>> read) {
    this.read = read;
  }

  /** Reads the single-region tenant journals ({@code Tenant|<id>}). */
  public static AuditLog fromJournal(ActorSystem<?> system, TenantIndexSettings settings) {
    return new AuditLog(tenantId -> records(system, settings, singleRegionId(tenantId)));
  }

  /**
   * Reads the journals that hold a tenant's trail with {@code regions}: with one region, {@code
   * Tenant|<id>}; with several, this region's replica {@code Tenant|<id>|<region>} (which also
   * holds the records replicated from the other regions, as far as they have arrived) after the
   * single-region journal of a tenant imported from before regions were configured.
   */
  public static AuditLog fromJournal(ActorSystem<?> system, TenantIndexSettings settings, RegionSettings regions) {
    if (!regions.multiRegion()) {
      return fromJournal(system, settings);
    }
    return new AuditLog(tenantId -> records(system, settings, singleRegionId(tenantId))
        .thenCombine(records(system, settings, regionalId(tenantId, regions.self())), (legacy, regional) -> {
          List<AdminActionRecorded> all = new ArrayList<>(legacy.size() + regional.size());
          all.addAll(legacy);
          all.addAll(regional);
          all.sort(Comparator.comparing(AdminActionRecorded::at)); // stable: each journal's order is kept
          return List.copyOf(all);
        }));
  }

  static String singleRegionId(String tenantId) {
    return PersistenceId.of(TenantEntity.ENTITY_KEY.name(), tenantId).id();
  }

  /** The persistence id of {@code region}'s replica of the tenant, as {@link ReplicatedTenantEntity} writes it. */
  static String regionalId(String tenantId, String region) {
    return new ReplicationId(TenantEntity.ENTITY_KEY.name(), tenantId, new ReplicaId(region)).persistenceId().id();
  }

  private static CompletionStage<List<AdminActionRecorded>> records(ActorSystem<?> system,
      TenantIndexSettings settings, String persistenceId) {
    CurrentEventsByPersistenceIdQuery query = PersistenceQuery.get(system.classicSystem())
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, settings.readJournal());
    return query.currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .filter(env -> env.event() instanceof AdminActionRecorded)
        .map(env -> (AdminActionRecorded) env.event())
        .runWith(Sink.seq(), system);
  }

  /** The tenant's recorded admin actions at or after {@code since}, oldest first, at most {@code limit}. */
  public CompletionStage<List<AdminActionRecorded>> since(String tenantId, Instant since, int limit) {
    return read.apply(tenantId).thenApply(all -> all.stream()
        .filter(a -> !a.at().isBefore(since)).limit(limit).toList());
  }
}
