package io.sluice.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;

import io.sluice.node.NodeSettings;
import io.sluice.node.api.OpenAiError;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the node's routes and makes sure nothing leaves as anything but OpenAI's error envelope:
 * unknown paths, wrong methods and unexpected exceptions included, and never with a stack trace.
 */
public final class HttpServer {
  private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);

  private HttpServer() {}

  /**
   * Binds the routes; on coordinated shutdown the server stops accepting connections and gives
   * in-flight requests and streams up to {@code drain} to finish. {@code direct} answers the
   * requests it recognises (it returns null for the others) without the routing DSL's layers of
   * directives: the inference path is the hot one, and the DSL's matching, rejection and future
   * plumbing cost it more than its own work. Failures of {@code direct} get the same envelopes as
   * the routes' exceptions.
   */
  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, NodeSettings settings, Duration drain,
      Function<HttpRequest, CompletionStage<HttpResponse>> direct, Route... routes) {
    ExceptionHandler exceptions = ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(tooLarge(settings)))
        .matchAny(e -> complete(unexpected(e)))
        .build();
    RejectionHandler rejections = RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rs -> complete(Responses.error(new OpenAiError(405,
            "Method not allowed.", "invalid_request_error", null, "method_not_allowed"))))
        .handleNotFound(complete(Responses.error(OpenAiError.notFound("Unknown path."))))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(HttpServer::asEnvelope);
    Route all = handleExceptions(exceptions, () -> handleRejections(rejections, () -> concat(routes[0], java.util.Arrays.copyOfRange(routes, 1, routes.length))));
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> routed = all.handler(system);
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler = request -> {
      CompletionStage<HttpResponse> answer;
      try {
        answer = direct.apply(request);
      } catch (RuntimeException e) {
        return CompletableFuture.completedFuture(failure(settings, e));
      }
      if (answer == null) {
        return routed.apply(request);
      }
      return answer.exceptionally(e -> failure(settings, Responses.unwrap(e)));
    };
    CompletionStage<ServerBinding> binding =
        Http.get(system).newServerAt(settings.httpHost(), settings.httpPort()).bind(handler);
    return binding.thenApply(b -> b.addToCoordinatedShutdown(drain, system));
  }

  private static HttpResponse failure(NodeSettings settings, Throwable e) {
    return e instanceof EntityStreamSizeException ? tooLarge(settings) : unexpected(e);
  }

  private static HttpResponse tooLarge(NodeSettings settings) {
    return Responses.error(OpenAiError.tooLarge(settings.maxRequestBodyBytes()));
  }

  private static HttpResponse unexpected(Throwable e) {
    LOG.error("unhandled failure: {}", e.toString());
    return Responses.error(OpenAiError.internal());
  }

  /** Rewrites Pekko's plain-text rejection answers into the envelope, keeping the status. */
  private static HttpResponse asEnvelope(HttpResponse response) {
    HttpEntity entity = response.entity();
    if (entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
      return response;
    }
    String text = entity instanceof HttpEntity.Strict strict
        ? strict.getData().decodeString(StandardCharsets.UTF_8)
        : response.status().reason();
    int status = response.status().intValue();
    return Responses.error(new OpenAiError(status, text, "invalid_request_error", null, null));
  }
}
