package io.sluice.node.routing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the requests this node has in flight to one deployment. It exists so that a slow
 * deployment cannot collect an unbounded queue of requests: at its limit, the router tries the
 * next deployment instead of waiting.
 *
 * <p>A non-blocking semaphore: {@link #tryAcquire()} is a compare-and-set loop on one {@link
 * AtomicInteger}, so it never exceeds the limit and never blocks a request thread. Every
 * successful {@code tryAcquire()} must be paired with exactly one {@link #release()}.
 */
public final class ConcurrencyLimiter {
  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** A limiter admitting at most {@code limit} requests at once; {@link Deployment#UNLIMITED} means no bound. */
  public ConcurrencyLimiter(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative: " + limit);
    }
    this.limit = limit == Deployment.UNLIMITED ? Integer.MAX_VALUE : limit;
  }

  /** The limiter for {@code d}'s {@code maxConcurrentRequests}. */
  public static ConcurrencyLimiter of(Deployment d) {
    return new ConcurrencyLimiter(d.maxConcurrentRequests());
  }

  /** Takes a slot if one is free; returns whether it did. */
  public boolean tryAcquire() {
    while (true) {
      int current = inFlight.get();
      if (current >= limit) {
        return false;
      }
      if (inFlight.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  /**
   * Gives back a slot taken by {@link #tryAcquire()}.
   *
   * @throws IllegalStateException if no slot is taken (a release without an acquire)
   */
  public void release() {
    while (true) {
      int current = inFlight.get();
      if (current <= 0) {
        throw new IllegalStateException("release without a matching tryAcquire");
      }
      if (inFlight.compareAndSet(current, current - 1)) {
        return;
      }
    }
  }

  /** Whether a slot is free now (advisory: another thread may take it first). */
  public boolean hasCapacity() {
    return inFlight.get() < limit;
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** The limit; {@link Integer#MAX_VALUE} when unlimited. */
  public int limit() {
    return limit;
  }
}
