package io.sluice.node.admission;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.node.auth.TenantView.KeyGrant;
import io.sluice.persistence.KeyLimits;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-key rate limits (requests and tokens per minute), counted on this node, in addition to the
 * tenant's leases: a request of a key with limits reserves one request and its token estimate
 * from the key's current minute here first, and only then from the tenant's leases. It can only
 * refuse more, never admit what the tenant's limits would not, so the tenant's overshoot bound
 * is untouched.
 *
 * <p>Bound: each node enforces a key's limit on the requests it serves, in the same UTC minute
 * windows as the tenant's. On one node a key's requests per minute never exceed its limit, and
 * its tokens exceed it by at most the estimate error of the requests in flight (the estimate is
 * reserved, then replaced by the actual usage). Across N nodes that serve the key, its admitted
 * usage in a minute is at most N times its limit; nothing crosses nodes, so a per-key limit costs
 * no message. A key whose count was evicted (more than {@code maxKeys} limited keys in use)
 * starts its minute again from zero on that node.
 *
 * <p>Invariant: a window's counters only ever hold the reservations of requests admitted in that
 * minute; a reservation settled or released after its minute ended touches nothing.
 */
final class KeyLimiter {
  private final WindowClock clock;
  private final Cache<String, Window> windows;

  KeyLimiter(WindowClock clock, long maxKeys) {
    this.clock = clock;
    this.windows = Caffeine.newBuilder().maximumSize(maxKeys).expireAfterAccess(Duration.ofMinutes(2))
        .executor(Runnable::run).build();
  }

  /** One key's counts in one minute; replaced, never reset, when the minute changes. */
  static final class Window {
    final long minute;
    final AtomicLong requests = new AtomicLong();
    final AtomicLong tokens = new AtomicLong();

    Window(long minute) {
      this.minute = minute;
    }
  }

  /** A request's reservation from its key's minute: settled with the actual tokens, or released. */
  static final class Hold {
    private final Window window;
    private final long tokens;

    private Hold(Window window, long tokens) {
      this.window = window;
      this.tokens = tokens;
    }

    /** The request ran: its token estimate is replaced by {@code actualTokens}. */
    void settle(long actualTokens) {
      window.tokens.addAndGet(actualTokens - tokens);
    }

    /** The request was not admitted after all: it gives back its request and tokens. */
    void release() {
      window.requests.decrementAndGet();
      window.tokens.addAndGet(-tokens);
    }
  }

  /**
   * Reserves one request and {@code demand}'s tokens from {@code key}'s current minute of tenant
   * {@code tenantId}; throws {@link QuotaExceeded} (429, as a tenant's rate limit) when either
   * would pass the key's limit.
   */
  Hold reserve(String tenantId, KeyGrant key, Demand demand) {
    KeyLimits l = key.limits();
    long minute = clock.current(WindowKind.MINUTE);
    String id = tenantId + '/' + key.keyId();
    // A lock-free read in the common case; compute (a lock on the map's bin) only for a new minute.
    Window w = windows.getIfPresent(id);
    if (w == null || w.minute < minute) {
      w = windows.asMap().compute(id, (k, cur) -> cur != null && cur.minute >= minute ? cur : new Window(minute));
    }
    if (l.requestsPerMinute() != null && !take(w.requests, 1, l.requestsPerMinute())) {
      throw refused(Quantity.REQUESTS_PER_MINUTE, l.requestsPerMinute());
    }
    long tokens = l.tokensPerMinute() == null ? 0 : demand.tokens();
    if (l.tokensPerMinute() != null && !take(w.tokens, tokens, l.tokensPerMinute())) {
      if (l.requestsPerMinute() != null) {
        w.requests.decrementAndGet();
      }
      throw refused(Quantity.TOKENS_PER_MINUTE, l.tokensPerMinute());
    }
    if (l.requestsPerMinute() == null) {
      w.requests.incrementAndGet(); // counted all the same, so release() is symmetric
    }
    return new Hold(w, tokens);
  }

  /** Adds {@code amount} to {@code counter} unless that passes {@code limit}. */
  private static boolean take(AtomicLong counter, long amount, long limit) {
    long c;
    do {
      c = counter.get();
      if (c + amount > limit) {
        return false;
      }
    } while (!counter.compareAndSet(c, c + amount));
    return true;
  }

  private QuotaExceeded refused(Quantity q, long limit) {
    return QuotaExceeded.ofKey(q, limit, Instant.ofEpochMilli(clock.resetMillis(WindowKind.MINUTE)), clock.now());
  }
}
