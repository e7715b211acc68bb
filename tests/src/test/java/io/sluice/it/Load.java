package io.sluice.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Client load on a cluster: {@code concurrency} workers each send one chat request at a time to the
 * node the router picks, optionally paced to {@code perSecond} overall. Always bounded: it stops
 * after {@code maxRequests} requests or {@code maxTime}, whichever comes first, or on {@link
 * #stop()}. Every answer (or transport failure) is recorded with the node and the times it was
 * sent and answered, in milliseconds since the load started.
 */
final class Load implements AutoCloseable {
  /** One request's outcome. Status -1 is a transport failure, -2 a client timeout. */
  record Result(long seq, int node, int status, String code, long sentMs, long doneMs) {
    boolean ok() {
      return status == 200;
    }

    @Override
    public String toString() {
      return "#" + seq + " node" + node + " " + status + (code == null ? "" : " " + code) + " @" + sentMs + "-" + doneMs
          + "ms";
    }
  }

  /** Picks the node for request {@code seq}; null when there is none to send to right now. */
  interface Router {
    SluiceCluster.Node pick(long seq);
  }

  private final long t0 = System.nanoTime();
  private final String key;
  private final String body;
  private final Router router;
  private final int maxRequests;
  private final long deadlineNanos;
  private final Duration requestTimeout;
  private final ExecutorService workers;
  private final ScheduledExecutorService pacer;
  private final Semaphore permits;
  private final AtomicLong issued = new AtomicLong();
  private final ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
  private volatile boolean stopped;
  private volatile boolean paced;

  private Load(String key, String body, Router router, int concurrency, int perSecond, int maxRequests,
      Duration maxTime, Duration requestTimeout) {
    this.key = key;
    this.body = body;
    this.router = router;
    this.maxRequests = maxRequests;
    this.deadlineNanos = t0 + maxTime.toNanos();
    this.requestTimeout = requestTimeout;
    this.workers = Executors.newFixedThreadPool(concurrency);
    if (perSecond > 0) {
      paced = true;
      permits = new Semaphore(0);
      pacer = Executors.newSingleThreadScheduledExecutor();
      // Every 50 ms, release what the rate allows since the start (no bursts after a stall).
      AtomicLong ticks = new AtomicLong();
      AtomicLong released = new AtomicLong();
      pacer.scheduleAtFixedRate(() -> {
        long due = ticks.incrementAndGet() * perSecond / 20;
        long n = due - released.getAndSet(due);
        if (n > 0 && permits.availablePermits() < Math.max(2, perSecond / 10)) permits.release((int) n);
      }, 0, 50, TimeUnit.MILLISECONDS);
    } else {
      permits = null;
      pacer = null;
    }
    for (int i = 0; i < concurrency; i++) {
      workers.execute(this::work);
    }
    workers.shutdown();
  }

  /** Starts the load in the background. {@code perSecond} 0 means as fast as the workers go. */
  static Load start(String key, String body, Router router, int concurrency, int perSecond, int maxRequests,
      Duration maxTime) {
    return new Load(key, body, router, concurrency, perSecond, maxRequests, maxTime, Duration.ofSeconds(20));
  }

  private void work() {
    while (!stopped && System.nanoTime() < deadlineNanos) {
      try {
        if (paced && !permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          continue;
        }
      } catch (InterruptedException e) {
        return;
      }
      long seq = issued.getAndIncrement();
      if (seq >= maxRequests) {
        return;
      }
      SluiceCluster.Node node = router.pick(seq);
      if (node == null) {
        continue;
      }
      results.add(send(seq, node));
    }
  }

  private Result send(long seq, SluiceCluster.Node node) {
    long sent = elapsedMs();
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
        .timeout(requestTimeout).header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    try {
      HttpResponse<String> r = Api.CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      String code = null;
      if (r.statusCode() != 200) {
        try {
          code = Api.json(r.body()).at("/error/code").asText(null);
        } catch (RuntimeException e) {
          code = "unparsable body";
        }
      }
      return new Result(seq, node.index, r.statusCode(), code, sent, elapsedMs());
    } catch (HttpTimeoutException e) {
      return new Result(seq, node.index, -2, "timeout", sent, elapsedMs());
    } catch (IOException e) {
      return new Result(seq, node.index, -1, e.getClass().getSimpleName(), sent, elapsedMs());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(seq, node.index, -1, "interrupted", sent, elapsedMs());
    }
  }

  /** From now on the workers send as fast as they go (still within the count and time bounds). */
  void unpace() {
    paced = false;
    if (pacer != null) pacer.shutdownNow();
  }

  /** Milliseconds since the load started. */
  long elapsedMs() {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** Whether every worker has finished (the load hit a bound or was stopped). */
  boolean finished() {
    return workers.isTerminated();
  }

  /** Waits for the workers to reach a bound (count or time). */
  void awaitFinished(Duration atMost) {
    try {
      if (!workers.awaitTermination(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("load did not finish within " + atMost);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (pacer != null) pacer.shutdownNow();
    }
  }

  /** Stops sending; requests already sent are waited for. */
  void stop() {
    stopped = true;
    awaitFinished(requestTimeout.plusSeconds(10));
  }

  @Override
  public void close() {
    stopped = true;
    workers.shutdownNow();
    if (pacer != null) pacer.shutdownNow();
  }

  /** All results so far, in the order the requests were issued. */
  List<Result> results() {
    List<Result> all = new ArrayList<>(results);
    all.sort(Comparator.comparingLong(Result::seq));
    return all;
  }

  long count(Predicate<Result> p) {
    return results.stream().filter(p).count();
  }
}
