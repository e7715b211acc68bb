package io.sluice.node.tenant;

import io.sluice.persistence.TenantEvent.AdminActionRecorded;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
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
    return new AuditLog(tenantId -> {
      CurrentEventsByPersistenceIdQuery query = PersistenceQuery.get(system.classicSystem())
          .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, settings.readJournal());
      return query.currentEventsByPersistenceId(PersistenceId.of(TenantEntity.ENTITY_KEY.name(), tenantId).id(),
              0L, Long.MAX_VALUE)
          .filter(env -> env.event() instanceof AdminActionRecorded)
          .map(env -> (AdminActionRecorded) env.event())
          .runWith(Sink.seq(), system);
    });
  }

  /** The tenant's recorded admin actions at or after {@code since}, oldest first, at most {@code limit}. */
  public CompletionStage<List<AdminActionRecorded>> since(String tenantId, Instant since, int limit) {
    return read.apply(tenantId).thenApply(all -> all.stream()
        .filter(a -> !a.at().isBefore(since)).limit(limit).toList());
  }
}
