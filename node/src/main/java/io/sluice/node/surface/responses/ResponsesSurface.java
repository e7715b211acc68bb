package io.sluice.node.surface.responses;

import com.fasterxml.jackson.core.JsonGenerator;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.http.Responses;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.TokenCounter;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.surface.Dialect;
import io.sluice.node.surface.HttpFront;
import io.sluice.node.surface.openai.OpenAiSurface;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.Uri;
import org.apache.pekko.util.ByteString;

/**
 * OpenAI's Responses API, {@code POST /v1/responses}, JSON and streamed, with OpenAI's bearer
 * auth and error envelope. A deployment that speaks the Responses API (OpenAI's, Azure's v1 API)
 * gets the client's bytes with the model swapped, stateful features included; any other gets the
 * neutral request ({@link ResponsesRequest}), and its answer is rendered as a response object
 * ({@link ResponseObject}) or the Responses event stream ({@link ResponsesStreamEncoder}).
 * Stateful features are refused (400) for those, since only OpenAI keeps the state.
 */
public final class ResponsesSurface implements Dialect {
  private static final Uri.Path RESPONSES =
      ((org.apache.pekko.http.scaladsl.model.HttpRequest) HttpRequest.create("/v1/responses")).uri().path();

  private final HttpFront front;
  private final Supplier<TokenCounter> tokens;

  public ResponsesSurface(HttpFront front, Supplier<TokenCounter> tokens) {
    this.front = front;
    this.tokens = tokens;
  }

  /** {@code POST /v1/responses}, answered without the routing DSL; null for any other request. */
  public CompletionStage<HttpResponse> direct(HttpRequest request) {
    if (!request.method().equals(HttpMethods.POST)
        || !((org.apache.pekko.http.scaladsl.model.HttpRequest) request).uri().path().equals(RESPONSES)) {
      return null;
    }
    return front.infer(request, this, Operation.CHAT);
  }

  @Override
  public Protocol protocol() {
    return Protocol.OPENAI_RESPONSES;
  }

  @Override
  public String key(HttpRequest request) {
    return ApiKeys.bearer(HttpFront.header(request, "Authorization"));
  }

  @Override
  public ClientBody scan(byte[] body, Operation op) {
    try {
      return new ResponsesBody(body, ResponsesScan.scan(body), tokens.get());
    } catch (InvalidChat e) {
      throw Refusal.invalid(e.getMessage(), e.param()).toException();
    }
  }

  @Override
  public HttpResponse error(Refusal r) {
    return Responses.error(OpenAiSurface.envelope(r));
  }

  /**
   * The Responses API's mid-stream {@code error} event. Its sequence number is unknown to the
   * gateway (the stream passed through), so it is 0; the SDKs read it but order nothing by it.
   */
  @Override
  public ByteString streamError(Refusal r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + r.message().length());
    try (JsonGenerator g = ResponseObject.JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("type", "error");
      g.writeStringField("code", r.code() != null ? r.code() : "server_error");
      g.writeStringField("message", r.message());
      g.writeStringField("param", r.param());
      g.writeNumberField("sequence_number", 0);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteString.fromString("event: error\ndata: ").concat(ByteString.fromArrayUnsafe(out.toByteArray()))
        .concat(ByteString.fromString("\n\n"));
  }

  @Override
  public byte[] render(ChatResponse response, ClientBody body) {
    ResponsesBody b = (ResponsesBody) body;
    String id = ResponseObject.responseId(response.id());
    String[] status = ResponseObject.status(response.finishReason());
    String model = response.model() != null && !response.model().isEmpty() ? response.model() : body.model();
    return ResponseObject.json(new ResponseObject.Snapshot(id, model, nowSeconds(), status[0],
        ResponseObject.items(response, id), status[1], null,
        response.usage() != null ? response.usage() : Usage.of(0, 0)), b.tree());
  }

  @Override
  public StreamEncoder encoder(ClientBody body) {
    return new ResponsesStreamEncoder(((ResponsesBody) body).tree(), body.model(), nowSeconds());
  }

  private static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }
}
