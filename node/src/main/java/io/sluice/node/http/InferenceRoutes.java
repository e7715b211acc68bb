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

  private final NodeSettings settings;
  private final KeyDirectory directory;
  private final ModelCatalog catalog;
  private final Router router;
  private final Map<String, ProviderAdapter> adapters;
  private final UpstreamClient upstream;
  private final Materializer materializer;

  public InferenceRoutes(NodeSettings settings, KeyDirectory directory, ModelCatalog catalog, Router router,
      Map<String, ProviderAdapter> adapters, UpstreamClient upstream, Materializer materializer) {
    this.settings = settings;
    this.directory = directory;
    this.catalog = catalog;
    this.router = router;
    this.adapters = adapters;
    this.upstream = upstream;
    this.materializer = materializer;
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
      scan = RequestScan.scan(body, op);
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
    Deployment d = router.pick(model.deployments());
    ProviderAdapter adapter = adapters.get(d.provider());
    HttpRequest up = adapter.request(d, op, scan.withModel(body, d.upstreamModel()));
    long sentAt = System.nanoTime();
    long deadline = sentAt + d.totalTimeout().toNanos();
    return upstream.send(d, up).thenCompose(response -> {
      long headAt = System.nanoTime();
      int status = response.status().intValue();
      if (status >= 200 && status < 300) {
        return success(response, d, scan, start, sentAt, headAt, deadline);
      }
      return response.entity().toStrict(remainingMillis(deadline), materializer)
          .thenApply(strict -> upstreamError(adapter, d, status, strict.getData()));
    });
  }

  private CompletionStage<HttpResponse> success(HttpResponse response, Deployment d, RequestScan scan,
      long start, long sentAt, long headAt, long deadline) {
    HttpEntity entity = response.entity();
    ContentType contentType = entity.getContentType();
    boolean eventStream = contentType.mediaType().equals(MediaTypes.TEXT_EVENT_STREAM);
    if (scan.stream() && eventStream) {
      HttpEntity.Chunked chunked = HttpEntities.createChunked(contentType,
          entity.getDataBytes().completionTimeout(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))));
      return CompletableFuture.completedFuture(
          withGatewayHeaders(HttpResponse.create().withStatus(response.status()).withEntity(chunked), d,
              overheadNanos(start, sentAt, headAt)));
    }
    return entity.toStrict(remainingMillis(deadline), materializer).thenApply(strict -> {
      long bodyAt = System.nanoTime();
      HttpResponse out = HttpResponse.create().withStatus(response.status())
          .withEntity(HttpEntities.create(contentType, strict.getData()));
      return withGatewayHeaders(out, d, overheadNanos(start, sentAt, bodyAt));
    });
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
      return Responses.error(r.error);
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

    Rejected(OpenAiError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }
  }
}
