package io.sluice.node.admin;

import io.sluice.persistence.AdminKeyState;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * This node's cache of the active admin keys by hash. Changes are pushed by the
 * {@link AdminKeyEntity} ({@link #onChanged}); the refresh interval only bounds how long a lost push
 * could leave it stale. A state is never replaced by an older one (fewer issues and revocations),
 * so a late reply can never bring a revoked key back.
 */
public final class AdminKeyring {
  private record Snapshot(long version, Map<String, AdminKeyState.AdminKey> byHash, long loadedAt) {}

  private final Supplier<CompletionStage<AdminKeyState>> loader;
  private final long refreshNanos;
  private final LongSupplier nanos;
  private volatile Snapshot current;
  private volatile CompletableFuture<Snapshot> loading;

  public AdminKeyring(Supplier<CompletionStage<AdminKeyState>> loader, Duration refresh, LongSupplier nanos) {
    this.loader = loader;
    this.refreshNanos = refresh.toNanos();
    this.nanos = nanos;
  }

  /** The active admin key whose hash is {@code keyHash}, or null (also when none is known). */
  public CompletionStage<AdminKeyState.AdminKey> find(String keyHash) {
    Snapshot s = current;
    if (s != null && nanos.getAsLong() - s.loadedAt() < refreshNanos) {
      return CompletableFuture.completedFuture(s.byHash().get(keyHash));
    }
    return load().thenApply(l -> l.byHash().get(keyHash));
  }

  private synchronized CompletableFuture<Snapshot> load() {
    CompletableFuture<Snapshot> l = loading;
    if (l != null && !l.isDone()) {
      return l;
    }
    l = loader.get().toCompletableFuture().thenApply(this::accept);
    loading = l;
    return l;
  }

  /** Applies a state pushed by the entity or returned by a write, unless a newer one is known. */
  public void onChanged(AdminKeyState state) {
    accept(state);
  }

  private synchronized Snapshot accept(AdminKeyState state) {
    long version = version(state);
    Snapshot s = current;
    if (s != null && s.version() > version) {
      return s;
    }
    Map<String, AdminKeyState.AdminKey> byHash = new HashMap<>();
    for (AdminKeyState.AdminKey k : state.keys().values()) {
      if (k.active()) {
        byHash.put(k.keyHash(), k);
      }
    }
    Snapshot next = new Snapshot(version, Map.copyOf(byHash), nanos.getAsLong());
    current = next;
    return next;
  }

  /** Issues and revocations only add up, so their count orders states of the one entity. */
  static long version(AdminKeyState state) {
    long v = 0;
    for (AdminKeyState.AdminKey k : state.keys().values()) {
      v += k.active() ? 1 : 2;
    }
    return v;
  }
}
