package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TenantIndexTest {
  private static final TenantIndexSettings SETTINGS =
      new TenantIndexSettings("jdbc-read-journal", Duration.ofSeconds(5), 50, 200);

  private final AtomicLong nanos = new AtomicLong();
  private final AtomicInteger loads = new AtomicInteger();
  private final List<String> journal = new ArrayList<>();
  private CompletableFuture<List<String>> pending;

  private TenantIndex index() {
    return new TenantIndex(() -> {
      loads.incrementAndGet();
      return pending != null ? pending : CompletableFuture.completedFuture(List.copyOf(journal));
    }, SETTINGS, nanos::get);
  }

  private static TenantIndex.Page join(CompletionStage<TenantIndex.Page> page) {
    return page.toCompletableFuture().join();
  }

  @Test
  void page_journalIds_onlyTenantsSortedAndPaged() {
    journal.addAll(List.of("Tenant|zeta", "sluice-health|node-1", "Tenant|acme", "Tenant|beta", "Tenant|acme-2"));
    TenantIndex index = index();
    TenantIndex.Page first = join(index.page(null, null, 2));
    assertEquals(List.of("acme", "acme-2"), first.ids());
    assertEquals(4, first.total());
    assertTrue(first.hasMore());
    TenantIndex.Page second = join(index.page(null, "acme-2", 2));
    assertEquals(List.of("beta", "zeta"), second.ids());
    assertFalse(second.hasMore());
  }

  @Test
  void page_replicatedPersistenceIds_listEachTenantOnce() {
    journal.addAll(List.of("Tenant|acme|r1", "Tenant|acme|r2", "Tenant|beta", "Tenant|beta|r2"));
    assertEquals(List.of("acme", "beta"), join(index().page(null, null, 10)).ids());
  }

  @Test
  void page_search_matchesSubstringsCaseInsensitively() {
    journal.addAll(List.of("Tenant|acme", "Tenant|big-acme", "Tenant|beta"));
    TenantIndex.Page p = join(index().page("ACM", null, 50));
    assertEquals(List.of("acme", "big-acme"), p.ids());
    assertEquals(2, p.total());
  }

  @Test
  void page_withinRefresh_asksTheJournalOnce() {
    journal.add("Tenant|acme");
    TenantIndex index = index();
    join(index.page(null, null, 50));
    journal.add("Tenant|later");
    assertEquals(List.of("acme"), join(index.page(null, null, 50)).ids());
    assertEquals(1, loads.get());
    nanos.addAndGet(Duration.ofSeconds(6).toNanos());
    assertEquals(List.of("acme", "later"), join(index.page(null, null, 50)).ids());
    assertEquals(2, loads.get());
  }

  @Test
  void added_beforeTheNextRefresh_listedAtOnce() {
    journal.add("Tenant|acme");
    TenantIndex index = index();
    join(index.page(null, null, 50));
    index.added("new-one");
    assertEquals(List.of("acme", "new-one"), join(index.page(null, null, 50)).ids());
  }

  @Test
  void page_concurrentCallsDuringARefresh_shareOneQuery() {
    pending = new CompletableFuture<>();
    TenantIndex index = index();
    CompletionStage<TenantIndex.Page> a = index.page(null, null, 50);
    CompletionStage<TenantIndex.Page> b = index.page(null, null, 50);
    index.added("made-meanwhile");
    pending.complete(List.of("Tenant|acme"));
    assertEquals(1, loads.get());
    assertEquals(List.of("acme", "made-meanwhile"), join(a).ids());
    assertEquals(List.of("acme", "made-meanwhile"), join(b).ids());
  }

  @Test
  void page_journalFails_failsThenRetries() {
    pending = CompletableFuture.failedFuture(new IllegalStateException("journal down"));
    TenantIndex index = index();
    assertTrue(index.page(null, null, 50).toCompletableFuture().isCompletedExceptionally());
    pending = null;
    journal.add("Tenant|acme");
    assertEquals(List.of("acme"), join(index.page(null, null, 50)).ids());
  }
}
