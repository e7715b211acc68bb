package io.sluice.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KeyDirectoryTest {
  private static final Instant T = Instant.parse("2026-03-01T00:00:00Z");
  private static final String TENANT = "acme";
  private static final String HASH_1 = ApiKeys.hash("sk-sluice.acme.one");
  private static final String HASH_2 = ApiKeys.hash("sk-sluice.acme.two");
  /** Long enough that no refresh or expiry happens during a test. */
  private static final Duration REFRESH = Duration.ofMinutes(10);
  /** Likewise for the interval between two rechecks of one tenant. */
  private static final Duration RECHECK = Duration.ofMinutes(10);

  /** A loader the test completes by hand: one pending future per call, per tenant. */
  private final Map<String, List<CompletableFuture<TenantState>>> pending = new ConcurrentHashMap<>();
  private final AtomicInteger loads = new AtomicInteger();
  private final Function<String, CompletionStage<TenantState>> loader = tenantId -> {
    loads.incrementAndGet();
    CompletableFuture<TenantState> f = new CompletableFuture<>();
    pending.computeIfAbsent(tenantId, k -> new ArrayList<>()).add(f);
    return f;
  };

  /**
   * Caffeine logs every failed asynchronous load through java.util.logging with a stack trace;
   * the failures here are deliberate, so keep them out of the build output. Held statically so
   * the configured logger is not garbage-collected.
   */
  private static final Logger CAFFEINE_LOG = Logger.getLogger("com.github.benmanes.caffeine");

  private KeyDirectory directory;
  private ExecutorService threads;

  @BeforeAll
  static void quietCaffeine() {
    CAFFEINE_LOG.setLevel(Level.SEVERE);
  }

  @BeforeEach
  void setUp() {
    directory = new KeyDirectory(loader, REFRESH, 1000, RECHECK);
  }

  @AfterEach
  void tearDown() {
    if (threads != null) {
      threads.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- states

  private static TenantState created(List<String> models) {
    return TenantState.EMPTY.apply(new TenantCreated(TENANT, TenantLimits.UNLIMITED, models, T));
  }

  /** rev 2: one active key. */
  private static TenantState withKey1() {
    return created(null).apply(new KeyIssued("k1", HASH_1, T));
  }

  /** rev 3: key 1 revoked. */
  private static TenantState key1Revoked() {
    return withKey1().apply(new KeyRevoked("k1", T));
  }

  private static TenantView get(CompletableFuture<TenantView> f) throws Exception {
    return f.get(5, TimeUnit.SECONDS);
  }

  private CompletableFuture<TenantState> onlyPendingLoad() {
    List<CompletableFuture<TenantState>> calls = pending.get(TENANT);
    assertEquals(1, calls == null ? 0 : calls.size(), "expected exactly one load");
    return calls.get(0);
  }

  // ---------------------------------------------------------------- loading

  @Test
  void tenant_concurrentCallsDuringOneLoad_loaderCalledOnce() throws Exception {
    int n = 16;
    threads = Executors.newFixedThreadPool(n);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<CompletableFuture<TenantView>>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(threads.submit(() -> {
        start.await();
        return directory.tenant(TENANT);
      }));
    }
    start.countDown();
    List<CompletableFuture<TenantView>> views = new ArrayList<>();
    for (var c : calls) {
      views.add(c.get(5, TimeUnit.SECONDS));
    }
    assertEquals(1, loads.get(), "concurrent first requests must share one load");
    for (var v : views) {
      assertFalse(v.isDone(), "nothing completes before the entity answers");
    }

    onlyPendingLoad().complete(withKey1());

    for (var v : views) {
      TenantView view = get(v);
      assertEquals(2, view.revision());
      assertTrue(view.accepts(HASH_1, 0L));
    }
    assertTrue(directory.tenant(TENANT).isDone(), "a cached tenant is answered at once");
    assertEquals(1, loads.get());
  }

  @Test
  void tenant_sequentialCallsWhileLoading_loaderCalledOnce() throws Exception {
    CompletableFuture<TenantView> a = directory.tenant(TENANT);
    CompletableFuture<TenantView> b = directory.tenant(TENANT);
    assertEquals(1, loads.get());
    onlyPendingLoad().complete(withKey1());
    assertEquals(get(a), get(b));
  }

  @Test
  void tenant_failedLoad_notCachedAndRetried() throws Exception {
    CompletableFuture<TenantView> first = directory.tenant(TENANT);
    onlyPendingLoad().completeExceptionally(new TimeoutException("ask timed out"));
    assertThrows(ExecutionException.class, () -> get(first));

    CompletableFuture<TenantView> second = directory.tenant(TENANT);
    assertEquals(2, loads.get(), "a failed load must not be cached");
    pending.get(TENANT).get(1).complete(withKey1());
    assertTrue(get(second).accepts(HASH_1, 0L));
  }

  @Test
  void tenant_missingTenant_viewAcceptsNothing() throws Exception {
    CompletableFuture<TenantView> f = directory.tenant(TENANT);
    onlyPendingLoad().complete(TenantState.EMPTY);
    TenantView view = get(f);
    assertFalse(view.usable());
    assertFalse(view.accepts(HASH_1, 0L));
    assertFalse(view.allows("gpt-4o-mini"));
    assertEquals(0, view.revision());
  }

  @Test
  void invalidate_cachedTenant_nextCallReloads() throws Exception {
    CompletableFuture<TenantView> f = directory.tenant(TENANT);
    onlyPendingLoad().complete(withKey1());
    get(f);
    directory.invalidate(TENANT);
    directory.tenant(TENANT);
    assertEquals(2, loads.get());
  }

  // ---------------------------------------------------------------- pushes

  @Test
  void onChanged_uncachedTenant_cachedWithoutLoad() throws Exception {
    directory.onChanged(TENANT, withKey1());
    CompletableFuture<TenantView> f = directory.tenant(TENANT);
    assertTrue(f.isDone());
    assertTrue(get(f).accepts(HASH_1, 0L));
    assertEquals(0, loads.get());
  }

  @Test
  void onChanged_higherRevision_replaces() throws Exception {
    directory.onChanged(TENANT, withKey1());
    directory.onChanged(TENANT, key1Revoked());
    TenantView view = get(directory.tenant(TENANT));
    assertEquals(3, view.revision());
    assertFalse(view.accepts(HASH_1, 0L), "a revoked key must no longer be accepted");
  }

  @Test
  void onChanged_lowerRevision_ignoredSoRevokedKeyStaysRevoked() throws Exception {
    directory.onChanged(TENANT, key1Revoked());
    directory.onChanged(TENANT, withKey1()); // stale, reordered push

    TenantView view = get(directory.tenant(TENANT));
    assertEquals(3, view.revision());
    assertFalse(view.accepts(HASH_1, 0L), "a stale push resurrected a revoked key");
    assertEquals(0, loads.get());
  }

  @Test
  void onChanged_lowerRevisionAfterLoad_ignored() throws Exception {
    CompletableFuture<TenantView> f = directory.tenant(TENANT);
    onlyPendingLoad().complete(key1Revoked());
    get(f);

    directory.onChanged(TENANT, withKey1());

    TenantView view = get(directory.tenant(TENANT));
    assertEquals(3, view.revision());
    assertFalse(view.accepts(HASH_1, 0L));
  }

  @Test
  void onChanged_whileLoadInFlight_pushWinsOverOlderLoadResult() throws Exception {
    CompletableFuture<TenantView> loading = directory.tenant(TENANT);
    CompletableFuture<TenantState> load = onlyPendingLoad();

    directory.onChanged(TENANT, key1Revoked()); // rev 3 arrives first
    load.complete(withKey1());                  // the entity's older answer (rev 2) arrives late

    TenantView view = get(directory.tenant(TENANT));
    assertEquals(3, view.revision(), "the late load result replaced a newer pushed view");
    assertFalse(view.accepts(HASH_1, 0L), "the late load result resurrected a revoked key");
    assertEquals(1, loads.get());
    // The caller that started the load gets an answer either way.
    assertTrue(get(loading).tenantId().equals(TENANT));
  }

  @Test
  void onChanged_equalRevision_replaces() throws Exception {
    directory.onChanged(TENANT, withKey1());
    TenantState same = withKey1();
    directory.onChanged(TENANT, same);
    assertSame(same, get(directory.tenant(TENANT)).state());
  }

  @Test
  void onChanged_afterFailedLoad_replaces() throws Exception {
    CompletableFuture<TenantView> f = directory.tenant(TENANT);
    onlyPendingLoad().completeExceptionally(new TimeoutException("entity unreachable"));
    assertThrows(ExecutionException.class, () -> get(f));
    directory.onChanged(TENANT, withKey1());
    assertTrue(get(directory.tenant(TENANT)).accepts(HASH_1, 0L));
  }

  @Test
  void onChanged_keyIssued_newKeyAcceptedAtOnce() throws Exception {
    directory.onChanged(TENANT, withKey1());
    directory.onChanged(TENANT, withKey1().apply(new KeyIssued("k2", HASH_2, T)));
    TenantView view = get(directory.tenant(TENANT));
    assertTrue(view.accepts(HASH_1, 0L));
    assertTrue(view.accepts(HASH_2, 0L));
  }

  @Test
  void onChanged_tenantDisabled_noKeyAccepted() throws Exception {
    directory.onChanged(TENANT, withKey1());
    directory.onChanged(TENANT, withKey1().apply(new TenantDisabled(T)));
    TenantView view = get(directory.tenant(TENANT));
    assertFalse(view.usable());
    assertFalse(view.accepts(HASH_1, 0L));
  }

  @Test
  void onChanged_otherTenant_unaffected() throws Exception {
    directory.onChanged(TENANT, withKey1());
    directory.onChanged("other", TenantState.EMPTY.apply(
        new TenantCreated("other", TenantLimits.UNLIMITED, null, T)).apply(new TenantDisabled(T)));
    assertTrue(get(directory.tenant(TENANT)).accepts(HASH_1, 0L));
  }

  // ---------------------------------------------------------------- rechecks

  @Test
  void recheck_pushedViewLacksAKeyIssuedElsewhere_asksTheEntityAndHasTheKey() throws Exception {
    directory.onChanged(TENANT, created(null)); // the push of the creation came; the key's is still on the way
    assertFalse(get(directory.tenant(TENANT)).knows(HASH_1));

    CompletableFuture<TenantView> rechecked = directory.recheck(TENANT);
    assertFalse(rechecked.isDone(), "answered only when the entity has");
    onlyPendingLoad().complete(withKey1());

    assertTrue(get(rechecked).accepts(HASH_1, 0L));
    assertTrue(get(directory.tenant(TENANT)).accepts(HASH_1, 0L), "the entity's answer is cached");
  }

  @Test
  void recheck_againWithinTheInterval_noSecondAsk() throws Exception {
    directory.onChanged(TENANT, withKey1());
    CompletableFuture<TenantView> first = directory.recheck(TENANT);
    CompletableFuture<TenantView> concurrent = directory.recheck(TENANT);
    onlyPendingLoad().complete(withKey1());
    get(first);
    get(concurrent);

    TenantView later = get(directory.recheck(TENANT));

    assertEquals(1, loads.get(), "unknown keys cost the entity one ask per tenant per interval");
    assertFalse(later.knows(HASH_2));
  }

  @Test
  void recheck_rightAfterALoad_noSecondAsk() throws Exception {
    CompletableFuture<TenantView> loaded = directory.tenant(TENANT);
    onlyPendingLoad().complete(TenantState.EMPTY); // an unknown tenant, as a made-up key names one
    get(loaded);

    assertFalse(get(directory.recheck(TENANT)).usable());
    assertEquals(1, loads.get(), "a view just loaded from the entity is not asked for again");
  }

  @Test
  void recheck_zeroInterval_asksEveryTime() throws Exception {
    directory = new KeyDirectory(loader, REFRESH, 1000, Duration.ZERO);
    directory.onChanged(TENANT, withKey1());
    CompletableFuture<TenantView> first = directory.recheck(TENANT);
    pending.get(TENANT).get(0).complete(withKey1());
    get(first);

    directory.recheck(TENANT);

    assertEquals(2, loads.get());
  }

  @Test
  void recheck_entityAnswersOlderThanAPush_newerViewKept() throws Exception {
    directory.onChanged(TENANT, withKey1());
    CompletableFuture<TenantView> rechecked = directory.recheck(TENANT);
    directory.onChanged(TENANT, key1Revoked()); // the revocation's push overtakes the answer
    onlyPendingLoad().complete(withKey1());

    assertEquals(3, get(rechecked).revision());
    assertFalse(get(directory.tenant(TENANT)).accepts(HASH_1, 0L), "a recheck resurrected a revoked key");
  }

  @Test
  void recheck_askFails_answersTheCachedView() throws Exception {
    directory.onChanged(TENANT, created(null));
    CompletableFuture<TenantView> rechecked = directory.recheck(TENANT);
    onlyPendingLoad().completeExceptionally(new TimeoutException("entity unreachable"));

    assertEquals(1, get(rechecked).revision());
    assertFalse(get(rechecked).knows(HASH_1));
  }

  // ---------------------------------------------------------------- TenantView

  @Test
  void view_activeKey_acceptedAndUnknownHashRefused() {
    TenantView view = TenantView.of(TENANT, withKey1());
    assertTrue(view.usable());
    assertTrue(view.accepts(HASH_1, 0L));
    assertFalse(view.accepts(HASH_2, 0L));
  }

  @Test
  void view_revokedKey_notAccepted() {
    TenantView view = TenantView.of(TENANT, key1Revoked().apply(new KeyIssued("k2", HASH_2, T)));
    assertFalse(view.accepts(HASH_1, 0L));
    assertTrue(view.accepts(HASH_2, 0L));
    assertEquals(java.util.Set.of(HASH_2), view.keys().keySet());
  }

  @Test
  void view_disabledTenant_acceptsNothing() {
    TenantState s = withKey1().apply(new KeyIssued("k2", HASH_2, T)).apply(new TenantDisabled(T));
    TenantView view = TenantView.of(TENANT, s);
    assertFalse(view.accepts(HASH_1, 0L));
    assertFalse(view.accepts(HASH_2, 0L));
  }

  @Test
  void view_nullModels_allowsEveryModel() {
    TenantView view = TenantView.of(TENANT, created(null));
    assertNull(view.models());
    assertTrue(view.allows("gpt-4o-mini"));
    assertTrue(view.allows("anything-at-all"));
  }

  @Test
  void view_modelList_allowsOnlyListed() {
    TenantView view = TenantView.of(TENANT, created(List.of("gpt-4o-mini", "text-embedding-3-small")));
    assertTrue(view.allows("gpt-4o-mini"));
    assertTrue(view.allows("text-embedding-3-small"));
    assertFalse(view.allows("gpt-4o"));
    assertFalse(view.allows("GPT-4O-MINI"));
  }

  @Test
  void view_emptyModelList_allowsNothing() {
    TenantView view = TenantView.of(TENANT, created(List.of()));
    assertFalse(view.allows("gpt-4o-mini"));
  }

  @Test
  void view_modelsChangedToAll_allowsEveryModel() {
    TenantView view = TenantView.of(TENANT, created(List.of("a")).apply(new ModelsChanged(null, T)));
    assertTrue(view.allows("b"));
  }

  @Test
  void view_missing_acceptsAndAllowsNothing() {
    TenantView view = TenantView.missing(TENANT);
    assertFalse(view.usable());
    assertFalse(view.accepts(HASH_1, 0L));
    assertFalse(view.allows("gpt-4o-mini"));
    assertEquals(0, view.revision());
  }
}
