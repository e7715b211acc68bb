package io.sluice.node.surface.anthropic;

import io.sluice.node.inference.TokenCounter;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.http.Responses;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.InferencePipeline;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.provider.anthropic.AnthropicCodec;
import io.sluice.node.surface.Dialect;
import io.sluice.node.surface.HttpFront;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.Uri;
import org.apache.pekko.util.ByteString;

/**
 * Anthropic's Messages API: {@code POST /v1/messages} (also with a query string, such as
 * Claude Code's {@code ?beta=true}) and {@code POST /v1/messages/count_tokens}, authenticated by
 * {@code x-api-key} or {@code Authorization: Bearer}, with Anthropic's error envelope
 * {@code {"type":"error","error":{"type","message"}}}. It scans and renders; {@link HttpFront}
 * and the pipeline do the rest, so quotas, routing, circuits and the gateway's headers behave as
 * they do on the OpenAI surface.
 */
public final class AnthropicSurface implements Dialect {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Uri.Path MESSAGES = uriPath("/v1/messages");
  private static final Uri.Path COUNT_TOKENS = uriPath("/v1/messages/count_tokens");

  private final HttpFront front;
  private final InferencePipeline pipeline;
  private final Supplier<TokenCounter> tokens;

  public AnthropicSurface(HttpFront front, InferencePipeline pipeline, Supplier<TokenCounter> tokens) {
    this.front = front;
    this.pipeline = pipeline;
    this.tokens = tokens;
  }

  private static Uri.Path uriPath(String p) {
    return ((org.apache.pekko.http.scaladsl.model.HttpRequest) HttpRequest.create(p)).uri().path();
  }

  /** The Messages requests, answered without the routing DSL; null for any other request. */
  public CompletionStage<HttpResponse> direct(HttpRequest request) {
    if (!request.method().equals(HttpMethods.POST)) {
      return null;
    }
    Uri.Path p = ((org.apache.pekko.http.scaladsl.model.HttpRequest) request).uri().path();
    if (p.equals(MESSAGES)) {
      return front.infer(request, this, Operation.CHAT);
    }
    if (p.equals(COUNT_TOKENS)) {
      return front.handle(request, this, Operation.CHAT, bytes -> scan(bytes, true),
          (view, call, controls, start) -> pipeline.countTokens(view, call).thenApply(AnthropicSurface::counted));
    }
    return null;
  }

  private static HttpResponse counted(long inputTokens) {
    return Responses.json(200, ("{\"input_tokens\":" + inputTokens + "}").getBytes(StandardCharsets.US_ASCII));
  }

  @Override
  public Protocol protocol() {
    return Protocol.ANTHROPIC;
  }

  /** {@code x-api-key}, as the Anthropic SDKs send it, or a bearer token, as some of them and gateways do. */
  @Override
  public String key(HttpRequest request) {
    String key = HttpFront.header(request, "x-api-key");
    return key != null ? key.trim() : ApiKeys.bearer(HttpFront.header(request, "Authorization"));
  }

  @Override
  public ClientBody scan(byte[] body, Operation op) {
    return scan(body, false);
  }

  private ClientBody scan(byte[] body, boolean countOnly) {
    try {
      MessagesScan scan = countOnly
          ? MessagesScan.scanCountTokens(body, RequestScan.NO_COUNT) : MessagesScan.scan(body, RequestScan.NO_COUNT);
      return new AnthropicBody(body, scan, tokens.get(), countOnly);
    } catch (InvalidChat e) {
      throw Refusal.invalid(e.getMessage(), e.param()).toException();
    }
  }

  @Override
  public HttpResponse error(Refusal r) {
    return HttpResponse.create().withStatus(StatusCodes.get(r.status()))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(envelope(r))));
  }

  @Override
  public ByteString streamError(Refusal r) {
    return ByteString.fromString("event: error\ndata: ").concat(ByteString.fromArrayUnsafe(envelope(r)))
        .concat(ByteString.fromString("\n\n"));
  }

  @Override
  public byte[] render(ChatResponse response, ClientBody body) {
    return AnthropicCodec.encodeResponse(response);
  }

  @Override
  public StreamEncoder encoder(ClientBody body) {
    return AnthropicCodec.streamEncoder(body.model());
  }

  /** Anthropic's error type for a refusal: the upstream's own when it came from an Anthropic upstream. */
  static String type(Refusal r) {
    if (r.kind() == Refusal.Kind.UPSTREAM_REFUSED && r.detailType() != null) {
      return r.detailType();
    }
    return switch (r.kind()) {
      case UNAUTHENTICATED -> "authentication_error";
      case FORBIDDEN -> "permission_error";
      case NOT_FOUND -> "not_found_error";
      case TOO_LARGE -> "request_too_large";
      case RATE_LIMITED, BUDGET_EXHAUSTED -> "rate_limit_error";
      case UNAVAILABLE -> "overloaded_error";
      case UPSTREAM_FAILED, UPSTREAM_TIMEOUT, INTERNAL -> "api_error";
      case UPSTREAM_REFUSED -> switch (r.status()) {
        case 401 -> "authentication_error";
        case 403 -> "permission_error";
        case 404 -> "not_found_error";
        case 413 -> "request_too_large";
        case 429 -> "rate_limit_error";
        default -> r.status() >= 500 ? "api_error" : "invalid_request_error";
      };
      case INVALID_REQUEST, REQUEST_TIMEOUT -> "invalid_request_error";
    };
  }

  private static byte[] envelope(Refusal r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(96 + r.message().length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("type", "error");
      g.writeObjectFieldStart("error");
      g.writeStringField("type", type(r));
      g.writeStringField("message", r.message());
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
