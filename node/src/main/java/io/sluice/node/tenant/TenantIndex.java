package io.sluice.node.tenant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The ids of all tenants, for {@code GET /admin/v1/tenants}: read from the journal, which is the
 * one place that knows every tenant (a tenant exists once its first event is stored, and events
 * are only stored for created tenants). The journal's persistence-id query (a scan of the
 * embedded journal's ids, Cassandra's {@code all_persistence_ids} table) is run at most once per
 * {@code refresh} and shared by the calls in between; a tenant created through this node is
 * added at once, one created through another node shows after the next refresh.
 *
 * <p>No registry of its own: that would be a second stored record of what the journal already
 * holds, and would miss the tenants created before it existed.
 */
public final class TenantIndex {
  private static final String PREFIX = TenantEntity.ENTITY_KEY.name() + "|";

  private final Supplier<CompletionStage<List<String>>> load;
  private final LongSupplier nanoTime;
  private final long refreshNanos;
  private final AtomicReference<Loaded> current = new AtomicReference<>();

  /** The sorted ids as of {@code atNanos}; {@code loading} is the refresh under way, if any. */
  private record Loaded(String[] ids, long atNanos, CompletableFuture<String[]> loading) {}

  /** A page of ids: those on it, how many match in all, and whether more follow. */
  public record Page(List<String> ids, int total, boolean hasMore) {}

  public TenantIndex(Supplier<CompletionStage<List<String>>> persistenceIds, TenantIndexSettings settings,
      LongSupplier nanoTime) {
    this.load = persistenceIds;
    this.nanoTime = nanoTime;
    this.refreshNanos = settings.refresh().toNanos();
  }

  /** An index over the journal's persistence ids, through the read journal named in settings. */
  public static TenantIndex fromJournal(ActorSystem<?> system, TenantIndexSettings settings) {
    return new TenantIndex(() -> {
      CurrentPersistenceIdsQuery query = PersistenceQuery.get(system.classicSystem())
          .getReadJournalFor(CurrentPersistenceIdsQuery.class, settings.readJournal());
      return query.currentPersistenceIds().runWith(Sink.seq(), system);
    }, settings, System::nanoTime);
  }

  /**
   * The ids after {@code after} (exclusive; null from the start) that contain {@code search}
   * (case-insensitive; null or empty matches all), at most {@code limit} of them, in id order.
   */
  public CompletionStage<Page> page(String search, String after, int limit) {
    String needle = search == null ? "" : search.toLowerCase(Locale.ROOT);
    return ids().thenApply(all -> {
      List<String> out = new ArrayList<>(Math.min(limit, 256));
      int total = 0;
      boolean more = false;
      for (String id : all) {
        if (!needle.isEmpty() && !id.toLowerCase(Locale.ROOT).contains(needle)) {
          continue;
        }
        total++;
        if (after != null && id.compareTo(after) <= 0) {
          continue;
        }
        if (out.size() < limit) {
          out.add(id);
        } else {
          more = true;
        }
      }
      return new Page(List.copyOf(out), total, more);
    });
  }

  /** Makes a tenant created through this node listed before the next refresh. */
  public void added(String tenantId) {
    current.updateAndGet(l -> {
      if (l == null || Arrays.binarySearch(l.ids, tenantId) >= 0) {
        return l;
      }
      String[] next = Arrays.copyOf(l.ids, l.ids.length + 1);
      next[next.length - 1] = tenantId;
      Arrays.sort(next);
      return new Loaded(next, l.atNanos, l.loading);
    });
  }

  /** All tenant ids, sorted: the cached ones while fresh, else after one shared refresh. */
  CompletionStage<String[]> ids() {
    long now = nanoTime.getAsLong();
    while (true) {
      Loaded l = current.get();
      if (l != null && l.loading == null && now - l.atNanos < refreshNanos) {
        return CompletableFuture.completedFuture(l.ids);
      }
      if (l != null && l.loading != null) {
        return l.loading;
      }
      CompletableFuture<String[]> loading = new CompletableFuture<>();
      Loaded claimed = new Loaded(l == null ? new String[0] : l.ids, l == null ? now : l.atNanos, loading);
      if (!current.compareAndSet(l, claimed)) {
        continue;
      }
      load.get().whenComplete((pids, error) -> {
        if (error != null) {
          current.set(l); // the next call tries again
          loading.completeExceptionally(error);
          return;
        }
        String[] ids = pids.stream().filter(p -> p.startsWith(PREFIX)).map(TenantIndex::tenantOf)
            .sorted().distinct().toArray(String[]::new);
        // Ids added while the query ran may be missing from its answer: keep them.
        Loaded during = current.get();
        String[] merged = merge(ids, during == null ? new String[0] : during.ids);
        current.set(new Loaded(merged, nanoTime.getAsLong(), null));
        loading.complete(merged);
      });
      return loading;
    }
  }

  /**
   * The tenant of a persistence id: {@code Tenant|<id>} with one region, {@code
   * Tenant|<id>|<region>} for each region's replica with several (tenant ids hold no '|').
   */
  static String tenantOf(String persistenceId) {
    String rest = persistenceId.substring(PREFIX.length());
    int bar = rest.indexOf('|');
    return bar < 0 ? rest : rest.substring(0, bar);
  }

  private static String[] merge(String[] a, String[] b) {
    java.util.TreeSet<String> all = new java.util.TreeSet<>(Arrays.asList(a));
    all.addAll(Arrays.asList(b));
    return all.toArray(String[]::new);
  }
}
