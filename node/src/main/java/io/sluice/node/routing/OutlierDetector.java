package io.sluice.node.routing;

import io.sluice.node.provider.ErrorClass;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Optional;

/**
 * Node-local health of one deployment, for every tenant at once (Envoy-style outlier ejection
 * with a half-open probe). It exists so that a deployment that fails for everyone stops getting
 * requests quickly, on this node, without a round trip to any entity.
 *
 * <p>Only failures that {@linkplain ErrorClass#countsAgainstDeployment() count against the
 * deployment} (server errors, timeouts, failed connections) are counted; client errors, refused
 * keys and rate limits are ignored entirely. The deployment is ejected when
 * {@code consecutive-failures} such failures come in a row, or when the failure rate over the
 * sliding {@code window} (bucketed counters) reaches {@code failure-rate} with at least {@code
 * min-requests} requests in it. An ejection lasts {@code base-ejection × 2^(ejections-1)}, at most
 * {@code max-ejection}. Then the deployment is {@link State#HALF_OPEN}: exactly one probe request
 * at a time is admitted. The probe's success closes it; its failure ejects it again, for longer.
 * After {@code stable-period} closed, the next ejection starts again at the base cooldown.
 *
 * <p>Usage: {@link #tryAcquire()} before sending; then exactly one of {@link #onSuccess}, {@link
 * #onError} or {@link #onAbandoned} with the permit it returned. A permit from before a state
 * change (a request sent before an ejection) is stale: its outcome is ignored, so requests in
 * flight during an ejection cannot close it or count towards the next window.
 *
 * <p>Thread-safety: the common case, {@code tryAcquire()} while closed, reads one volatile field
 * and takes no lock. Outcomes and state changes synchronize on this detector: they update several
 * fields together (window, streak, state), and the lock is per deployment and held for a few
 * array operations, so it does not serialize the node. Time comes from an injected clock.
 */
public final class OutlierDetector {

  /** The detector's state. */
  public enum State {
    /** Healthy: requests are admitted. */
    CLOSED,
    /** Ejected: no requests until the cooldown ends. */
    EJECTED,
    /** The cooldown ended: one probe request at a time is admitted. */
    HALF_OPEN
  }

  /**
   * The right to send one request, to hand back with its outcome. {@link #DENIED} is no right.
   *
   * @param generation the detector's state generation it was granted in
   * @param probe whether it is the half-open probe
   */
  public record Permit(long generation, boolean probe) {
    public static final Permit DENIED = new Permit(-1, false);

    public boolean granted() {
      return generation >= 0;
    }
  }

  /**
   * The detector's state for the admin API and metrics.
   *
   * @param ejectedUntil when the current ejection ends, while {@link State#EJECTED}
   * @param ejections ejections since the deployment was last stable, which sets the next cooldown
   */
  public record Snapshot(State state, int consecutiveFailures, double failureRate, long requestsInWindow,
      Optional<Instant> ejectedUntil, int ejections) {}

  /** The tag of a bucket that holds nothing. */
  private static final long EMPTY = Long.MIN_VALUE;

  private final HealthSettings settings;
  private final InstantSource clock;
  private final long bucketMillis;
  private final long[] bucketTag;
  private final long[] bucketRequests;
  private final long[] bucketFailures;

  /** The permit handed out while closed; null otherwise. Read without the lock. */
  private volatile Permit closedPermit;
  // Guarded by this.
  private State state = State.CLOSED;
  private long generation;
  private int consecutive;
  private int ejections;
  private long closedSinceMillis;
  private long ejectedUntilMillis;
  private boolean probeInFlight;
  private long probeExpiresMillis;

  public OutlierDetector(HealthSettings settings, InstantSource clock) {
    this.settings = settings;
    this.clock = clock;
    int buckets = settings.windowBuckets();
    this.bucketMillis = settings.window().toMillis() / buckets;
    this.bucketTag = new long[buckets];
    this.bucketRequests = new long[buckets];
    this.bucketFailures = new long[buckets];
    clearWindow();
    this.closedSinceMillis = clock.millis();
    this.closedPermit = new Permit(generation, false);
  }

  /** Asks to send one request: a granted permit while closed, or as the single half-open probe. */
  public Permit tryAcquire() {
    Permit p = closedPermit;
    return p != null ? p : acquireSlow();
  }

  private synchronized Permit acquireSlow() {
    if (state == State.CLOSED) {
      return closedPermit;
    }
    long now = clock.millis();
    if (state == State.EJECTED) {
      if (now < ejectedUntilMillis) {
        return Permit.DENIED;
      }
      state = State.HALF_OPEN;
      probeInFlight = false;
    }
    if (probeInFlight && now < probeExpiresMillis) {
      return Permit.DENIED;
    }
    generation++; // a lost probe's late outcome is stale
    probeInFlight = true;
    probeExpiresMillis = now + settings.probeTimeout().toMillis();
    return new Permit(generation, true);
  }

  /**
   * Whether {@link #tryAcquire()} would grant a permit now, without taking one: for planning,
   * which is advisory (the permit is taken at send time).
   */
  public boolean admitsNow() {
    return closedPermit != null || admitsSlow();
  }

  private synchronized boolean admitsSlow() {
    long now = clock.millis();
    return switch (state) {
      case CLOSED -> true;
      case EJECTED -> now >= ejectedUntilMillis;
      case HALF_OPEN -> !probeInFlight || now >= probeExpiresMillis;
    };
  }

  /** The request sent under {@code permit} got a usable answer. */
  public synchronized void onSuccess(Permit permit) {
    if (!current(permit)) {
      return;
    }
    long now = clock.millis();
    if (permit.probe()) {
      close(now);
      return;
    }
    consecutive = 0;
    record(now, false);
  }

  /** The request sent under {@code permit} failed with {@code error}; only some errors count. */
  public synchronized void onError(Permit permit, ErrorClass error) {
    if (!error.countsAgainstDeployment()) {
      onAbandoned(permit);
      return;
    }
    if (!current(permit)) {
      return;
    }
    long now = clock.millis();
    if (permit.probe()) {
      eject(now);
      return;
    }
    consecutive++;
    record(now, true);
    long requests = requestsInWindow(now);
    if (consecutive >= settings.consecutiveFailures()
        || (requests >= settings.minRequests()
            && failuresInWindow(now) >= settings.failureRate() * requests)) {
      eject(now);
    }
  }

  /**
   * The request sent under {@code permit} ended without an answer about the deployment's health
   * (cancelled, the client went away, or an error that does not count): frees a probe's slot.
   */
  public synchronized void onAbandoned(Permit permit) {
    if (permit.probe() && current(permit)) {
      probeInFlight = false;
    }
  }

  public synchronized Snapshot snapshot() {
    long now = clock.millis();
    State shown = state == State.EJECTED && now >= ejectedUntilMillis ? State.HALF_OPEN : state;
    long requests = requestsInWindow(now);
    double rate = requests == 0 ? 0 : (double) failuresInWindow(now) / requests;
    Optional<Instant> until = shown == State.EJECTED ? Optional.of(Instant.ofEpochMilli(ejectedUntilMillis))
        : Optional.empty();
    return new Snapshot(shown, consecutive, rate, requests, until, stableResetEjections(now));
  }

  /** Whether an outcome under {@code permit} still concerns the current state. */
  private boolean current(Permit permit) {
    if (!permit.granted() || permit.generation() != generation) {
      return false;
    }
    return permit.probe() ? state == State.HALF_OPEN : state == State.CLOSED;
  }

  private void close(long now) {
    state = State.CLOSED;
    generation++;
    consecutive = 0;
    probeInFlight = false;
    closedSinceMillis = now;
    clearWindow();
    closedPermit = new Permit(generation, false);
  }

  private void eject(long now) {
    ejections = stableResetEjections(now) + 1;
    long base = settings.baseEjection().toMillis();
    long max = settings.maxEjection().toMillis();
    int doublings = Math.min(ejections - 1, Long.numberOfLeadingZeros(base) - 1);
    long cooldown = Math.min(max, base << doublings);
    closedPermit = null;
    state = State.EJECTED;
    generation++;
    consecutive = 0;
    probeInFlight = false;
    ejectedUntilMillis = now + cooldown;
    clearWindow();
  }

  /** The ejection count, forgotten once the deployment has been closed for the stable period. */
  private int stableResetEjections(long now) {
    if (state == State.CLOSED && now - closedSinceMillis >= settings.stablePeriod().toMillis()) {
      ejections = 0;
    }
    return ejections;
  }

  private void record(long now, boolean failed) {
    long tag = now / bucketMillis;
    int i = (int) Math.floorMod(tag, (long) bucketTag.length);
    if (bucketTag[i] != tag) {
      bucketTag[i] = tag;
      bucketRequests[i] = 0;
      bucketFailures[i] = 0;
    }
    bucketRequests[i]++;
    if (failed) {
      bucketFailures[i]++;
    }
  }

  private long requestsInWindow(long now) {
    return sumInWindow(now, bucketRequests);
  }

  private long failuresInWindow(long now) {
    return sumInWindow(now, bucketFailures);
  }

  private long sumInWindow(long now, long[] counts) {
    long tag = now / bucketMillis;
    long sum = 0;
    for (int i = 0; i < bucketTag.length; i++) {
      if (bucketTag[i] != EMPTY && tag - bucketTag[i] < bucketTag.length) {
        sum += counts[i];
      }
    }
    return sum;
  }

  private void clearWindow() {
    Arrays.fill(bucketTag, EMPTY);
    Arrays.fill(bucketRequests, 0);
    Arrays.fill(bucketFailures, 0);
  }
}
