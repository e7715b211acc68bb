package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.Call;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.TokenCounting;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.routing.Deployment;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * The adapter for Anthropic's Messages API ({@code provider = anthropic}): POST
 * {@code {base-url}/messages} with the deployment's {@code x-api-key} and {@code anthropic-version}
 * (option {@code anthropic-version}, default 2023-06-01), passing on the client's
 * {@code anthropic-beta}. A body from an Anthropic client passes through with the model swapped;
 * any other is encoded by {@link AnthropicCodec}, with {@code max_tokens} from the client or the
 * option {@code default-max-tokens} (default 4096), since Anthropic requires it.
 */
public final class AnthropicAdapter implements ProviderAdapter, TokenCounting {
  /** The API version sent when the deployment names none. */
  static final String VERSION = "2023-06-01";
  static final long DEFAULT_MAX_TOKENS = 4096;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String provider() {
    return "anthropic";
  }

  @Override
  public Protocol protocol() {
    return Protocol.ANTHROPIC;
  }

  @Override
  public HttpRequest request(Deployment d, Call call) throws InvalidChat {
    if (call.operation() != Operation.CHAT) {
      throw new InvalidChat("The model's deployment '" + d.name() + "' is Anthropic's, which serves no "
          + call.operation().name().toLowerCase() + ".", "model");
    }
    byte[] body = call.body().protocol() == Protocol.ANTHROPIC
        ? call.body().passthrough(d.upstreamModel())
        : AnthropicCodec.encodeRequest(call.body().chat().withModel(d.upstreamModel()), defaultMaxTokens(d));
    return post(d, "/messages", call, body);
  }

  @Override
  public HttpRequest countRequest(Deployment d, Call call) {
    return post(d, "/messages/count_tokens", call, call.body().passthrough(d.upstreamModel()));
  }

  @Override
  public long countOf(ByteString body) {
    try {
      JsonNode n = JSON.readTree(body.toArrayUnsafe());
      return n != null && n.path("input_tokens").canConvertToLong() ? n.path("input_tokens").asLong() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  private static HttpRequest post(Deployment d, String path, Call call, byte[] body) {
    List<HttpHeader> headers = new ArrayList<>(3);
    if (d.apiKey() != null) {
      headers.add(RawHeader.create("x-api-key", d.apiKey()));
    }
    headers.add(RawHeader.create("anthropic-version", d.option("anthropic-version", VERSION)));
    String beta = call.header().apply("anthropic-beta");
    if (beta != null) {
      headers.add(RawHeader.create("anthropic-beta", beta));
    }
    return HttpRequest.create(d.baseUrl() + path).withMethod(HttpMethods.POST).withHeaders(headers)
        .withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body));
  }

  static long defaultMaxTokens(Deployment d) {
    try {
      return Long.parseLong(d.option("default-max-tokens", Long.toString(DEFAULT_MAX_TOKENS)).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("deployment " + d.name() + ": default-max-tokens must be an integer");
    }
  }

  @Override
  public UpstreamError error(int status, ByteString body) {
    return AnthropicCodec.error(status, body);
  }

  @Override
  public Usage usage(ByteString body) {
    return AnthropicCodec.usage(body.toArrayUnsafe());
  }

  @Override
  public ChatResponse decode(ByteString body) throws InvalidChat {
    return AnthropicCodec.decodeResponse(body.toArrayUnsafe());
  }

  /** Anthropic's streams always carry their usage, so there is nothing the tap must drop. */
  @Override
  public StreamTap tap(boolean clientWantsUsage) {
    return AnthropicCodec.tap();
  }

  @Override
  public StreamDecoder decoder() {
    return AnthropicCodec.streamDecoder();
  }
}
