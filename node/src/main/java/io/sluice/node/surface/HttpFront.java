package io.sluice.node.surface;

import io.sluice.node.NodeSettings;
import io.sluice.node.admission.QuotaExceeded;
import io.sluice.node.auth.TenantView;
import io.sluice.node.http.Responses;
import io.sluice.node.inference.Call;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Controls;
import io.sluice.node.inference.InferencePipeline;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Outcome;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.RequestObservation;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.routing.RoutingSettings;
import io.sluice.node.util.Stages;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side every surface shares: read the {@code x-sluice-*} controls, authenticate the key
 * the {@link Dialect} finds, collect the body within its own timeout and size limit, have the
 * dialect scan it, run the {@link InferencePipeline}, and render the outcome or the refusal in the
 * dialect's wire format with the gateway's headers. A surface is then its paths and its dialect.
 */
public final class HttpFront {
  private static final Logger LOG = LoggerFactory.getLogger(HttpFront.class);
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final HttpHeader NO_RETRY = RawHeader.create("x-should-retry", "false");

  private final NodeSettings settings;
  private final RoutingSettings routing;
  private final InferencePipeline pipeline;
  private final GatewayMetrics metrics;
  private final Materializer materializer;
  private final RequestObservation.Factory observer;

  public HttpFront(NodeSettings settings, RoutingSettings routing, InferencePipeline pipeline, GatewayMetrics metrics,
      Materializer materializer) {
    this(settings, routing, pipeline, metrics, materializer, RequestObservation.Factory.NONE);
  }

  /** @param observer makes each request's {@link RequestObservation} (traces, metrics, access log) */
  public HttpFront(NodeSettings settings, RoutingSettings routing, InferencePipeline pipeline, GatewayMetrics metrics,
      Materializer materializer, RequestObservation.Factory observer) {
    this.settings = settings;
    this.routing = routing;
    this.pipeline = pipeline;
    this.metrics = metrics;
    this.materializer = materializer;
    this.observer = observer;
  }

  /** What a surface does with an authenticated, scanned request. */
  @FunctionalInterface
  public interface Handler {
    CompletionStage<HttpResponse> serve(TenantView view, Call call, Controls controls, long startNanos);
  }

  /** Serves one inference request of {@code op} in {@code dialect}. Never fails: refusals are responses. */
  public CompletionStage<HttpResponse> infer(HttpRequest request, Dialect dialect, Operation op) {
    return handle(request, dialect, op, bytes -> dialect.scan(bytes, op), (view, call, controls, start) ->
        pipeline.infer(view, call, controls, start).thenApply(outcome -> render(dialect, call, outcome)));
  }

  /**
   * Reads the controls, authenticates, collects and scans the body with {@code scanner}, then
   * hands the request to {@code handler}; every failure on the way becomes the dialect's error
   * response. Never fails.
   */
  public CompletionStage<HttpResponse> handle(HttpRequest request, Dialect dialect, Operation op,
      Function<byte[], ClientBody> scanner, Handler handler) {
    long start = pipeline.now();
    Function<String, String> headers = name -> request.getHeader(name).map(HttpHeader::value).orElse(null);
    String surface = dialect.protocol().name().toLowerCase(java.util.Locale.ROOT);
    Controls controls;
    try {
      controls = controls(request, start);
    } catch (Refusal.Refused r) {
      request.discardEntityBytes(materializer);
      String requestId = requestId(request);
      RequestObservation obs = observer.start(surface, op, requestId, start, headers);
      HttpResponse response = failure(dialect, r, obs);
      metrics.request(op, response.status().intValue());
      obs.finished(response.status().intValue());
      return CompletableFuture.completedFuture(withId(response, requestId));
    }
    RequestObservation obs = observer.start(surface, op, controls.requestId(), start, headers);
    HttpHeader id = RawHeader.create("x-sluice-request-id", controls.requestId());
    String key = dialect.key(request);
    return pipeline.authenticate(key).handle((view, refused) -> {
      if (view != null) {
        obs.authenticated(view, key);
      }
      if (refused == null && request.entity().getContentLengthOption().orElse(0L) > settings.maxRequestBodyBytes()) {
        refused = Refusal.tooLarge(settings.maxRequestBodyBytes()).toException();
      }
      if (refused != null) {
        request.discardEntityBytes(materializer);
        return CompletableFuture.completedFuture(failure(dialect, refused, obs));
      }
      return body(request).thenCompose(bytes -> {
        Call call = new Call(scanner.apply(bytes), headers, obs);
        return handler.serve(view, call, controls, start);
      }).exceptionally(e -> failure(dialect, e, obs));
    }).thenCompose(r -> r).thenApply(response -> {
      metrics.request(op, response.status().intValue());
      obs.finished(response.status().intValue());
      return response.addHeader(id);
    });
  }

  /** The body as bytes: a strict one as it is, a streamed one collected within the body timeout (else 408). */
  private CompletionStage<byte[]> body(HttpRequest request) {
    if (request.entity() instanceof HttpEntity.Strict strict) {
      return CompletableFuture.completedFuture(strict.getData().toArrayUnsafe());
    }
    return Stages.direct(request.entity().toStrict(settings.bodyTimeout().toMillis(), settings.maxRequestBodyBytes(),
        materializer)).handle((strict, e) -> {
          if (e == null) {
            return strict.getData().toArrayUnsafe();
          }
          Throwable cause = Responses.unwrap(e);
          if (cause instanceof TimeoutException) {
            throw Refusal.of(Refusal.Kind.REQUEST_TIMEOUT, 408, "The request body did not arrive within "
                + settings.bodyTimeout().toSeconds() + " s.", "request_timeout", null).toException();
          }
          throw e instanceof CompletionException c ? c : new CompletionException(e);
        });
  }

  private HttpResponse render(Dialect dialect, Call call, Outcome outcome) {
    ClientBody body = call.body();
    RequestObservation obs = call.observation();
    HttpResponse response;
    if (outcome instanceof Outcome.Whole whole) {
      ByteString data = whole.passthrough() != null
          ? whole.passthrough() : ByteString.fromArrayUnsafe(dialect.render(whole.translated(), body));
      response = HttpResponse.create().withStatus(StatusCodes.get(whole.status()))
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, data));
    } else {
      Outcome.Streamed streamed = (Outcome.Streamed) outcome;
      Refusal interrupted = Refusal.of(Refusal.Kind.UPSTREAM_FAILED, 502, "The upstream stream from deployment '"
          + streamed.deployment() + "' failed or went silent before it finished.", "stream_interrupted", null);
      Source<ByteString, NotUsed> bytes;
      if (streamed.passthrough() != null) {
        bytes = streamed.passthrough().recover(Throwable.class, () -> dialect.streamError(interrupted));
      } else {
        StreamEncoder encoder = dialect.encoder(body);
        bytes = streamed.translated().map(encoder::encode)
            .concatLazy(Source.lazySingle(encoder::end))
            .recover(Throwable.class, () -> encoder.encode(new ChatEvent.Failed(null, interrupted.message())));
      }
      response = HttpResponse.create().withStatus(StatusCodes.get(streamed.status()))
          .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(),
              bytes.filter(b -> !b.isEmpty()).map(b -> {
                obs.firstByte();
                return b;
              })));
    }
    long overhead = outcome.overheadNanos(pipeline.now());
    obs.served(outcome instanceof Outcome.Streamed, overhead);
    return response.addHeaders(List.of(
        RawHeader.create("x-sluice-deployment", outcome.deployment()),
        RawHeader.create("x-sluice-overhead-ms", millis(overhead))))
        .addHeaders(outcome.headers());
  }

  /** A failure of any step as the dialect's error response, with Retry-After and the refusal's headers. */
  public HttpResponse failure(Dialect dialect, Throwable failure) {
    return failure(dialect, failure, RequestObservation.NONE);
  }

  private HttpResponse failure(Dialect dialect, Throwable failure, RequestObservation obs) {
    Refusal r = refusal(Responses.unwrap(failure));
    obs.refused(r);
    HttpResponse response = dialect.error(r).addHeaders(r.headers());
    if (r.retryAfterSeconds() > 0) {
      response = response.addHeader(RawHeader.create("Retry-After", Long.toString(r.retryAfterSeconds())));
    }
    return r.final429() ? response.addHeader(NO_RETRY) : response;
  }

  private Refusal refusal(Throwable cause) {
    if (cause instanceof Refusal.Refused r) {
      return r.refusal();
    }
    if (cause instanceof QuotaExceeded q) {
      return q.refusal();
    }
    if (Responses.tooLarge(cause)) {
      return Refusal.tooLarge(settings.maxRequestBodyBytes());
    }
    if (cause instanceof TimeoutException || cause instanceof org.apache.pekko.pattern.AskTimeoutException) {
      return Refusal.of(Refusal.Kind.UNAVAILABLE, 503, "The tenant store did not answer in time; retry shortly.",
          "tenant_store_unavailable", null);
    }
    LOG.error("request failed: {}", cause.toString());
    return Refusal.internal();
  }

  /** The client's opt-in controls, read from x-sluice-* headers. */
  private Controls controls(HttpRequest request, long start) {
    int maxAttempts = routing.maxAttempts();
    String retries = header(request, "x-sluice-retries");
    if (retries != null) {
      maxAttempts = 1 + (int) Math.min(routing.maxAttempts() - 1, nonNegative(retries, "x-sluice-retries"));
    }
    Duration deadline = routing.deadline();
    String timeout = header(request, "x-sluice-timeout-ms");
    if (timeout != null) {
      long ms = nonNegative(timeout, "x-sluice-timeout-ms");
      if (ms == 0) {
        throw Refusal.invalid("'x-sluice-timeout-ms' must be positive.", "x-sluice-timeout-ms").toException();
      }
      deadline = Duration.ofMillis(Math.min(ms, routing.deadline().toMillis()));
    }
    return new Controls(requestId(request), maxAttempts, start + deadline.toNanos(),
        header(request, "x-sluice-deployment"));
  }

  private static String requestId(HttpRequest request) {
    String id = header(request, "x-sluice-request-id");
    if (id != null && REQUEST_ID.matcher(id).matches()) {
      return id;
    }
    byte[] random = new byte[12];
    ThreadLocalRandom.current().nextBytes(random);
    return "req_" + HexFormat.of().formatHex(random);
  }

  private static HttpResponse withId(HttpResponse response, String id) {
    return response.addHeader(RawHeader.create("x-sluice-request-id", id));
  }

  private static long nonNegative(String value, String name) {
    try {
      long v = Long.parseLong(value.trim());
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw Refusal.invalid("'" + name + "' must be a non-negative integer.", name).toException();
  }

  /** A request header's value, or null. */
  public static String header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value).orElse(null);
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
}
