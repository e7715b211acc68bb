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
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.UsageCounters;
import java.time.Instant;
import java.util.HashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Source;
import scala.concurrent.ExecutionContextExecutor;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.api.RequestScan;
import io.sluice.node.api.RequestScan.Operation;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.auth.TenantView;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.UpstreamClient;
import io.sluice.node.provider.UpstreamFailure;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.Router;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible API: {@code POST /v1/chat/completions}, {@code POST /v1/embeddings} and
 * {@code GET /v1/models}. A request is authenticated against the node's key directory, its body
 * is scanned once, and it is forwarded as bytes to the chosen deployment; responses stream back
 * chunk by chunk, and the upstream request is cancelled when the client goes away.
 */
public final class InferenceRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceRoutes.class);
  private static final JsonFactory JSON = new JsonFactory();
  /** What a request that produced no tokens is charged: the request itself. */
  private static final UsageCounters NOTHING_GENERATED = new UsageCounters(1, 0, 0, 0);
  private static final Duration STREAM_GRACE = Duration.ofSeconds(30);

  private final NodeSettings settings;
  private final KeyDirectory directory;
  private final ModelCatalog catalog;
  private final Router router;
  private final Map<String, ProviderAdapter> adapters;
  private final UpstreamClient upstream;
  private final Materializer materializer;
  private final Admission admission;
  private final QuotaSettings quota;
  private final RequestScan.TokenCounter tokens;
  private final Map<String, Pricing> pricing = new HashMap<>();
  private final ClusterSharding sharding;
  private final Scheduler scheduler;
  private final ExecutionContextExecutor executor;

  public InferenceRoutes(ActorSystem<?> system, NodeSettings settings, KeyDirectory directory, ModelCatalog catalog,
      Router router, Map<String, ProviderAdapter> adapters, UpstreamClient upstream, Admission admission,
      QuotaSettings quota, TokenEstimator estimator) {
    this.settings = settings;
    this.directory = directory;
    this.catalog = catalog;
    this.router = router;
    this.adapters = adapters;
    this.upstream = upstream;
    this.materializer = Materializer.matFromSystem(system);
    this.admission = admission;
    this.quota = quota;
    this.tokens = estimator.counter("o200k");
    this.sharding = ClusterSharding.get(system);
    this.scheduler = system.classicSystem().scheduler();
    this.executor = system.executionContext();
    catalog.models().values().forEach(m -> pricing.put(m.name(), Pricing.of(m)));
  }

  public Route route() {
    return pathPrefix("v1", () -> concat(
        path(segment("chat").slash("completions"),
            () -> post(() -> extractRequest(r -> completeWithFuture(infer(r, Operation.CHAT))))),
        path("embeddings",
            () -> post(() -> extractRequest(r -> completeWithFuture(infer(r, Operation.EMBEDDINGS))))),
        path("models", () -> get(() -> extractRequest(r -> completeWithFuture(models(r)))))));
  }

  /** Authenticates the caller: completes with its tenant, or fails with the 401 envelope. */
  private CompletionStage<TenantView> authenticate(HttpRequest request) {
    String key = ApiKeys.bearer(request.getHeader("Authorization").map(HttpHeader::value).orElse(null));
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
    return authenticate(request).handle((view, refused) -> {
      if (refused == null && request.entity().getContentLengthOption().orElse(0L) > settings.maxRequestBodyBytes()) {
        refused = new Rejected(OpenAiError.tooLarge(settings.maxRequestBodyBytes()));
      }
      if (refused != null) {
        request.discardEntityBytes(materializer);
        return CompletableFuture.completedFuture(failureResponse(refused));
      }
      return request.entity()
          .toStrict(settings.askTimeout().toMillis(), settings.maxRequestBodyBytes(), materializer)
          .thenCompose(strict -> forward(view, op, strict.getData().toArrayUnsafe(), start))
          .exceptionally(this::failureResponse);
    }).thenCompose(response -> response);
  }

  private CompletionStage<HttpResponse> forward(TenantView view, Operation op, byte[] body, long start) {
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
    Pricing price = pricing.get(model.name());
    long completion = op == Operation.CHAT
        ? (scan.maxTokens() >= 0 ? scan.maxTokens() : quota.defaultCompletionEstimate()) : 0;
    Demand demand = new Demand(scan.promptTokens(), completion, price.costNanos(scan.promptTokens(), completion));
    return admission.admit(view, demand).thenCompose(ticket -> {
      try {
        return dispatch(view, op, scan, body, model, price, ticket, start);
      } catch (RuntimeException e) {
        ticket.finish(NOTHING_GENERATED);
        throw e;
      }
    });
  }

  /** Sends an admitted request upstream and charges its ticket, exactly once, however it ends. */
  private CompletionStage<HttpResponse> dispatch(TenantView view, Operation op, RequestScan scan, byte[] body,
      ModelCatalog.Model model, Pricing price, Ticket ticket, long start) {
    Deployment d = pick(view, model);
    ProviderAdapter adapter = adapters.get(d.provider());
    boolean stream = scan.stream() && op == Operation.CHAT;
    HttpRequest up = adapter.request(d, op, scan.forUpstream(body, d.upstreamModel(), stream));
    long sentAt = System.nanoTime();
    long deadline = sentAt + d.totalTimeout().toNanos();
    return upstream.send(d, up).whenComplete((response, error) -> {
      if (error != null) {
        ticket.finish(NOTHING_GENERATED);
      }
    }).thenCompose(response -> {
      long headAt = System.nanoTime();
      int status = response.status().intValue();
      if (status >= 200 && status < 300) {
        reportSuccessIfProbing(view, d);
        return success(response, d, scan, price, ticket, start, sentAt, headAt, deadline);
      }
      ticket.finish(NOTHING_GENERATED);
      return response.entity().toStrict(remainingMillis(deadline), materializer)
          .thenApply(strict -> {
            reportFailure(view, d, status, response, strict.getData());
            return upstreamError(adapter, d, status, strict.getData()).addHeaders(ticket.rateLimitHeaders());
          });
    });
  }

  /** The deployment for this request: weighted among those whose circuit is not open for the tenant. */
  private Deployment pick(TenantView view, ModelCatalog.Model model) {
    Map<String, CircuitState> circuits = view.state().circuits();
    if (circuits.isEmpty()) {
      return router.pick(model.deployments());
    }
    Instant now = Instant.now();
    List<Deployment> usable = new ArrayList<>(model.deployments().size());
    Instant reopens = null;
    for (Deployment d : model.deployments()) {
      CircuitState c = circuits.get(d.name());
      if (c == null || !c.status(now).equals("open")) {
        usable.add(d);
      } else if (reopens == null || c.openUntil().isBefore(reopens)) {
        reopens = c.openUntil();
      }
    }
    if (usable.isEmpty()) {
      long retry = Math.max(1, java.time.Duration.between(now, reopens).toSeconds());
      throw new Rejected(new OpenAiError(503, "Every deployment of '" + model.name()
          + "' refused this tenant recently (circuit open); retry in " + retry + "s.", "upstream_error", null,
          "circuit_open"), retry);
    }
    return router.pick(usable);
  }

  private CompletionStage<HttpResponse> success(HttpResponse response, Deployment d, RequestScan scan, Pricing price,
      Ticket ticket, long start, long sentAt, long headAt, long deadline) {
    HttpEntity entity = response.entity();
    ContentType contentType = entity.getContentType();
    boolean eventStream = contentType.mediaType().equals(MediaTypes.TEXT_EVENT_STREAM);
    if (scan.stream() && eventStream) {
      SseUsage sse = new SseUsage(!scan.includeUsage());
      Source<ByteString, NotUsed> body = entity.getDataBytes()
          .completionTimeout(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))
          .map(sse::onChunk)
          .concat(Source.lazySource(() -> Source.single(sse.flush())))
          .filter(bytes -> !bytes.isEmpty())
          .watchTermination((mat, done) -> {
            done.whenComplete((ok, error) -> ticket.finish(streamUsage(sse, ticket, price)));
            return NotUsed.getInstance();
          });
      // If the response is never rendered (the client left first), the stream never runs: charge anyway.
      scheduler.scheduleOnce(d.totalTimeout().plus(STREAM_GRACE),
          () -> ticket.finish(streamUsage(sse, ticket, price)), executor);
      HttpResponse out = HttpResponse.create().withStatus(response.status())
          .withEntity(HttpEntities.createChunked(contentType, body));
      return CompletableFuture.completedFuture(withGatewayHeaders(out, d, overheadNanos(start, sentAt, headAt))
          .addHeaders(ticket.rateLimitHeaders()));
    }
    return entity.toStrict(remainingMillis(deadline), materializer).thenApply(strict -> {
      long bodyAt = System.nanoTime();
      ByteString data = strict.getData();
      UsageScan.Tokens t = UsageScan.of(data.toArrayUnsafe());
      Demand demand = ticket.demand();
      long prompt = t != null ? t.prompt() : demand.promptTokens();
      long completion = t != null ? t.completion() : demand.completionTokens();
      ticket.finish(new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion)));
      HttpResponse out = HttpResponse.create().withStatus(response.status())
          .withEntity(HttpEntities.create(contentType, data));
      return withGatewayHeaders(out, d, overheadNanos(start, sentAt, bodyAt)).addHeaders(ticket.rateLimitHeaders());
    });
  }

  /** What a stream is charged: its reported usage, or the prompt estimate and one token per content chunk. */
  private static UsageCounters streamUsage(SseUsage sse, Ticket ticket, Pricing price) {
    UsageScan.Tokens t = sse.usage();
    long prompt = t != null ? t.prompt() : ticket.demand().promptTokens();
    long completion = t != null ? t.completion() : sse.contentChunks();
    return new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion));
  }

  /** A tenant-specific refusal (401, 403, 429) counts towards the tenant's circuit for the deployment. */
  private void reportFailure(TenantView view, Deployment d, int status, HttpResponse response, ByteString body) {
    if (status != 401 && status != 403 && status != 429) {
      return;
    }
    long retryAfterMillis = response.getHeader("Retry-After").map(h -> {
      try {
        return Long.parseLong(h.value().trim()) * 1000;
      } catch (NumberFormatException e) {
        return 0L;
      }
    }).orElse(0L);
    String message = "HTTP " + status;
    sharding.entityRefFor(TenantEntity.ENTITY_KEY, view.tenantId())
        .tell(new TenantCommand.ReportUpstream(d.name(), status, message, retryAfterMillis, false));
  }

  /** A success through a half-open circuit closes it. */
  private void reportSuccessIfProbing(TenantView view, Deployment d) {
    CircuitState c = view.state().circuits().get(d.name());
    if (c != null && c.open()) {
      sharding.entityRefFor(TenantEntity.ENTITY_KEY, view.tenantId())
          .tell(new TenantCommand.ReportUpstream(d.name(), 200, null, 0, true));
    }
  }

  private HttpResponse upstreamError(ProviderAdapter adapter, Deployment d, int status, ByteString body) {
    OpenAiError parsed = adapter.error(status, body);
    if (d.apiKey() != null && parsed.message().contains(d.apiKey())) {
      parsed = new OpenAiError(parsed.status(), parsed.message().replace(d.apiKey(), "***"), parsed.type(),
          parsed.param(), parsed.code());
    }
    OpenAiError error = status >= 500
        ? OpenAiError.upstreamBadResponse("deployment '" + d.name() + "' answered HTTP " + status + ": " + parsed.message())
        : parsed;
    LOG.debug("upstream {} answered {}", d.name(), status);
    return Responses.error(error).addHeader(RawHeader.create("x-sluice-deployment", d.name()));
  }

  /** Time spent in the gateway: before the upstream call and after its answer. */
  private static long overheadNanos(long start, long sentAt, long answeredAt) {
    return (sentAt - start) + (System.nanoTime() - answeredAt);
  }

  private static HttpResponse withGatewayHeaders(HttpResponse response, Deployment d, long overheadNanos) {
    List<HttpHeader> headers = new ArrayList<>(2);
    headers.add(RawHeader.create("x-sluice-deployment", d.name()));
    headers.add(RawHeader.create("x-sluice-overhead-ms", String.format(Locale.ROOT, "%.3f", overheadNanos / 1e6)));
    return response.addHeaders(headers);
  }

  private static long remainingMillis(long deadlineNanos) {
    return Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
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
