package io.sluice.node.routing;

import io.sluice.node.routing.RoutingSettings.BackoffSettings;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * The wait before a retry when the upstream did not say how long to wait. It exists so that
 * retries after a failure slow down exponentially and do not arrive in lockstep.
 *
 * <p>Retry {@code n} (1 for the first retry) waits {@code initial × multiplier^(n-1)}, at most
 * {@code max}, multiplied by a uniform factor in {@code [1 - jitter, 1 + jitter)}, and again at
 * most {@code max}. Randomness is injected, so tests are deterministic.
 */
public final class Backoff {
  private final BackoffSettings settings;
  private final RandomGenerator random;

  public Backoff(BackoffSettings settings, RandomGenerator random) {
    this.settings = settings;
    this.random = random;
  }

  /** The wait before retry {@code retry} (1-based), without jitter: the centre of {@link #delay}'s range. */
  public Duration base(int retry) {
    if (retry < 1) {
      throw new IllegalArgumentException("retry is 1-based: " + retry);
    }
    double nanos = settings.initial().toNanos() * Math.pow(settings.multiplier(), retry - 1);
    long max = settings.max().toNanos();
    return Duration.ofNanos(nanos >= max ? max : (long) nanos);
  }

  /** The wait before retry {@code retry} (1-based), with jitter. */
  public Duration delay(int retry) {
    long base = base(retry).toNanos();
    double factor = 1 + settings.jitter() * (2 * random.nextDouble() - 1);
    long jittered = (long) (base * factor);
    return Duration.ofNanos(Math.min(settings.max().toNanos(), Math.max(0, jittered)));
  }
}
