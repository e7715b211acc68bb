package io.sluice.node.provider.openai;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.Call;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.routing.Deployment;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.util.ByteString;

/**
 * The adapter for OpenAI and every OpenAI-compatible server (vLLM, Ollama, OpenRouter, Groq, a
 * mock). A body from an OpenAI client (chat completions, embeddings, completions, or the Responses
 * API to {@code {base-url}/responses}) is forwarded as the client sent it, with the deployment's
 * key instead of the client's and the model swapped; a body from another protocol's client is
 * encoded by {@link OpenAiChatCodec}, and so are the answers for it.
 */
public final class OpenAiAdapter implements ProviderAdapter {
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final int MAX_MESSAGE = 500;
  private static final Pattern SECRET = Pattern.compile("(?<=(?:sk|key)[-_]|Bearer )[A-Za-z0-9._*-]{6,}");

  /** OpenAI's error body, as much of it as Sluice reads. */
  record ErrorBody(ErrorDetail error) {}

  /** The inner error object. */
  record ErrorDetail(String message, Object type, Object param, Object code) {}

  @Override
  public String provider() {
    return "openai";
  }

  @Override
  public Protocol protocol() {
    return Protocol.OPENAI;
  }

  /**
   * The request heads (URI, method, key) per deployment, one per endpoint, built once: parsing
   * the URI and rendering the key on every request cost more than the rest of this adapter.
   */
  private final ConcurrentHashMap<String, Heads> heads = new ConcurrentHashMap<>();

  /** The heads built for one deployment object (a deployment reconfigured under its name is another). */
  private record Heads(Deployment deployment, HttpRequest[] bySlot) {}

  /**
   * OpenAI's own Responses API passes through too, unless the deployment sets
   * {@code responses-api = false} (an OpenAI-compatible server without {@code /responses}): its
   * Responses requests are then translated to chat completions.
   */
  @Override
  public boolean passesThrough(Deployment d, Protocol client) {
    return client == Protocol.OPENAI || (client == Protocol.OPENAI_RESPONSES && servesResponses(d));
  }

  /** Whether {@code d} serves the Responses API itself (the {@code responses-api} option, default true). */
  public static boolean servesResponses(Deployment d) {
    return !d.option("responses-api", "true").equals("false");
  }

  @Override
  public HttpRequest request(Deployment d, Call call) throws InvalidChat {
    boolean passthrough = passesThrough(d, call.body().protocol());
    byte[] body = passthrough
        ? call.body().passthrough(d.upstreamModel())
        : OpenAiChatCodec.encodeRequest(call.body().chat().withModel(d.upstreamModel()));
    // Wrapped, not copied: the request body is never changed once scanned.
    int slot = passthrough && call.body().protocol() == Protocol.OPENAI_RESPONSES
        ? RESPONSES_SLOT : call.operation().ordinal();
    return head(d, slot).withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body));
  }

  /** The head slot of the Responses API, after one per operation. */
  private static final int RESPONSES_SLOT = Operation.values().length;

  private HttpRequest head(Deployment d, int slot) {
    Heads known = heads.get(d.name());
    if (known == null || known.deployment() != d || known.bySlot()[slot] == null) {
      known = heads.compute(d.name(), (name, old) -> {
        HttpRequest[] next = old == null || old.deployment() != d
            ? new HttpRequest[RESPONSES_SLOT + 1] : old.bySlot().clone();
        next[slot] = newHead(d, slot == RESPONSES_SLOT ? "responses" : path(Operation.values()[slot]));
        return new Heads(d, next);
      });
    }
    return known.bySlot()[slot];
  }

  /** The path of {@code operation}'s endpoint under the base URL. */
  public static String path(Operation operation) {
    return switch (operation) {
      case CHAT -> "chat/completions";
      case EMBEDDINGS -> "embeddings";
      case COMPLETIONS -> "completions";
    };
  }

  private static HttpRequest newHead(Deployment d, String path) {
    List<HttpHeader> headers = d.apiKey() == null
        ? List.of()
        : List.of(Authorization.create(HttpCredentials.createOAuth2BearerToken(d.apiKey())));
    return HttpRequest.create(d.baseUrl() + "/" + path).withMethod(HttpMethods.POST).withHeaders(headers);
  }

  @Override
  public UpstreamError error(int status, ByteString body) {
    ErrorDetail detail = null;
    try {
      ErrorBody parsed = JSON.readValue(body.toArray(), ErrorBody.class);
      detail = parsed == null ? null : parsed.error();
    } catch (IOException | RuntimeException notAnEnvelope) {
      // Not OpenAI's envelope: described by status below.
    }
    ErrorClass ec = ErrorClass.classify(status);
    String type = status == 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
    if (detail == null || detail.message() == null) {
      return new UpstreamError(status, ec, type, null, "The upstream model server answered HTTP " + status + ".", null);
    }
    // Every string that came from the upstream is redacted: a key may be echoed in any of them.
    return new UpstreamError(status, ec, detail.type() != null ? clean(detail.type()) : type, clean(detail.code()),
        clean(detail.message()), clean(detail.param()));
  }

  /** An upstream value as text fit to pass on: secrets taken out, clipped; null stays null. */
  static String clean(Object value) {
    if (value == null) {
      return null;
    }
    String s = redact(String.valueOf(value));
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "...";
  }

  /** Upstreams echo keys in messages ("Incorrect API key provided: sk-abc..."); never pass them on. */
  static String redact(String message) {
    return SECRET.matcher(message).replaceAll("***");
  }

  @Override
  public Usage usage(ByteString body) {
    return UsageScan.of(body.toArrayUnsafe());
  }

  @Override
  public ChatResponse decode(ByteString body) throws InvalidChat {
    return OpenAiChatCodec.decodeResponse(body.toArrayUnsafe());
  }

  @Override
  public StreamTap tap(boolean clientWantsUsage) {
    return new SseUsage(!clientWantsUsage);
  }

  /** A Responses stream's usage comes in its {@code response.completed} event, which is never dropped. */
  @Override
  public StreamTap tap(Protocol client, boolean clientWantsUsage) {
    return client == Protocol.OPENAI_RESPONSES ? new ResponsesSseUsage() : tap(clientWantsUsage);
  }

  @Override
  public StreamDecoder decoder() {
    return OpenAiChatCodec.streamDecoder();
  }
}
