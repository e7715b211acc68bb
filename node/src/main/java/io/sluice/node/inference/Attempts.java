package io.sluice.node.inference;

import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.provider.UpstreamFailure;
import io.sluice.node.routing.Attempt;
import io.sluice.node.routing.AttemptPlan;
import io.sluice.node.routing.CircuitGate;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.RetryDecision;
import io.sluice.node.routing.RetryPolicy;
import io.sluice.node.routing.RoutePlanner;
import io.sluice.node.util.Stages;
import io.sluice.persistence.CircuitState;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import scala.concurrent.ExecutionContext;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * The pipeline's attempt loop: plan the attempts, then for each one take the deployment through
 * an {@link AttemptHandle}, have the provider build the request, send it, classify the answer,
 * and retry or fall back as the {@link RetryPolicy} says, within the request's deadline. A usable
 * answer goes to {@link Answers} to be read and settled. Every way out of the loop settles the
 * ticket and closes the attempt's handle.
 */
final class Attempts {
  private final Map<String, ProviderAdapter> adapters;
  private final Upstream upstream;
  private final RoutePlanner planner;
  private final RetryPolicy retries;
  private final DeploymentStates states;
  private final CircuitReports circuits;
  private final CircuitGate gate;
  private final GatewayMetrics metrics;
  private final Answers answers;
  private final Scheduler scheduler;
  private final ExecutionContext executor;
  private final Materializer materializer;
  private final LongSupplier nanos;

  Attempts(Map<String, ProviderAdapter> adapters, Upstream upstream, RoutePlanner planner, RetryPolicy retries,
      DeploymentStates states, CircuitReports circuits, CircuitGate gate, GatewayMetrics metrics, Answers answers,
      Scheduler scheduler, ExecutionContext executor, Materializer materializer, LongSupplier nanos) {
    this.adapters = adapters;
    this.upstream = upstream;
    this.planner = planner;
    this.retries = retries;
    this.states = states;
    this.circuits = circuits;
    this.gate = gate;
    this.metrics = metrics;
    this.answers = answers;
    this.scheduler = scheduler;
    this.executor = executor;
    this.materializer = materializer;
    this.nanos = nanos;
  }

  /** Runs the attempts of an admitted request. */
  CompletionStage<Outcome> run(Exchange ex) {
    CompletionStage<Outcome> outcome;
    try {
      ex.plan = plan(ex);
      outcome = attempt(ex, ex.plan.next());
    } catch (RuntimeException e) {
      outcome = CompletableFuture.failedFuture(e);
    }
    return outcome.whenComplete((ok, failure) -> {
      if (failure != null) {
        ex.abandon();
      }
    });
  }

  /** A pinned deployment alone, or the planner's order over healthy deployments whose circuit is closed. */
  private AttemptPlan plan(Exchange ex) {
    if (ex.controls.pinned() != null) {
      Deployment pinned = ex.admitted.model().deployments().stream()
          .filter(d -> d.name().equals(ex.controls.pinned())).findFirst().orElseThrow();
      return new AttemptPlan(Collections.nCopies(ex.controls.maxAttempts(), new Attempt(ex.admitted.model(), pinned)));
    }
    Map<String, CircuitState> circuits = ex.admitted.view().state().circuits();
    return planner.plan(ex.admitted.model().name(), m -> ex.admitted.view().allows(m.name()),
        d -> states.available(d) && gate.allows(circuits, d));
  }

  private CompletionStage<Outcome> attempt(Exchange ex, Optional<Attempt> next) {
    if (next.isEmpty() || ex.attempts >= ex.controls.maxAttempts()) {
      return giveUp(ex);
    }
    Attempt a = next.get();
    Deployment d = a.deployment();
    Object opened = AttemptHandle.open(states.get(d), ex.controls.pinned() != null);
    if (!(opened instanceof AttemptHandle handle)) {
      ex.failures.add(d.name() + (opened == AttemptHandle.Unavailable.EJECTED
          ? ": ejected as unhealthy" : ": at its concurrency limit"));
      return attempt(ex, ex.plan.next());
    }
    ex.handle = handle;
    Duration remaining = ex.remaining(nanos.getAsLong());
    if (remaining.isNegative() || remaining.isZero()) {
      handle.close();
      ex.failures.add("the request's deadline passed before " + (ex.attempts == 0 ? "an attempt" : "a retry")
          + " could be made");
      if (ex.attempts == 0) {
        ex.lastError = ErrorClass.TIMEOUT;
      }
      return giveUp(ex);
    }
    ProviderAdapter adapter = adapters.get(d.provider());
    HttpRequest request;
    try {
      request = adapter.request(d, ex.call);
    } catch (InvalidChat e) {
      handle.close();
      return CompletableFuture.failedFuture(Refusal.invalid(e.getMessage(), e.param()).toException());
    }
    ex.attempts++;
    ex.call.observation().attemptStarted(d);
    request = ex.call.observation().propagate(request);
    Duration firstByte = shorter(d.firstByteTimeout(), remaining);
    long sentAt = nanos.getAsLong();
    CompletionStage<HttpResponse> sent = ex.call.stream()
        ? upstream.sendStreamed(d, request, firstByte)
        : upstream.sendWhole(d, request, firstByte, shorter(d.totalTimeout(), remaining));
    return sent.handle((response, error) -> {
      long headAt = nanos.getAsLong();
      ex.upstreamNanos += headAt - sentAt;
      if (error != null) {
        return failedToAnswer(ex, a, handle, unwrap(error));
      }
      int status = response.status().intValue();
      if (status >= 200 && status < 300) {
        handle.responded();
        metrics.attempt(d, "OK");
        circuits.succeeded(ex.admitted.view(), d);
        return answers.read(ex, a, adapter, handle, response, headAt);
      }
      return refused(ex, a, adapter, handle, response);
    }).thenCompose(r -> r);
  }

  /** No usable answer came: no connection, or no answer in time. */
  private CompletionStage<Outcome> failedToAnswer(Exchange ex, Attempt a, AttemptHandle handle, Throwable cause) {
    Deployment d = a.deployment();
    UpstreamFailure f = cause instanceof UpstreamFailure u ? u
        : new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), cause.getClass().getSimpleName());
    ErrorClass ec = ErrorClass.of(f.kind());
    handle.failed(ec);
    ex.call.observation().attemptEnded(ec.name().toLowerCase());
    metrics.attempt(d, ec.name());
    ex.failures.add(f.getMessage());
    ex.lastError = ec;
    ex.lastUpstream = null;
    return retry(ex, a, ec, Optional.empty());
  }

  /** The upstream answered with an error status: classify it, read its body, retry or pass it on. */
  private CompletionStage<Outcome> refused(Exchange ex, Attempt a, ProviderAdapter adapter, AttemptHandle handle,
      HttpResponse response) {
    Deployment d = a.deployment();
    int status = response.status().intValue();
    Optional<Duration> retryAfter =
        adapter.retryAfter(name -> response.getHeader(name).map(HttpHeader::value), Instant.now());
    long readFor = Math.max(1, ex.remaining(nanos.getAsLong()).toMillis());
    return Stages.direct(response.entity().toStrict(readFor, materializer)).handle((strict, e) -> {
      ByteString body = strict == null ? ByteString.emptyByteString() : strict.getData();
      UpstreamError err = adapter.error(status, name -> response.getHeader(name).map(HttpHeader::value), body);
      ErrorClass ec = err.errorClass();
      handle.failed(ec);
      ex.call.observation().attemptEnded(ec.name().toLowerCase());
      metrics.attempt(d, ec.name());
      circuits.failed(ex.admitted.view(), d, status, ec, retryAfter);
      ex.failures.add(d.name() + ": HTTP " + status + " (" + redact(d, err.message()) + ")");
      ex.lastError = ec;
      ex.lastUpstream = err;
      ex.lastRetryAfter = retryAfter;
      if (!ec.retryable()) {
        // The upstream refused the request itself: pass its answer on, in the client's envelope.
        ex.settle(Settlement.NOTHING_GENERATED);
        boolean sameProtocol = adapter.passesThrough(d, ex.call.body().protocol());
        Refusal r = new Refusal(Refusal.Kind.UPSTREAM_REFUSED, status, redact(d, err.message()),
            sameProtocol ? redact(d, err.code()) : null, sameProtocol ? redact(d, err.param()) : null,
            sameProtocol ? redact(d, err.type()) : null, 0, List.of(RawHeader.create("x-sluice-deployment", d.name())));
        return CompletableFuture.<Outcome>failedFuture(r.withHeaders(ex.ticket().rateLimitHeaders()).toException());
      }
      return retry(ex, a, ec, retryAfter);
    }).thenCompose(r -> r);
  }

  /** Whether and when to try again after {@code failed} failed with {@code error}. */
  private CompletionStage<Outcome> retry(Exchange ex, Attempt failed, ErrorClass error, Optional<Duration> retryAfter) {
    if (ex.attempts >= ex.controls.maxAttempts()) {
      return giveUp(ex);
    }
    RetryDecision decision = retries.decide(ex.attempts, error, retryAfter, ex.remaining(nanos.getAsLong()), false);
    if (!(decision instanceof RetryDecision.Retry retry)) {
      return giveUp(ex);
    }
    Optional<AttemptPlan.Step> step = ex.plan.afterFailure(failed, retry);
    if (step.isEmpty()) {
      return giveUp(ex);
    }
    Duration delay = step.get().delay();
    if (delay.isZero() || delay.isNegative()) {
      return attempt(ex, Optional.of(step.get().attempt()));
    }
    ex.waitedNanos += delay.toNanos();
    return Stages.after(scheduler, delay, executor).thenCompose(v -> attempt(ex, Optional.of(step.get().attempt())));
  }

  /**
   * Every attempt failed, or none could be made: one refusal naming each attempt's failure. 429
   * when the upstreams were rate limiting, 504 when the last one timed out or the deadline passed
   * before the first, 503 when no deployment could be tried, else 502.
   */
  private CompletionStage<Outcome> giveUp(Exchange ex) {
    ex.settle(Settlement.NOTHING_GENERATED);
    String detail = ex.failures.isEmpty() ? "no deployment is available" : String.join("; ", ex.failures);
    Refusal r;
    if (ex.attempts == 0 && ex.lastError == ErrorClass.TIMEOUT) {
      r = Refusal.of(Refusal.Kind.UPSTREAM_TIMEOUT, 504, "No upstream could be tried in time: " + detail + ".",
          "upstream_timeout", null);
    } else if (ex.attempts == 0) {
      r = Refusal.of(Refusal.Kind.UNAVAILABLE, 503, "No deployment could take the request: " + detail + ".",
          "no_available_deployment", null);
    } else if (ex.lastError == ErrorClass.RATE_LIMITED) {
      r = new Refusal(Refusal.Kind.RATE_LIMITED, 429, "The upstream is rate limiting after " + ex.attempts
          + " attempt(s): " + detail + ".", "rate_limit_exceeded", null, "requests", 0, List.of());
    } else if (ex.lastError == ErrorClass.TIMEOUT) {
      r = Refusal.of(Refusal.Kind.UPSTREAM_TIMEOUT, 504, "The upstream timed out after " + ex.attempts
          + " attempt(s): " + detail + ".", "upstream_timeout", null);
    } else {
      String code = ex.lastUpstream == null ? "upstream_unavailable" : "upstream_error";
      r = Refusal.of(Refusal.Kind.UPSTREAM_FAILED, 502, "The upstream failed after " + ex.attempts + " attempt(s): "
          + detail + ".", code, null);
    }
    if (r.status() == 429 || r.status() == 503) {
      r = r.retryAfter(ex.lastRetryAfter.map(d -> Math.max(1, (d.toMillis() + 999) / 1000)).orElse(1L));
    }
    return CompletableFuture.failedFuture(r.withHeaders(ex.ticket().rateLimitHeaders()).toException());
  }

  /** An upstream's text with the deployment's own key taken out (upstreams echo keys back). */
  static String redact(Deployment d, String text) {
    if (text == null || d.apiKey() == null || d.apiKey().isEmpty() || !text.contains(d.apiKey())) {
      return text;
    }
    return text.replace(d.apiKey(), "***");
  }

  private static Duration shorter(Duration a, Duration b) {
    return a.compareTo(b) < 0 ? a : b;
  }

  /** Unwraps a CompletionException. */
  static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
