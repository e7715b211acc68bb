package io.sluice.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.sluice.node.NodeSettings;
import io.sluice.node.admission.Admission;
import io.sluice.node.admission.Demand;
import io.sluice.node.admission.Pricing;
import io.sluice.node.admission.QuotaExceeded;
import io.sluice.node.admission.SseUsage;
import io.sluice.node.admission.Ticket;
import io.sluice.node.admission.TokenEstimator;
import io.sluice.node.admission.UsageScan;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.api.RequestScan;
import io.sluice.node.api.RequestScan.Operation;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.auth.TenantView;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.RetryAfter;
import io.sluice.node.provider.UpstreamClient;
import io.sluice.node.provider.UpstreamFailure;
import io.sluice.node.routing.Attempt;
import io.sluice.node.routing.AttemptPlan;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.OutlierDetector;
import io.sluice.node.routing.RetryDecision;
import io.sluice.node.routing.RetryPolicy;
import io.sluice.node.routing.RoutePlanner;
import io.sluice.node.routing.RoutingSettings;
import io.sluice.node.util.Stages;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.UsageCounters;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.ExecutionContextExecutor;

/**
 * The OpenAI-compatible API: {@code POST /v1/chat/completions}, {@code POST /v1/embeddings} and
 * {@code GET /v1/models}.
 *
 * <p>A request is authenticated against the node's key directory, its body is scanned once,
 * admission reserves its estimated usage from the node's leases, and it is forwarded as bytes.
 * The {@link RoutePlanner} orders the attempts (the model's deployments by its strategy, then its
 * fallback models); each attempt passes the deployment's concurrency limit and outlier detector,
 * and a failure is retried as the {@link RetryPolicy} decides, within the request's deadline.
 * Responses stream back chunk by chunk; a stream is never retried once its first byte went out,
 * and a stream that dies or goes silent ends with an SSE error event. The request's ticket is
 * charged exactly once, with the usage of the attempt that served it.
 */
public final class InferenceRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceRoutes.class);
  private static final JsonFactory JSON = new JsonFactory();
  /** What a request that produced no tokens is charged: the request itself. */
  private static final UsageCounters NOTHING_GENERATED = new UsageCounters(1, 0, 0, 0);
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private final NodeSettings settings;
  private final KeyDirectory directory;
  private final ModelCatalog catalog;
  private final Map<String, ProviderAdapter> adapters;
  private final UpstreamClient upstream;
  private final Materializer materializer;
  private final Admission admission;
  private final QuotaSettings quota;
  private final RoutingSettings routing;
  private final RoutePlanner planner;
  private final RetryPolicy retries;
  private final DeploymentStates states;
  private final GatewayMetrics metrics;
  private final RequestScan.TokenCounter tokens;
  private final Map<String, Pricing> pricing = new HashMap<>();
  private final ClusterSharding sharding;
  private final Scheduler scheduler;
  private final ExecutionContextExecutor executor;

  public InferenceRoutes(ActorSystem<?> system, NodeSettings settings, KeyDirectory directory, ModelCatalog catalog,
      Map<String, ProviderAdapter> adapters, UpstreamClient upstream, Admission admission, QuotaSettings quota,
      TokenEstimator estimator, RoutingSettings routing, RoutePlanner planner, RetryPolicy retries,
      DeploymentStates states, GatewayMetrics metrics) {
    this.settings = settings;
    this.directory = directory;
    this.catalog = catalog;
    this.adapters = adapters;
    this.upstream = upstream;
    this.materializer = Materializer.matFromSystem(system);
    this.admission = admission;
    this.quota = quota;
    this.routing = routing;
    this.planner = planner;
    this.retries = retries;
    this.states = states;
    this.metrics = metrics;
    this.tokens = estimator.counter("o200k");
    this.sharding = ClusterSharding.get(system);
    this.scheduler = system.classicSystem().scheduler();
    this.executor = system.executionContext();
    catalog.models().values().forEach(m -> pricing.put(m.name(), Pricing.of(m)));
  }

  private static final org.apache.pekko.http.scaladsl.model.Uri.Path CHAT_PATH = uriPath("/v1/chat/completions");
  private static final org.apache.pekko.http.scaladsl.model.Uri.Path EMBEDDINGS_PATH = uriPath("/v1/embeddings");

  private static org.apache.pekko.http.scaladsl.model.Uri.Path uriPath(String path) {
    return ((org.apache.pekko.http.scaladsl.model.HttpRequest) HttpRequest.create(path)).uri().path();
  }

  /**
   * The inference requests, answered without the routing DSL (see {@link HttpServer#bind}); null
   * for any other request, which {@link #route()} and the other routes then answer.
   */
  public CompletionStage<HttpResponse> direct(HttpRequest request) {
    if (!request.method().equals(org.apache.pekko.http.javadsl.model.HttpMethods.POST)) {
      return null;
    }
    org.apache.pekko.http.scaladsl.model.Uri.Path path =
        ((org.apache.pekko.http.scaladsl.model.HttpRequest) request).uri().path();
    if (path.equals(CHAT_PATH)) {
      return infer(request, Operation.CHAT);
    }
    if (path.equals(EMBEDDINGS_PATH)) {
      return infer(request, Operation.EMBEDDINGS);
    }
    return null;
  }

  public Route route() {
    return pathPrefix("v1", () -> concat(
        path(segment("chat").slash("completions"),
            () -> post(() -> extractRequest(r -> completeWithFuture(infer(r, Operation.CHAT))))),
        path("embeddings",
            () -> post(() -> extractRequest(r -> completeWithFuture(infer(r, Operation.EMBEDDINGS))))),
        path("models", () -> get(() -> extractRequest(r -> completeWithFuture(models(r)))))));
  }

  /** The client's opt-in controls, read from x-sluice-* headers. */
  private record Controls(String requestId, int maxAttempts, long deadlineNanos, String pinned) {}

  private Controls controls(HttpRequest request, long start) {
    String id = header(request, "x-sluice-request-id");
    if (id == null || !REQUEST_ID.matcher(id).matches()) {
      byte[] random = new byte[12];
      ThreadLocalRandom.current().nextBytes(random);
      id = "req_" + HexFormat.of().formatHex(random);
    }
    int maxAttempts = routing.maxAttempts();
    String retriesHeader = header(request, "x-sluice-retries");
    if (retriesHeader != null) {
      maxAttempts = 1 + (int) Math.min(routing.maxAttempts() - 1, parseNonNegative(retriesHeader, "x-sluice-retries"));
    }
    Duration deadline = routing.deadline();
    String timeoutHeader = header(request, "x-sluice-timeout-ms");
    if (timeoutHeader != null) {
      long ms = parseNonNegative(timeoutHeader, "x-sluice-timeout-ms");
      if (ms == 0) {
        throw new Rejected(OpenAiError.invalidRequest("'x-sluice-timeout-ms' must be positive.", "x-sluice-timeout-ms"));
      }
      deadline = Duration.ofMillis(Math.min(ms, routing.deadline().toMillis()));
    }
    return new Controls(id, maxAttempts, start + deadline.toNanos(), header(request, "x-sluice-deployment"));
  }

  private static long parseNonNegative(String value, String name) {
    try {
      long v = Long.parseLong(value.trim());
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new Rejected(OpenAiError.invalidRequest("'" + name + "' must be a non-negative integer.", name));
  }

  private static String header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value).orElse(null);
  }

  /** Authenticates the caller: completes with its tenant, or fails with the 401 envelope. */
  private CompletionStage<TenantView> authenticate(HttpRequest request) {
    String key = ApiKeys.bearer(header(request, "Authorization"));
    String tenantId = ApiKeys.tenantOf(key);
    if (tenantId == null) {
      return CompletableFuture.failedFuture(new Rejected(OpenAiError.invalidApiKey()));
    }
    return directory.tenant(tenantId).thenApply(view -> {
      if (!view.accepts(ApiKeys.hash(key))) {
        throw new Rejected(OpenAiError.invalidApiKey());
      }
      return view;
    });
  }

  CompletionStage<HttpResponse> infer(HttpRequest request, Operation op) {
    long start = System.nanoTime();
    Controls controls;
    try {
      controls = controls(request, start);
    } catch (Rejected r) {
      request.discardEntityBytes(materializer);
      return CompletableFuture.completedFuture(failureResponse(r));
    }
    RawHeader requestId = RawHeader.create("x-sluice-request-id", controls.requestId());
    return authenticate(request).handle((view, refused) -> {
      if (refused == null && request.entity().getContentLengthOption().orElse(0L) > settings.maxRequestBodyBytes()) {
        refused = new Rejected(OpenAiError.tooLarge(settings.maxRequestBodyBytes()));
      }
      if (refused != null) {
        request.discardEntityBytes(materializer);
        return CompletableFuture.completedFuture(failureResponse(refused));
      }
      // A body that arrived whole is used as it is; only a streamed one is collected first.
      CompletionStage<ByteString> body = request.entity() instanceof HttpEntity.Strict strict
          ? CompletableFuture.completedFuture(strict.getData())
          : Stages.direct(request.entity().toStrict(settings.askTimeout().toMillis(), settings.maxRequestBodyBytes(),
              materializer)).thenApply(HttpEntity.Strict::getData);
      return body.thenCompose(bytes -> admit(view, op, bytes.toArrayUnsafe(), start, controls))
          .exceptionally(this::failureResponse);
    }).thenCompose(response -> response).thenApply(response -> {
      metrics.request(op, response.status().intValue());
      return response.addHeader(requestId);
    });
  }

  /** Scans and checks the body, reserves its estimated usage, then dispatches it. */
  private CompletionStage<HttpResponse> admit(TenantView view, Operation op, byte[] body, long start, Controls controls) {
    RequestScan scan;
    try {
      scan = RequestScan.scan(body, op, tokens);
    } catch (RequestScan.InvalidRequest e) {
      throw new Rejected(e.error());
    }
    ModelCatalog.Model model = catalog.get(scan.model());
    if (model == null) {
      throw new Rejected(OpenAiError.modelNotFound(scan.model()));
    }
    if (!view.allows(model.name())) {
      throw new Rejected(OpenAiError.modelNotAllowed(model.name()));
    }
    if (controls.pinned() != null && model.deployments().stream().noneMatch(d -> d.name().equals(controls.pinned()))) {
      throw new Rejected(OpenAiError.invalidRequest("'x-sluice-deployment' names no deployment of '" + model.name()
          + "'.", "x-sluice-deployment"));
    }
    Pricing price = pricing.get(model.name());
    long completion = op == Operation.CHAT
        ? (scan.maxTokens() >= 0 ? scan.maxTokens() : quota.defaultCompletionEstimate()) : 0;
    Demand demand = new Demand(scan.promptTokens(), completion, price.costNanos(scan.promptTokens(), completion));
    return admission.admit(view, demand).thenCompose(ticket -> {
      Exchange ex = new Exchange(view, op, scan, body, ticket, start, controls);
      try {
        ex.plan = plan(ex, model);
        return attempt(ex, ex.plan.next());
      } catch (RuntimeException e) {
        ticket.finish(NOTHING_GENERATED);
        throw e;
      }
    });
  }

  /** One request on its way through its attempts. Its steps run one after another, never at once. */
  private static final class Exchange {
    final TenantView view;
    final Operation op;
    final RequestScan scan;
    final byte[] body;
    final Ticket ticket;
    final long start;
    final Controls controls;
    final List<String> failures = new ArrayList<>(3);
    AttemptPlan plan;
    int attempts;
    long upstreamNanos;
    long waitedNanos;
    ErrorClass lastError;
    OpenAiError lastUpstreamError;
    Optional<Duration> lastRetryAfter = Optional.empty();

    Exchange(TenantView view, Operation op, RequestScan scan, byte[] body, Ticket ticket, long start, Controls controls) {
      this.view = view;
      this.op = op;
      this.scan = scan;
      this.body = body;
      this.ticket = ticket;
      this.start = start;
      this.controls = controls;
    }

    Duration remaining() {
      return Duration.ofNanos(controls.deadlineNanos() - System.nanoTime());
    }

    boolean stream() {
      return scan.stream() && op == Operation.CHAT;
    }
  }

  /**
   * The attempts for this request: a pinned deployment alone, or the planner's order over the
   * deployments that are healthy and whose circuit is not open for this tenant.
   */
  private AttemptPlan plan(Exchange ex, ModelCatalog.Model model) {
    if (ex.controls.pinned() != null) {
      Deployment pinned = model.deployments().stream().filter(d -> d.name().equals(ex.controls.pinned()))
          .findFirst().orElseThrow();
      return new AttemptPlan(java.util.Collections.nCopies(ex.controls.maxAttempts(), new Attempt(model, pinned)));
    }
    Map<String, CircuitState> circuits = ex.view.state().circuits();
    Instant now = circuits.isEmpty() ? null : Instant.now();
    return planner.plan(model.name(), m -> ex.view.allows(m.name()),
        d -> states.available(d) && (now == null || !circuitOpen(circuits.get(d.name()), now)));
  }

  private static boolean circuitOpen(CircuitState c, Instant now) {
    return c != null && c.status(now).equals("open");
  }

  /** Tries {@code next}; on a retryable failure moves on as the retry policy says. */
  private CompletionStage<HttpResponse> attempt(Exchange ex, Optional<Attempt> next) {
    if (next.isEmpty() || ex.attempts >= ex.controls.maxAttempts()) {
      return CompletableFuture.completedFuture(giveUp(ex));
    }
    Attempt a = next.get();
    Deployment d = a.deployment();
    DeploymentStates.State st = states.get(d);
    if (!st.limiter().tryAcquire()) {
      ex.failures.add(d.name() + ": at its concurrency limit");
      return attempt(ex, ex.plan.next());
    }
    AttemptHold permit = new AttemptHold(st, st.health().tryAcquire());
    if (!permit.health.granted() && ex.controls.pinned() == null) {
      st.limiter().release();
      ex.failures.add(d.name() + ": ejected as unhealthy");
      return attempt(ex, ex.plan.next());
    }
    Duration remaining = ex.remaining();
    if (remaining.isNegative() || remaining.isZero()) {
      permit.abandon();
      return CompletableFuture.completedFuture(giveUp(ex));
    }
    ex.attempts++;
    ProviderAdapter adapter = adapters.get(d.provider());
    HttpRequest up = adapter.request(d, ex.op, ex.scan.forUpstream(ex.body, d.upstreamModel(), ex.stream()));
    Duration firstByte = shorter(d.firstByteTimeout(), remaining);
    long sentAt = System.nanoTime();
    long t0 = st.latency().start();
    CompletionStage<HttpResponse> sent = ex.stream() ? upstream.sendStreamed(d, up, firstByte)
        : upstream.sendWhole(d, up, firstByte, shorter(d.totalTimeout(), remaining));
    return sent.handle((response, error) -> {
      long headAt = System.nanoTime();
      ex.upstreamNanos += headAt - sentAt;
      if (error != null) {
        Throwable cause = Responses.unwrap(error);
        UpstreamFailure f = cause instanceof UpstreamFailure u ? u
            : new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), cause.getClass().getSimpleName());
        ErrorClass ec = ErrorClass.of(f.kind());
        if (ec == ErrorClass.TIMEOUT) {
          st.latency().end(t0);
        } else {
          st.latency().endWithoutSample();
        }
        permit.failed(ec);
        metrics.attempt(d, ec.name());
        ex.failures.add(f.getMessage());
        ex.lastError = ec;
        ex.lastUpstreamError = f.error();
        return retry(ex, a, ec, Optional.empty());
      }
      int status = response.status().intValue();
      if (status >= 200 && status < 300) {
        st.latency().end(t0);
        permit.succeeded();
        metrics.attempt(d, "OK");
        reportSuccessIfProbing(ex.view, d);
        return success(ex, a, permit, response, headAt);
      }
      st.latency().endWithoutSample();
      ErrorClass ec = ErrorClass.classify(status);
      permit.health(ec);
      metrics.attempt(d, ec.name());
      Optional<Duration> retryAfter =
          RetryAfter.fromHeaders(name -> response.getHeader(name).map(HttpHeader::value), Instant.now());
      return Stages.direct(response.entity().toStrict(Math.max(1, ex.remaining().toMillis()), materializer))
          .handle((strict, e) -> {
            permit.release();
            ByteString body = strict == null ? ByteString.emptyByteString() : strict.getData();
            OpenAiError upstreamError = upstreamError(adapter, d, status, body);
            reportFailure(ex.view, d, status, retryAfter);
            ex.failures.add(d.name() + ": HTTP " + status + " (" + upstreamError.message() + ")");
            ex.lastError = ec;
            ex.lastUpstreamError = upstreamError;
            ex.lastRetryAfter = retryAfter;
            if (!ec.retryable()) {
              // The upstream refused the request itself: pass its answer on, in the same envelope.
              ex.ticket.finish(NOTHING_GENERATED);
              return CompletableFuture.completedFuture(Responses.error(upstreamError)
                  .addHeader(RawHeader.create("x-sluice-deployment", d.name()))
                  .addHeaders(ex.ticket.rateLimitHeaders()));
            }
            return retry(ex, a, ec, retryAfter);
          }).thenCompose(r -> r);
    }).thenCompose(r -> r);
  }

  /** Decides whether and when to try again after {@code failed} failed with {@code error}. */
  private CompletionStage<HttpResponse> retry(Exchange ex, Attempt failed, ErrorClass error,
      Optional<Duration> retryAfter) {
    if (ex.attempts >= ex.controls.maxAttempts()) {
      return CompletableFuture.completedFuture(giveUp(ex));
    }
    RetryDecision decision = retries.decide(ex.attempts, error, retryAfter, ex.remaining(), false);
    if (!(decision instanceof RetryDecision.Retry retry)) {
      return CompletableFuture.completedFuture(giveUp(ex));
    }
    Optional<AttemptPlan.Step> step = ex.plan.afterFailure(failed, retry);
    if (step.isEmpty()) {
      return CompletableFuture.completedFuture(giveUp(ex));
    }
    Duration delay = step.get().delay();
    if (delay.isZero() || delay.isNegative()) {
      return attempt(ex, Optional.of(step.get().attempt()));
    }
    ex.waitedNanos += delay.toNanos();
    return Stages.after(scheduler, delay, executor).thenCompose(v -> attempt(ex, Optional.of(step.get().attempt())));
  }

  /**
   * Every attempt failed, or none could be made: one error naming each attempt's failure. 429
   * when the upstreams were rate-limiting, 504 when the last one timed out, 503 when no
   * deployment could be tried, else 502.
   */
  private HttpResponse giveUp(Exchange ex) {
    ex.ticket.finish(NOTHING_GENERATED);
    String detail = ex.failures.isEmpty() ? "no deployment is available" : String.join("; ", ex.failures);
    OpenAiError error;
    if (ex.attempts == 0) {
      error = new OpenAiError(503, "No deployment could take the request: " + detail + ".", "upstream_error", null,
          "no_available_deployment");
    } else if (ex.lastError == ErrorClass.RATE_LIMITED) {
      error = new OpenAiError(429, "The upstream is rate limiting after " + ex.attempts + " attempt(s): " + detail
          + ".", "requests", null, "rate_limit_exceeded");
    } else if (ex.lastError == ErrorClass.TIMEOUT) {
      error = new OpenAiError(504, "The upstream timed out after " + ex.attempts + " attempt(s): " + detail + ".",
          "upstream_error", null, "upstream_timeout");
    } else {
      String code = ex.lastUpstreamError != null && ex.lastUpstreamError.code() != null
          && ex.lastUpstreamError.code().startsWith("upstream") ? ex.lastUpstreamError.code() : "upstream_error";
      error = new OpenAiError(502, "The upstream failed after " + ex.attempts + " attempt(s): " + detail + ".",
          "upstream_error", null, code);
    }
    HttpResponse response = Responses.error(error).addHeaders(ex.ticket.rateLimitHeaders());
    if (error.status() == 429 || error.status() == 503) {
      long seconds = ex.lastRetryAfter.map(d -> Math.max(1, (d.toMillis() + 999) / 1000)).orElse(1L);
      response = response.addHeader(RawHeader.create("Retry-After", Long.toString(seconds)));
    }
    return response;
  }

  private CompletionStage<HttpResponse> success(Exchange ex, Attempt a, AttemptHold permit, HttpResponse response,
      long headAt) {
    Deployment d = a.deployment();
    Pricing price = pricing.get(a.model().name());
    HttpEntity entity = response.entity();
    ContentType contentType = entity.getContentType();
    boolean eventStream = contentType.mediaType().equals(MediaTypes.TEXT_EVENT_STREAM);
    long deadline = ex.controls.deadlineNanos();
    if (ex.stream() && eventStream) {
      SseUsage sse = new SseUsage(!ex.scan.includeUsage());
      AtomicBoolean ended = new AtomicBoolean();
      AtomicReference<Cancellable> fallback = new AtomicReference<>();
      Runnable end = () -> {
        if (ended.compareAndSet(false, true)) {
          // The fallback timer holds this exchange until it fires: cancel it, or every stream's
          // request stays on the heap for the whole total timeout.
          cancel(fallback);
          permit.release();
          ex.ticket.finish(streamUsage(sse, ex.ticket, price));
        }
      };
      Source<ByteString, NotUsed> body = entity.getDataBytes()
          .idleTimeout(d.idleTimeout())
          .completionTimeout(Duration.ofNanos(Math.max(1, Math.min(deadline, headAt + d.totalTimeout().toNanos())
              - System.nanoTime())))
          .map(sse::onChunk)
          .concat(Source.lazySource(() -> Source.single(sse.flush())))
          .recover(Throwable.class, () -> streamError(d))
          .filter(bytes -> !bytes.isEmpty())
          .watchTermination((mat, done) -> {
            Stages.direct(done).whenComplete((ok, error) -> end.run());
            return NotUsed.getInstance();
          });
      // If the response is never rendered (the client left first), the stream never runs: end it anyway.
      fallback.set(scheduler.scheduleOnce(d.totalTimeout().plus(routing.deadline()), end, executor));
      if (ended.get()) {
        cancel(fallback);
      }
      HttpResponse out = HttpResponse.create().withStatus(response.status())
          .withEntity(HttpEntities.createChunked(contentType, body));
      return CompletableFuture.completedFuture(withGatewayHeaders(out, d, ex, System.nanoTime())
          .addHeaders(ex.ticket.rateLimitHeaders()));
    }
    return Stages.direct(entity.toStrict(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), materializer))
        .whenComplete((strict, error) -> {
          permit.release();
          if (error != null) {
            ex.ticket.finish(NOTHING_GENERATED);
          }
        })
        .thenApply(strict -> {
          long bodyAt = System.nanoTime();
          ex.upstreamNanos += bodyAt - headAt;
          ByteString data = strict.getData();
          UsageScan.Tokens t = UsageScan.of(data.toArrayUnsafe());
          Demand demand = ex.ticket.demand();
          long prompt = t != null ? t.prompt() : demand.promptTokens();
          long completion = t != null ? t.completion() : demand.completionTokens();
          ex.ticket.finish(new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion)));
          HttpResponse out = HttpResponse.create().withStatus(response.status())
              .withEntity(HttpEntities.create(contentType, data));
          return withGatewayHeaders(out, d, ex, bodyAt).addHeaders(ex.ticket.rateLimitHeaders());
        });
  }

  private static Duration shorter(Duration a, Duration b) {
    return a.compareTo(b) < 0 ? a : b;
  }

  private static void cancel(AtomicReference<Cancellable> timer) {
    Cancellable t = timer.getAndSet(null);
    if (t != null) {
      t.cancel();
    }
  }

  /** The SSE event that ends a stream which failed after its first byte went out. */
  private static ByteString streamError(Deployment d) {
    OpenAiError e = new OpenAiError(502, "The upstream stream from deployment '" + d.name()
        + "' failed or went silent before it finished.", "upstream_error", null, "stream_interrupted");
    return ByteString.fromString("data: ").concat(ByteString.fromArrayUnsafe(e.toJson()))
        .concat(ByteString.fromString("\n\n"));
  }

  /**
   * One attempt's hold on its deployment: the concurrency slot and the outlier detector's permit.
   * Each outcome is recorded once and the slot released once, whatever order things end in.
   */
  private static final class AttemptHold {
    private final DeploymentStates.State state;
    private final OutlierDetector.Permit health;
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicBoolean recorded = new AtomicBoolean();

    AttemptHold(DeploymentStates.State state, OutlierDetector.Permit health) {
      this.state = state;
      this.health = health;
    }

    void succeeded() {
      if (recorded.compareAndSet(false, true) && health.granted()) {
        state.health().onSuccess(health);
      }
    }

    void health(ErrorClass error) {
      if (recorded.compareAndSet(false, true) && health.granted()) {
        state.health().onError(health, error);
      }
    }

    void failed(ErrorClass error) {
      health(error);
      release();
    }

    void abandon() {
      if (recorded.compareAndSet(false, true) && health.granted()) {
        state.health().onAbandoned(health);
      }
      release();
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        state.limiter().release();
      }
    }
  }

  /** What a stream is charged: its reported usage, or the prompt estimate and one token per content chunk. */
  private static UsageCounters streamUsage(SseUsage sse, Ticket ticket, Pricing price) {
    UsageScan.Tokens t = sse.usage();
    long prompt = t != null ? t.prompt() : ticket.demand().promptTokens();
    long completion = t != null ? t.completion() : sse.contentChunks();
    return new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion));
  }

  /** A tenant-specific refusal (401, 403, 429) counts towards the tenant's circuit for the deployment. */
  private void reportFailure(TenantView view, Deployment d, int status, Optional<Duration> retryAfter) {
    if (!ErrorClass.classify(status).tenantSpecific()) {
      return;
    }
    sharding.entityRefFor(TenantEntity.ENTITY_KEY, view.tenantId()).tell(new TenantCommand.ReportUpstream(
        d.name(), status, "HTTP " + status, retryAfter.map(Duration::toMillis).orElse(0L), false));
  }

  /** A success through a half-open circuit closes it. */
  private void reportSuccessIfProbing(TenantView view, Deployment d) {
    CircuitState c = view.state().circuits().get(d.name());
    if (c != null && c.open()) {
      sharding.entityRefFor(TenantEntity.ENTITY_KEY, view.tenantId())
          .tell(new TenantCommand.ReportUpstream(d.name(), 200, null, 0, true));
    }
  }

  private OpenAiError upstreamError(ProviderAdapter adapter, Deployment d, int status, ByteString body) {
    OpenAiError parsed = adapter.error(status, body);
    if (d.apiKey() != null && parsed.message().contains(d.apiKey())) {
      parsed = new OpenAiError(parsed.status(), parsed.message().replace(d.apiKey(), "***"), parsed.type(),
          parsed.param(), parsed.code());
    }
    if (status >= 500) {
      return OpenAiError.upstreamBadResponse("deployment '" + d.name() + "' answered HTTP " + status + ": "
          + parsed.message());
    }
    return parsed;
  }

  /** Adds x-sluice-deployment and x-sluice-overhead-ms: the time in the gateway, not waiting on upstreams. */
  private static HttpResponse withGatewayHeaders(HttpResponse response, Deployment d, Exchange ex, long now) {
    long overhead = Math.max(0, now - ex.start - ex.upstreamNanos - ex.waitedNanos);
    return response.addHeaders(List.of(
        RawHeader.create("x-sluice-deployment", d.name()),
        RawHeader.create("x-sluice-overhead-ms", millis(overhead))));
  }

  /**
   * Nanoseconds as milliseconds with three decimals (truncated), the x-sluice-overhead-ms value,
   * without String.format's cost (GatewayHeadersBenchmark measures both).
   */
  public static String millis(long nanos) {
    long micros = nanos / 1000;
    long frac = micros % 1000;
    return (micros / 1000) + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac;
  }

  CompletionStage<HttpResponse> models(HttpRequest request) {
    return authenticate(request).thenApply(view -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      try (JsonGenerator g = JSON.createGenerator(out)) {
        g.writeStartObject();
        g.writeStringField("object", "list");
        g.writeArrayFieldStart("data");
        for (ModelCatalog.Model m : catalog.models().values()) {
          if (view.allows(m.name())) {
            g.writeStartObject();
            g.writeStringField("id", m.name());
            g.writeStringField("object", "model");
            g.writeNumberField("created", 0);
            g.writeStringField("owned_by", "sluice");
            g.writeEndObject();
          }
        }
        g.writeEndArray();
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return Responses.json(200, out.toByteArray());
    }).exceptionally(this::failureResponse);
  }

  private HttpResponse failureResponse(Throwable failure) {
    Throwable cause = Responses.unwrap(failure);
    if (cause instanceof Rejected r) {
      HttpResponse response = Responses.error(r.error);
      return r.retryAfterSeconds > 0
          ? response.addHeader(RawHeader.create("Retry-After", Long.toString(r.retryAfterSeconds))) : response;
    }
    if (cause instanceof QuotaExceeded q) {
      HttpResponse response = Responses.error(q.error()).addHeaders(q.headers());
      return q.retryAfterSeconds() > 0
          ? response.addHeader(RawHeader.create("Retry-After", Long.toString(q.retryAfterSeconds()))) : response;
    }
    if (cause instanceof UpstreamFailure u) {
      return Responses.error(u.error());
    }
    if (Responses.tooLarge(cause)) {
      return Responses.error(OpenAiError.tooLarge(settings.maxRequestBodyBytes()));
    }
    if (cause instanceof java.util.concurrent.TimeoutException
        || cause instanceof org.apache.pekko.pattern.AskTimeoutException) {
      return Responses.error(new OpenAiError(503, "The tenant store did not answer in time; retry shortly.",
          "server_error", null, "tenant_store_unavailable"));
    }
    LOG.error("request failed: {}", cause.toString());
    return Responses.error(OpenAiError.internal());
  }

  /** A request refused with an OpenAI error; no stack trace is captured. */
  static final class Rejected extends RuntimeException {
    final transient OpenAiError error;
    final long retryAfterSeconds;

    Rejected(OpenAiError error) {
      this(error, 0);
    }

    Rejected(OpenAiError error, long retryAfterSeconds) {
      super(error.message(), null, false, false);
      this.error = error;
      this.retryAfterSeconds = retryAfterSeconds;
    }
  }
}
