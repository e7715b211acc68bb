package io.sluice.node.surface.openai;

import io.sluice.node.inference.TokenCounter;
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
import io.sluice.node.api.OpenAiError;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.http.Responses;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.InferencePipeline;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.provider.openai.OpenAiChatCodec;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.surface.Dialect;
import io.sluice.node.surface.HttpFront;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.Uri;
import org.apache.pekko.util.ByteString;

/**
 * The OpenAI API: {@code POST /v1/chat/completions}, {@code POST /v1/embeddings}, the legacy
 * {@code POST /v1/completions} (passed through to OpenAI-compatible deployments only) and
 * {@code GET /v1/models} (the tenant's models, each with the surfaces it serves under
 * {@code sluice.surfaces}), with OpenAI's bearer auth and error envelope. It scans and renders;
 * {@link HttpFront} and the pipeline do the rest.
 */
public final class OpenAiSurface implements Dialect {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Uri.Path CHAT = uriPath("/v1/chat/completions");
  private static final Uri.Path EMBEDDINGS = uriPath("/v1/embeddings");
  private static final Uri.Path COMPLETIONS = uriPath("/v1/completions");

  private final HttpFront front;
  private final InferencePipeline pipeline;
  private final Supplier<TokenCounter> tokens;

  public OpenAiSurface(HttpFront front, InferencePipeline pipeline, Supplier<TokenCounter> tokens) {
    this.front = front;
    this.pipeline = pipeline;
    this.tokens = tokens;
  }

  private static Uri.Path uriPath(String p) {
    return ((org.apache.pekko.http.scaladsl.model.HttpRequest) HttpRequest.create(p)).uri().path();
  }

  /** The inference requests, answered without the routing DSL; null for any other request. */
  public CompletionStage<HttpResponse> direct(HttpRequest request) {
    if (!request.method().equals(HttpMethods.POST)) {
      return null;
    }
    Uri.Path p = ((org.apache.pekko.http.scaladsl.model.HttpRequest) request).uri().path();
    if (p.equals(CHAT)) {
      return front.infer(request, this, Operation.CHAT);
    }
    if (p.equals(EMBEDDINGS)) {
      return front.infer(request, this, Operation.EMBEDDINGS);
    }
    if (p.equals(COMPLETIONS)) {
      return front.infer(request, this, Operation.COMPLETIONS);
    }
    return null;
  }

  public Route route() {
    return pathPrefix("v1", () -> concat(
        path(segment("chat").slash("completions"),
            () -> post(() -> extractRequest(r -> completeWithFuture(front.infer(r, this, Operation.CHAT))))),
        path("embeddings",
            () -> post(() -> extractRequest(r -> completeWithFuture(front.infer(r, this, Operation.EMBEDDINGS))))),
        path("completions",
            () -> post(() -> extractRequest(r -> completeWithFuture(front.infer(r, this, Operation.COMPLETIONS))))),
        path("models", () -> get(() -> extractRequest(r -> completeWithFuture(models(r)))))));
  }

  CompletionStage<HttpResponse> models(HttpRequest request) {
    return pipeline.authenticate(key(request)).thenApply(view -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      try (JsonGenerator g = JSON.createGenerator(out)) {
        g.writeStartObject();
        g.writeStringField("object", "list");
        g.writeArrayFieldStart("data");
        for (ModelCatalog.Model m : pipeline.models(view)) {
          g.writeStartObject();
          g.writeStringField("id", m.name());
          g.writeStringField("object", "model");
          g.writeNumberField("created", 0);
          g.writeStringField("owned_by", "sluice");
          g.writeObjectFieldStart("sluice");
          g.writeArrayFieldStart("surfaces");
          for (String surface : surfaces(m)) {
            g.writeString(surface);
          }
          g.writeEndArray();
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return Responses.json(200, out.toByteArray());
    }).exceptionally(e -> front.failure(this, e));
  }

  /**
   * The APIs a model can be called through, from its deployments: every provider serves chat, so
   * chat completions, messages and responses always (translated where the provider speaks another
   * protocol); completions and embeddings only when a deployment is OpenAI-compatible, since they
   * pass through and are never translated.
   */
  List<String> surfaces(ModelCatalog.Model m) {
    boolean openAi = m.deployments().stream().anyMatch(d -> pipeline.speaks(d, Protocol.OPENAI));
    return openAi
        ? List.of("chat.completions", "messages", "responses", "completions", "embeddings")
        : List.of("chat.completions", "messages", "responses");
  }

  @Override
  public Protocol protocol() {
    return Protocol.OPENAI;
  }

  @Override
  public String key(HttpRequest request) {
    return ApiKeys.bearer(HttpFront.header(request, "Authorization"));
  }

  @Override
  public ClientBody scan(byte[] body, Operation op) {
    try {
      return new OpenAiBody(body, op, RequestScan.scan(body, op, RequestScan.NO_COUNT), tokens.get());
    } catch (RequestScan.InvalidRequest e) {
      throw Refusal.invalid(e.getMessage(), e.param()).toException();
    }
  }

  @Override
  public HttpResponse error(Refusal r) {
    return Responses.error(envelope(r));
  }

  @Override
  public ByteString streamError(Refusal r) {
    return ByteString.fromString("data: ").concat(ByteString.fromArrayUnsafe(envelope(r).toJson()))
        .concat(ByteString.fromString("\n\n"));
  }

  @Override
  public byte[] render(ChatResponse response, ClientBody body) {
    return OpenAiChatCodec.encodeResponse(response);
  }

  @Override
  public StreamEncoder encoder(ClientBody body) {
    return OpenAiChatCodec.streamEncoder(body.includeUsage());
  }

  /** A refusal in OpenAI's envelope: the finer type when there is one, else the kind's. */
  public static OpenAiError envelope(Refusal r) {
    String type = r.detailType() != null ? r.detailType() : switch (r.kind()) {
      case RATE_LIMITED -> "requests";
      case BUDGET_EXHAUSTED -> "insufficient_quota";
      case UPSTREAM_FAILED, UPSTREAM_TIMEOUT -> "upstream_error";
      case UNAVAILABLE -> "no_available_deployment".equals(r.code()) ? "upstream_error" : "server_error";
      case INTERNAL -> "server_error";
      case UPSTREAM_REFUSED -> r.status() == 429 ? "rate_limit_exceeded"
          : r.status() >= 500 ? "server_error" : "invalid_request_error";
      default -> "invalid_request_error";
    };
    return new OpenAiError(r.status(), r.message(), type, r.param(), r.code());
  }
}
