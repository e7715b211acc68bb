package io.sluice.node.provider;

import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import java.util.HashMap;
import java.util.Map;
import io.sluice.node.util.Stages;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.Materializer;

/**
 * The pooled HTTP client to upstream deployments. Each deployment gets its own pool settings
 * (connections, open requests, connect timeout), so one slow deployment cannot starve another.
 * It enforces the time to first byte; the caller enforces the total time on the body.
 */
public final class UpstreamClient {
  private final Http http;
  private final HttpsConnectionContext https;
  private final LoggingAdapter log;
  private final Materializer materializer;
  private final Map<String, ConnectionPoolSettings> pools = new HashMap<>();

  public UpstreamClient(ActorSystem<?> system, ModelCatalog catalog) {
    this.http = Http.get(system);
    this.https = http.defaultClientHttpsContext();
    this.log = system.classicSystem().log();
    this.materializer = Materializer.matFromSystem(system);
    ConnectionPoolSettings base = ConnectionPoolSettings.create(system.classicSystem());
    for (ModelCatalog.Model m : catalog.models().values()) {
      for (Deployment d : m.deployments()) {
        pools.put(d.name(), base
            .withMaxConnections(d.maxConnections())
            .withMaxOpenRequests(d.maxOpenRequests())
            .withConnectionSettings(ClientConnectionSettings.create(system.classicSystem())
                .withConnectingTimeout(d.connectTimeout())));
      }
    }
  }

  /**
   * Sends {@code request} to {@code d}. Completes with the response head when it arrives within
   * the deployment's first-byte timeout; fails with {@link UpstreamFailure} otherwise.
   */
  public CompletionStage<HttpResponse> send(Deployment d, HttpRequest request) {
    return send(d, request, d.firstByteTimeout());
  }

  /** Like {@link #send(Deployment, HttpRequest)} with a first-byte timeout cut to what a deadline leaves. */
  public CompletionStage<HttpResponse> send(Deployment d, HttpRequest request, java.time.Duration firstByte) {
    CompletableFuture<HttpResponse> sent = Stages.direct(http.singleRequest(request, https, pools.get(d.name()), log));
    CompletableFuture<HttpResponse> timed =
        sent.copy().orTimeout(Math.max(1, firstByte.toMillis()), TimeUnit.MILLISECONDS);
    return timed.handle((response, error) -> {
      if (error == null) {
        return response;
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof TimeoutException) {
        // The response may still come; drain it so its connection returns to the pool.
        sent.thenAccept(late -> late.discardEntityBytes(materializer));
        throw new UpstreamFailure(UpstreamFailure.Kind.TIMEOUT, d.name(),
            "no response within " + firstByte.toMillis() + " ms");
      }
      throw classify(d, cause);
    });
  }

  private static UpstreamFailure classify(Deployment d, Throwable cause) {
    String message = String.valueOf(cause.getMessage()).toLowerCase();
    if (message.contains("timeout") || message.contains("timed out")) {
      return new UpstreamFailure(UpstreamFailure.Kind.TIMEOUT, d.name(), "connect timed out");
    }
    if (message.contains("refused")) {
      return new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), "connection refused");
    }
    return new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), "connection failed ("
        + cause.getClass().getSimpleName() + ")");
  }
}
