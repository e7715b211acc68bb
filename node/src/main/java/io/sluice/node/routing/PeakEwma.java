package io.sluice.node.routing;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * One deployment's latency estimate and load, for least-loaded routing. It exists so that the
 * router can prefer the deployment that will answer soonest, reacting at once when one becomes
 * slow and forgetting it gradually.
 *
 * <p>Peak EWMA as in Finagle and Linkerd (tower-balance): a sample above the estimate replaces it
 * at once (the peak); a sample below it is blended in with weight {@code 1 - e^(-Δt/τ)}, where
 * Δt is the time since the last sample and τ the decay time. Read without samples, the estimate
 * decays towards zero with the same τ, so an idle deployment is tried again eventually. The
 * load-aware {@link #cost()} is {@code estimate × (inFlight + 1)}.
 *
 * <p>Updated on the request path by many threads, so it takes no lock: the estimate and its
 * timestamp are one immutable pair swapped with compare-and-set, and the in-flight count is an
 * atomic counter. Time comes from an injected nanosecond clock ({@code System::nanoTime} in
 * production).
 */
public final class PeakEwma {
  /** The estimate in nanoseconds and the clock reading it was last updated at. */
  private record Estimate(double rttNanos, long atNanos) {}

  private final LongSupplier nanoClock;
  private final double decayNanos;
  private final AtomicReference<Estimate> estimate;
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * @param decay the EWMA time constant τ
   * @param defaultRtt the estimate before the first sample
   * @param nanoClock a monotonic clock in nanoseconds
   */
  public PeakEwma(Duration decay, Duration defaultRtt, LongSupplier nanoClock) {
    if (decay.isNegative() || decay.isZero()) {
      throw new IllegalArgumentException("decay must be positive: " + decay);
    }
    this.nanoClock = nanoClock;
    this.decayNanos = decay.toNanos();
    this.estimate = new AtomicReference<>(new Estimate(defaultRtt.toNanos(), nanoClock.getAsLong()));
  }

  /** A tracker with {@code settings}' decay and default latency. */
  public static PeakEwma of(RoutingSettings settings, LongSupplier nanoClock) {
    return new PeakEwma(settings.latencyDecay(), settings.defaultRtt(), nanoClock);
  }

  /** A request to the deployment starts: counts it in flight; returns its start time for {@link #end}. */
  public long start() {
    inFlight.incrementAndGet();
    return nanoClock.getAsLong();
  }

  /** The request started at {@code startNanos} answered: takes its latency as a sample. */
  public void end(long startNanos) {
    observe(nanoClock.getAsLong() - startNanos);
    inFlight.decrementAndGet();
  }

  /**
   * The request ended without a latency worth learning from (a refused connection, a cancelled
   * request): only stops counting it in flight. A fast failure must not look like a fast
   * deployment.
   */
  public void endWithoutSample() {
    inFlight.decrementAndGet();
  }

  /** Blends in one latency sample, in nanoseconds (negative samples count as zero). */
  public void observe(long rttNanos) {
    double rtt = Math.max(0, rttNanos);
    while (true) {
      long now = nanoClock.getAsLong();
      Estimate old = estimate.get();
      double next;
      if (rtt > old.rttNanos()) {
        next = rtt;
      } else {
        double w = weightOfOld(now - old.atNanos());
        next = old.rttNanos() * w + rtt * (1 - w);
      }
      if (estimate.compareAndSet(old, new Estimate(next, Math.max(now, old.atNanos())))) {
        return;
      }
    }
  }

  /** The latency estimate now, in nanoseconds, decayed for the time since the last sample. */
  public double rttNanos() {
    Estimate e = estimate.get();
    return e.rttNanos() * weightOfOld(nanoClock.getAsLong() - e.atNanos());
  }

  /** What sending one more request here costs: the estimate times the requests in flight plus this one. */
  public double cost() {
    return rttNanos() * (inFlight.get() + 1);
  }

  public int inFlight() {
    return inFlight.get();
  }

  private double weightOfOld(long elapsedNanos) {
    return Math.exp(-Math.max(0, elapsedNanos) / decayNanos);
  }
}
