package io.sluice.node.inference;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.UpstreamFailure;
import io.sluice.node.routing.Attempt;
import io.sluice.node.routing.Deployment;
import io.sluice.node.util.Stages;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import scala.concurrent.ExecutionContext;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Reads a usable upstream answer into an {@link Outcome} and settles the request with what it
 * used: a whole body read in full, or a stream handed on as it arrives (passed through with a
 * {@link StreamTap}, or decoded into neutral events). A stream is charged once, however it ends:
 * completed, failed, timed out, or cancelled by its client.
 */
final class Answers {
  private final Materializer materializer;
  private final Scheduler scheduler;
  private final ExecutionContext executor;
  private final LongSupplier nanos;
  private final Duration deadline;

  /** @param deadline the longest a request may take; bounds how long an unread stream is held */
  Answers(Materializer materializer, Scheduler scheduler, ExecutionContext executor, LongSupplier nanos, Duration deadline) {
    this.materializer = materializer;
    this.scheduler = scheduler;
    this.executor = executor;
    this.nanos = nanos;
    this.deadline = deadline;
  }

  CompletionStage<Outcome> read(Exchange ex, Attempt a, ProviderAdapter adapter, AttemptHandle handle,
      HttpResponse response, long headAt) {
    boolean passthrough = adapter.passesThrough(a.deployment(), ex.call.body().protocol());
    HttpEntity entity = response.entity();
    boolean json = entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON);
    if (ex.call.stream() && !json) {
      return CompletableFuture.completedFuture(stream(ex, a.deployment(), adapter, handle, response, headAt,
          passthrough));
    }
    long readFor = Math.max(1, (ex.controls.deadlineNanos() - nanos.getAsLong()) / 1_000_000);
    return Stages.direct(entity.toStrict(readFor, materializer))
        .whenComplete((strict, error) -> handle.close())
        .exceptionally(error -> {
          // The upstream said yes but its body did not arrive whole: its failure, not the gateway's.
          throw bodyLost(a.deployment(), Attempts.unwrap(error)).toException();
        })
        .thenApply(strict -> {
          ex.upstreamNanos += nanos.getAsLong() - headAt;
          ByteString data = strict.getData();
          Deployment d = a.deployment();
          if (passthrough) {
            ex.call.observation().passedThrough(data);
            ex.settle(Settlement.whole(adapter.usage(data), ex.ticket().demand(), ex.admitted.price()));
            return new Outcome.Whole(d.name(), response.status().intValue(), data, null, ex.timing(),
                ex.ticket().rateLimitHeaders());
          }
          ChatResponse decoded;
          try {
            decoded = adapter.decode(data);
          } catch (InvalidChat e) {
            throw Refusal.of(Refusal.Kind.UPSTREAM_FAILED, 502, "The upstream model server failed: deployment '"
                + d.name() + "' answered with a body that could not be read: " + e.getMessage(), "upstream_error",
                null).toException();
          }
          ex.call.observation().responded(decoded.model(), decoded.finishReason());
          ex.settle(Settlement.whole(decoded.usage(), ex.ticket().demand(), ex.admitted.price()));
          return new Outcome.Whole(d.name(), response.status().intValue(), null, decoded, ex.timing(),
              ex.ticket().rateLimitHeaders());
        });
  }

  /** A usable answer whose body broke off (the connection dropped) or did not finish in time. */
  private static Refusal bodyLost(Deployment d, Throwable cause) {
    if (cause instanceof java.util.concurrent.TimeoutException
        || cause instanceof UpstreamFailure f && f.kind() == UpstreamFailure.Kind.TIMEOUT) {
      return Refusal.of(Refusal.Kind.UPSTREAM_TIMEOUT, 504, "The upstream timed out: deployment '" + d.name()
          + "' did not finish its response in time.", "upstream_timeout", null);
    }
    return Refusal.of(Refusal.Kind.UPSTREAM_FAILED, 502, "The upstream model server failed: deployment '" + d.name()
        + "' broke off its response (" + cause.getClass().getSimpleName() + ").", "upstream_error", null);
  }

  private Outcome stream(Exchange ex, Deployment d, ProviderAdapter adapter, AttemptHandle handle,
      HttpResponse response, long headAt, boolean passthrough) {
    Source<ByteString, NotUsed> bytes = response.entity().getDataBytes()
        .mapMaterializedValue(m -> NotUsed.getInstance())
        .idleTimeout(d.idleTimeout())
        .completionTimeout(Duration.ofNanos(Math.max(1,
            Math.min(ex.controls.deadlineNanos(), headAt + d.totalTimeout().toNanos()) - nanos.getAsLong())));
    // The stream's reader comes first: when the adapter fails to make one, nothing is left behind
    // (no fallback timer holding the exchange, the upstream's body discarded).
    StreamTap tap;
    StreamDecoder decoder;
    try {
      tap = passthrough ? adapter.tap(ex.call.body().protocol(), ex.call.body().includeUsage()) : null;
      decoder = passthrough ? null : adapter.decoder();
    } catch (RuntimeException e) {
      response.discardEntityBytes(materializer);
      throw e;
    }
    Ending ending = new Ending(ex, handle);
    // If the response is never rendered (the client left first), the stream never runs: end it anyway.
    ending.fallback.set(scheduler.scheduleOnce(d.totalTimeout().plus(deadline), ending::run, executor));
    if (ending.ended.get()) {
      ending.cancelFallback();
    }
    if (passthrough) {
      ending.usage = tap::usage;
      ending.contentEvents = tap::contentChunks;
      // Empty chunks (a partial event held back) are left for the renderer to drop after its
      // recover: Pekko's filter holds one element ahead and loses it when the body fails.
      Source<ByteString, NotUsed> out = bytes
          .map(tap::onChunk)
          .concatLazy(Source.lazySingle(tap::flush))
          .watchTermination((mat, done) -> {
            Stages.direct(done).whenComplete((ok, error) -> ending.run());
            return NotUsed.getInstance();
          });
      return new Outcome.Streamed(d.name(), response.status().intValue(), out, null, ex.timing(),
          ex.ticket().rateLimitHeaders());
    }
    UsageWatch watch = new UsageWatch(ex.call.observation());
    ending.usage = () -> watch.usage;
    ending.contentEvents = () -> watch.contentEvents;
    Source<ChatEvent, NotUsed> events = bytes
        .via(new DecodeStage(decoder))
        .map(watch::see)
        .watchTermination((mat, done) -> {
          Stages.direct(done).whenComplete((ok, error) -> ending.run());
          return NotUsed.getInstance();
        });
    return new Outcome.Streamed(d.name(), response.status().intValue(), null, events, ex.timing(),
        ex.ticket().rateLimitHeaders());
  }

  /** Follows the neutral events of a translated stream for what it must be charged. */
  private static final class UsageWatch {
    private final RequestObservation observation;
    volatile Usage usage;
    volatile long contentEvents;
    String model;

    UsageWatch(RequestObservation observation) {
      this.observation = observation;
    }

    ChatEvent see(ChatEvent e) {
      if (e instanceof ChatEvent.Started s) {
        model = s.model();
      } else if (e instanceof ChatEvent.Finished f) {
        observation.responded(model, f.reason());
      } else if (e instanceof ChatEvent.UsageReported u) {
        usage = u.usage();
      } else if (e instanceof ChatEvent.TextDelta || e instanceof ChatEvent.ToolArgumentsDelta) {
        contentEvents++;
      }
      return e;
    }
  }

  /** Ends a stream once: cancels the fallback timer, releases the attempt, settles the ticket. */
  private static final class Ending implements Runnable {
    final AtomicBoolean ended = new AtomicBoolean();
    final AtomicReference<Cancellable> fallback = new AtomicReference<>();
    private final Exchange ex;
    private final AttemptHandle handle;
    volatile java.util.function.Supplier<Usage> usage = () -> null;
    volatile java.util.function.LongSupplier contentEvents = () -> 0;

    Ending(Exchange ex, AttemptHandle handle) {
      this.ex = ex;
      this.handle = handle;
    }

    @Override
    public void run() {
      if (ended.compareAndSet(false, true)) {
        // The fallback timer holds this exchange until it fires: cancel it, or every stream's
        // request stays on the heap for the whole total timeout.
        cancelFallback();
        handle.close();
        ex.settle(Settlement.stream(usage.get(), contentEvents.getAsLong(), ex.ticket().demand(),
            ex.admitted.price()));
      }
    }

    void cancelFallback() {
      Cancellable t = fallback.getAndSet(null);
      if (t != null) {
        t.cancel();
      }
    }
  }
}
