package io.sluice.node.provider.openai;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.api.RequestScan.Operation;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.routing.Deployment;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.util.ByteString;

/**
 * The adapter for OpenAI and every OpenAI-compatible server (vLLM, Ollama, OpenRouter, Groq, a
 * mock): the body is forwarded as the client sent it, with the deployment's key instead of the
 * client's.
 */
public final class OpenAiAdapter implements ProviderAdapter {
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final int MAX_MESSAGE = 500;

  /** OpenAI's error body, as much of it as Sluice reads. */
  record ErrorBody(ErrorDetail error) {}

  /** The inner error object. */
  record ErrorDetail(String message, String type, String param, Object code) {}

  @Override
  public String provider() {
    return "openai";
  }

  /**
   * The request heads (URI, method, key) per deployment, one per operation, built once: parsing
   * the URI and rendering the key on every request cost more than the rest of this adapter.
   */
  private final ConcurrentHashMap<String, Heads> heads = new ConcurrentHashMap<>();

  /** The heads built for one deployment object (a deployment reconfigured under its name is another). */
  private record Heads(Deployment deployment, HttpRequest[] byOperation) {}

  @Override
  public HttpRequest request(Deployment d, Operation operation, byte[] body) {
    int op = operation.ordinal();
    Heads known = heads.get(d.name());
    if (known == null || known.deployment() != d || known.byOperation()[op] == null) {
      known = heads.compute(d.name(), (name, old) -> {
        HttpRequest[] next = old == null || old.deployment() != d
            ? new HttpRequest[Operation.values().length] : old.byOperation().clone();
        next[op] = head(d, operation);
        return new Heads(d, next);
      });
    }
    // Wrapped, not copied: the request body is never changed once scanned (see ProviderAdapter#request).
    return known.byOperation()[op].withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body));
  }

  private static HttpRequest head(Deployment d, Operation operation) {
    List<HttpHeader> headers = d.apiKey() == null
        ? List.of()
        : List.of(Authorization.create(HttpCredentials.createOAuth2BearerToken(d.apiKey())));
    return HttpRequest.create(d.baseUrl() + "/" + operation.path())
        .withMethod(HttpMethods.POST)
        .withHeaders(headers);
  }

  @Override
  public OpenAiError error(int status, ByteString body) {
    ErrorDetail detail = null;
    try {
      ErrorBody parsed = JSON.readValue(body.toArray(), ErrorBody.class);
      detail = parsed == null ? null : parsed.error();
    } catch (IOException | RuntimeException notAnEnvelope) {
      // Not OpenAI's envelope: described by status below.
    }
    String type = status == 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
    if (detail == null || detail.message() == null) {
      return new OpenAiError(status, "The upstream model server answered HTTP " + status + ".", type, null, null);
    }
    return new OpenAiError(status, clip(redact(detail.message())),
        detail.type() != null ? detail.type() : type, detail.param(),
        detail.code() == null ? null : String.valueOf(detail.code()));
  }

  /** Upstreams echo keys in messages ("Incorrect API key provided: sk-abc..."); never pass them on. */
  static String redact(String message) {
    return message.replaceAll("(?<=(?:sk|key)[-_]|Bearer )[A-Za-z0-9._*-]{6,}", "***");
  }

  private static String clip(String s) {
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "...";
  }
}
