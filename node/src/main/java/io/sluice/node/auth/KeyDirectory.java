package io.sluice.node.auth;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
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
 *
 * <p>A pushed view can be a moment behind the entity: a key issued through another node works
 * there at once, while its push to this node is still on the way. So a key the view does not
 * know is first {@link #recheck rechecked} at the entity, at most once per tenant per interval.
 */
public final class KeyDirectory {
  private final Function<String, CompletionStage<TenantState>> loader;
  private final AsyncLoadingCache<String, TenantView> cache;
  /** The tenants rechecked within the interval, with that recheck (shared while it runs). */
  private final Cache<String, CompletableFuture<TenantView>> rechecks;

  /**
   * @param loader asks the tenant entity for its current state
   * @param refresh how long an entry is served before it is reloaded in the background
   * @param recheckInterval how often per tenant {@link #recheck} asks the entity again
   */
  public KeyDirectory(Function<String, CompletionStage<TenantState>> loader, Duration refresh, long maxTenants,
      Duration recheckInterval) {
    this.loader = loader;
    this.rechecks = Caffeine.newBuilder().maximumSize(maxTenants).expireAfterWrite(recheckInterval).build();
    this.cache = Caffeine.newBuilder()
        .maximumSize(maxTenants)
        .refreshAfterWrite(refresh)
        .expireAfterWrite(refresh.multipliedBy(3))
        .buildAsync((tenantId, executor) -> loader.apply(tenantId).toCompletableFuture().thenApply(s -> {
          TenantView view = TenantView.of(tenantId, s);
          rechecks.put(tenantId, CompletableFuture.completedFuture(view)); // as fresh as a recheck
          return view;
        }));
  }

  /** The tenant's view: already complete when cached, else completes when the entity answers. */
  public CompletableFuture<TenantView> tenant(String tenantId) {
    return cache.get(tenantId);
  }

  /**
   * The tenant's view after asking its entity again, for a key the cached view does not know.
   * Within {@code recheckInterval} of the last recheck of this tenant, the view as cached (no
   * ask): a stream of unknown keys costs the entity one ask per tenant per interval. The view is
   * merged as a push is, so an answer older than what the node has changes nothing.
   */
  public CompletableFuture<TenantView> recheck(String tenantId) {
    // A failed ask leaves the view as it was; either way the answer is the view as cached after it.
    return rechecks.get(tenantId, id -> loader.apply(id).toCompletableFuture()
            .thenApply(state -> merge(id, TenantView.of(id, state))))
        .handle((view, failure) -> tenantId)
        .thenCompose(this::tenant);
  }

  /** Applies a change pushed by the tenant entity, unless this node already has a newer view. */
  public void onChanged(String tenantId, TenantState state) {
    merge(tenantId, TenantView.of(tenantId, state));
  }

  private TenantView merge(String tenantId, TenantView next) {
    CompletableFuture<TenantView> merged = cache.asMap().compute(tenantId, (id, current) -> {
      if (current != null && current.isDone() && !current.isCompletedExceptionally()
          && current.join().revision() > next.revision()) {
        return current;
      }
      return CompletableFuture.completedFuture(next);
    });
    return merged.join();
  }

  /** Drops a tenant from the cache, so its next request reloads it. */
  public void invalidate(String tenantId) {
    cache.synchronous().invalidate(tenantId);
  }
}
