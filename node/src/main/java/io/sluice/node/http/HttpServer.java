package io.sluice.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;

import io.sluice.node.NodeSettings;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.inference.Refusal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.actor.typed.ActorSystem;
import java.net.InetAddress;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
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
  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, NodeSettings settings, TlsSettings tls,
      Duration drain, Function<HttpRequest, CompletionStage<HttpResponse>> direct, Route... routes) {
    ExceptionHandler exceptions = ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(tooLarge(settings)))
        .match(EntityStreamException.class, e -> complete(failure(settings, e)))
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
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler = received -> {
      HttpRequest request = withFramingAsRejection(received);
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
    // One flow per connection: the head timeout, then the handler, one request at a time (as
    // bind(handler) does with the default pipelining limit of 1, which the timeout relies on).
    Flow<HttpRequest, HttpResponse, NotUsed> perConnection = Flow.<HttpRequest>create()
        .via(new RequestHeadTimeout(settings.requestHeadTimeout()))
        .mapAsync(1, handler::apply);
    ServerBuilder server = Http.get(system).newServerAt(settings.httpHost(), settings.httpPort());
    if (tls.enabled()) {
      ServerTls identity = ServerTls.load(tls);
      LOG.info("HTTPS on {}:{} with serial {} ({})", settings.httpHost(), settings.httpPort(),
          ServerTls.serial(identity.certificate()), tls);
      // A creator, not a fixed SSLContext: each new connection asks for its engine, so a reload
      // reaches new connections while the established ones keep the engine they began with.
      server = server.enableHttps(ConnectionContext.httpsServer(identity::createEngine));
      if (!tls.reloadInterval().isZero()) {
        system.scheduler().scheduleWithFixedDelay(tls.reloadInterval(), tls.reloadInterval(),
            identity::reloadIfChanged, system.dispatchers().lookup(DispatcherSelector.blocking()));
      }
    }
    CompletionStage<ServerBinding> binding = server.bindFlow(perConnection)
        .thenApply(b -> b.addToCoordinatedShutdown(drain, system));
    if (!tls.enabled() || tls.plainLoopbackPort().isEmpty()) {
      return binding;
    }
    // The plain listener is bound to loopback only, whatever sluice.http.host says: it is for
    // development and for health probes from the same host, never for the network.
    CompletionStage<ServerBinding> plain = Http.get(system)
        .newServerAt(InetAddress.getLoopbackAddress().getHostAddress(), tls.plainLoopbackPort().getAsInt())
        .bindFlow(perConnection)
        .thenApply(b -> {
          LOG.info("plain HTTP on loopback {}", b.localAddress());
          return b.addToCoordinatedShutdown(drain, system);
        });
    return binding.thenCombine(plain, (main, loopback) -> main);
  }

  private static HttpResponse failure(NodeSettings settings, Throwable e) {
    if (e instanceof EntityStreamSizeException || Responses.tooLarge(e)) {
      return tooLarge(settings);
    }
    OpenAiError framing = Responses.framingError(e);
    if (framing != null) {
      LOG.debug("request body framing: {}", framing.message());
      return Responses.error(framing);
    }
    return unexpected(e);
  }

  /**
   * The request with its streamed body's framing failures (see {@link Responses#framingError})
   * turned into the inference routes' refusal, so the body collection of any route answers them
   * with a 400 and logs nothing above DEBUG. A body that arrived whole (the common case) cannot
   * fail and is passed on untouched; a streamed one keeps its declared length.
   */
  static HttpRequest withFramingAsRejection(HttpRequest request) {
    RequestEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict || entity.isKnownEmpty()) {
      return request;
    }
    Source<ByteString, Object> data = entity.getDataBytes().mapError(new PFBuilder<Throwable, Throwable>()
        .match(EntityStreamException.class, e -> !Responses.tooLarge(e), HttpServer::asRejection)
        .build());
    RequestEntity wrapped = entity.getContentLengthOption().isPresent()
        ? HttpEntities.create(entity.getContentType(), entity.getContentLengthOption().getAsLong(), data)
        : HttpEntities.createChunked(entity.getContentType(), data);
    return request.withEntity(wrapped);
  }

  private static Throwable asRejection(EntityStreamException e) {
    OpenAiError framing = Responses.framingError(e);
    LOG.debug("request body framing: {}", framing.message());
    return new Refusal(Refusal.Kind.INVALID_REQUEST, 400, framing.message(), framing.code(), null, null, 0,
        java.util.List.of()).toException();
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
