package io.sluice.node.provider;

import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import java.time.Duration;
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
 * The pooled HTTP client to upstream deployments. Each deployment gets its own pool (connections,
 * open requests, connect timeout), so one slow deployment cannot starve another. Exchanges whose
 * response is read whole go over {@link NettyUpstream}; streamed ones over Pekko HTTP's client,
 * whose response body is a backpressured {@code Source}. It enforces the time to first byte; for
 * a stream the caller enforces the total time on the body.
 */
public final class UpstreamClient {
  private final Http http;
  private final HttpsConnectionContext https;
  private final LoggingAdapter log;
  private final Materializer materializer;
  private final Map<String, ConnectionPoolSettings> pools = new HashMap<>();
  private final NettyUpstream whole;

  public UpstreamClient(ActorSystem<?> system, ModelCatalog catalog) {
    this.http = Http.get(system);
    this.https = http.defaultClientHttpsContext();
    this.log = system.classicSystem().log();
    this.materializer = Materializer.matFromSystem(system);
    this.whole = new NettyUpstream(UpstreamClientSettings.from(system.settings().config()));
    system.getWhenTerminated().thenRun(whole::close);
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
   * Sends {@code request} to {@code d} and completes with the whole response (its entity strict),
   * or fails with {@link UpstreamFailure}: the head must arrive within {@code firstByte} and the
   * whole response within {@code total}. Completes on an upstream event loop; do not block there.
   */
  public CompletionStage<HttpResponse> sendWhole(Deployment d, HttpRequest request, Duration firstByte,
      Duration total) {
    return whole.send(d, request, firstByte, total);
  }

  /**
   * Sends {@code request} to {@code d} for a streamed response. Completes with the response head
   * when it arrives within {@code firstByte}; fails with {@link UpstreamFailure} otherwise.
   */
  public CompletionStage<HttpResponse> sendStreamed(Deployment d, HttpRequest request, Duration firstByte) {
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
      throw NettyUpstream.classify(d, cause);
    });
  }
}
