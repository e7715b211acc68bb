package io.sluice.node.auth;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.persistence.TenantState;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The node's cache of tenants (their active key hashes and models), the "KeyCache" of the design.
 *
 * <p>A request looks its tenant up here without waiting on anything once the tenant is cached.
 * The first request for a tenant on this node loads it from the tenant entity; concurrent first
 * requests share that one load. Changes are pushed by the entity ({@link #onChanged}) and reach
 * every node within milliseconds; the refresh interval only bounds how long a lost push could
 * leave an entry stale. A view is never replaced by one with a lower revision, so a late reply or
 * a reordered push can never bring a revoked key back.
 */
public final class KeyDirectory {
  private final AsyncLoadingCache<String, TenantView> cache;

  /**
   * @param loader asks the tenant entity for its current state
   * @param refresh how long an entry is served before it is reloaded in the background
   */
  public KeyDirectory(Function<String, CompletionStage<TenantState>> loader, Duration refresh, long maxTenants) {
    this.cache = Caffeine.newBuilder()
        .maximumSize(maxTenants)
        .refreshAfterWrite(refresh)
        .expireAfterWrite(refresh.multipliedBy(3))
        .buildAsync((tenantId, executor) ->
            loader.apply(tenantId).thenApply(s -> TenantView.of(tenantId, s)).toCompletableFuture());
  }

  /** The tenant's view: already complete when cached, else completes when the entity answers. */
  public CompletableFuture<TenantView> tenant(String tenantId) {
    return cache.get(tenantId);
  }

  /** Applies a change pushed by the tenant entity, unless this node already has a newer view. */
  public void onChanged(String tenantId, TenantState state) {
    TenantView next = TenantView.of(tenantId, state);
    cache.asMap().compute(tenantId, (id, current) -> {
      if (current != null && current.isDone() && !current.isCompletedExceptionally()
          && current.join().revision() > next.revision()) {
        return current;
      }
      return CompletableFuture.completedFuture(next);
    });
  }

  /** Drops a tenant from the cache, so its next request reloads it. */
  public void invalidate(String tenantId) {
    cache.synchronous().invalidate(tenantId);
  }
}
