package io.sluice.mock;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters over inference requests ({@code /v1/chat/completions}, {@code /v1/embeddings},
 * {@code /v1/messages}, {@code /v1/messages/count_tokens}) that let
 * tests check what the gateway actually sent upstream: how many, how concurrently, and whether streams
 * ran to the end or were abandoned by the client. Served as JSON at {@code GET /mock/stats}.
 */
public final class MockStats {
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong maxInFlight = new AtomicLong();
  private final AtomicLong cancelledStreams = new AtomicLong();
  private final AtomicLong completedStreams = new AtomicLong();

  /** Inference requests received since start or the last reset. */
  public long requests() { return requests.get(); }

  /** Inference requests received whose response is not yet fully written and whose client is still there. */
  public long inFlight() { return inFlight.get(); }

  /** Highest {@link #inFlight()} seen since start or the last reset. */
  public long maxInFlight() { return maxInFlight.get(); }

  /** Streams whose client went away before the stream's end was written. */
  public long cancelledStreams() { return cancelledStreams.get(); }

  /** Streams written to the end, {@code data: [DONE]} (or {@code message_stop}, or a mid-stream error event) included. */
  public long completedStreams() { return completedStreams.get(); }

  /**
   * Zeroes the counters. {@code in_flight} is a gauge of live requests and so is kept (it is 0 when
   * the server is idle); {@code max_in_flight} restarts from it.
   */
  public void reset() {
    requests.set(0);
    cancelledStreams.set(0);
    completedStreams.set(0);
    maxInFlight.set(inFlight.get());
  }

  void arrived() {
    requests.incrementAndGet();
    long now = inFlight.incrementAndGet();
    for (long max = maxInFlight.get(); now > max && !maxInFlight.compareAndSet(max, now); max = maxInFlight.get()) {
      // retry until our value is recorded or a higher one is
    }
  }

  void left() { inFlight.decrementAndGet(); }

  void streamCompleted() { completedStreams.incrementAndGet(); }

  void streamCancelled() { cancelledStreams.incrementAndGet(); }

  String toJson() {
    return "{\"requests\":" + requests() + ",\"in_flight\":" + inFlight() + ",\"max_in_flight\":" + maxInFlight()
        + ",\"cancelled_streams\":" + cancelledStreams() + ",\"completed_streams\":" + completedStreams() + "}";
  }
}
