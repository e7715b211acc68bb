package io.sluice.node.tenant;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far behind this node's region each other region's replica was when its events last arrived
 * here: the time from the origin writing an event to this region applying it (which includes the
 * clock difference between the two regions). Node-local and thread-safe; the replicated tenant
 * entities report into it, {@code GET /admin/v1/regions} reads it. Empty with one region.
 */
public final class ReplicationLag {

  /** The last lag seen from one region, and when it was seen. */
  public record Sample(Duration lag, Instant observedAt) {}

  private final Map<String, Sample> last = new ConcurrentHashMap<>();

  /** An event written by {@code origin} at {@code writtenAt} was applied here at {@code now}. */
  public void observe(String origin, Instant writtenAt, Instant now) {
    Duration lag = Duration.between(writtenAt, now);
    last.put(origin, new Sample(lag.isNegative() ? Duration.ZERO : lag, now));
  }

  /** The last sample from {@code origin}, or null before any event from it arrived. */
  public Sample last(String origin) {
    return last.get(origin);
  }
}
