package io.sluice.node.provider.gemini;

import com.google.auth.oauth2.GoogleCredentials;
import io.sluice.node.inference.Call;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.routing.Deployment;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * The adapter for Google's Gemini API ({@code provider = gemini}), on AI Studio or on Vertex AI.
 * No client speaks Gemini's protocol, so every request is translated by {@link GeminiCodec}.
 *
 * <ul>
 *   <li>AI Studio (the default): POST {@code {base-url}/v1beta/models/{model}:generateContent},
 *       or {@code :streamGenerateContent?alt=sse}, with the deployment's {@code x-goog-api-key}.
 *   <li>Vertex AI, chosen by the option {@code vertex-project} or {@code vertex-location}: POST
 *       {@code {base-url}/v1/projects/{project}/locations/{location}/publishers/google/models/
 *       {model}:generateContent} (location {@code global} when only the project is set), or, with
 *       a location and no project (express mode), {@code {base-url}/v1/publishers/google/models/
 *       {model}:generateContent}. With the option {@code credentials-file} (a service account's
 *       JSON key) the request carries {@code Authorization: Bearer} with an access token that a
 *       background thread refreshes before it expires; otherwise the {@code api-key} goes as
 *       {@code x-goog-api-key}. The base URL defaults to the location's host
 *       ({@link #defaultBaseUrl}).
 * </ul>
 */
public final class GeminiAdapter implements ProviderAdapter {
  /** How long before its expiry a Vertex token is replaced (Google's tokens last an hour). */
  static final Duration REFRESH_MARGIN = Duration.ofMinutes(5);
  /** How often the background thread looks for tokens due a refresh. */
  static final Duration REFRESH_TICK = Duration.ofSeconds(30);
  static final String SCOPE = "https://www.googleapis.com/auth/cloud-platform";
  static final String AI_STUDIO = "https://generativelanguage.googleapis.com";

  /** Service-account tokens by deployment name; empty without any Vertex service account. */
  private final Map<String, AccessTokens> tokens;
  /** The two URLs per deployment, built once. */
  private final ConcurrentHashMap<String, Urls> urls = new ConcurrentHashMap<>();

  private record Urls(Deployment deployment, String whole, String stream) {}

  /** An adapter without Vertex service accounts (API keys only). */
  public GeminiAdapter() {
    this(Map.of());
  }

  GeminiAdapter(Map<String, AccessTokens> tokens) {
    this.tokens = Map.copyOf(tokens);
  }

  /**
   * The adapter for {@code deployments}: the service account of each Gemini deployment with a
   * {@code credentials-file} is loaded now (a bad file fails the start, not a request), and one
   * daemon thread keeps their tokens fresh, its first fetch at once.
   *
   * @throws IllegalArgumentException when a credentials file cannot be read
   */
  public static GeminiAdapter create(Iterable<Deployment> deployments) {
    Map<String, AccessTokens> tokens = new ConcurrentHashMap<>();
    for (Deployment d : deployments) {
      String file = d.provider().equals("gemini") ? d.option("credentials-file", null) : null;
      if (file == null || file.isBlank()) {
        continue;
      }
      GoogleCredentials credentials;
      try (InputStream in = new FileInputStream(file)) {
        credentials = GoogleCredentials.fromStream(in).createScoped(List.of(SCOPE));
      } catch (IOException e) {
        throw new IllegalArgumentException("deployment " + d.name() + ": cannot read its credentials-file: "
            + e.getMessage(), e);
      }
      tokens.put(d.name(), new AccessTokens(d.name(), credentials::refreshAccessToken, InstantSource.system(),
          REFRESH_MARGIN));
    }
    if (!tokens.isEmpty()) {
      ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-gemini-tokens");
        t.setDaemon(true);
        return t;
      });
      refresher.scheduleWithFixedDelay(() -> tokens.values().forEach(AccessTokens::refreshIfDue), 0,
          REFRESH_TICK.toMillis(), TimeUnit.MILLISECONDS);
    }
    return new GeminiAdapter(tokens);
  }

  /**
   * The base URL of a Gemini deployment that sets none: Vertex's host for its location
   * ({@code https://{location}-aiplatform.googleapis.com}, or {@code https://aiplatform.googleapis.com}
   * for {@code global}), else AI Studio's.
   */
  public static String defaultBaseUrl(Map<String, String> options) {
    if (!options.containsKey("vertex-project") && !options.containsKey("vertex-location")) {
      return AI_STUDIO;
    }
    String location = options.getOrDefault("vertex-location", "global");
    return location.equals("global") ? "https://aiplatform.googleapis.com"
        : "https://" + location + "-aiplatform.googleapis.com";
  }

  @Override
  public String provider() {
    return "gemini";
  }

  @Override
  public Protocol protocol() {
    return Protocol.GEMINI;
  }

  @Override
  public HttpRequest request(Deployment d, Call call) throws InvalidChat {
    if (call.operation() != Operation.CHAT) {
      throw new InvalidChat("The model's deployment '" + d.name() + "' is Gemini's, which Sluice serves only "
          + "chat completions from, not " + call.operation().name().toLowerCase() + ".", "model");
    }
    byte[] body = GeminiCodec.encodeRequest(call.body().chat());
    Urls u = urls(d);
    return HttpRequest.create(call.stream() ? u.stream() : u.whole()).withMethod(HttpMethods.POST)
        .withHeaders(auth(d)).withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body));
  }

  /** The service account's bearer token, else the API key (none for a deployment without either, such as a mock). */
  private List<HttpHeader> auth(Deployment d) {
    AccessTokens t = tokens.get(d.name());
    if (t == null) {
      return d.apiKey() == null ? List.of() : List.of(RawHeader.create("x-goog-api-key", d.apiKey()));
    }
    try {
      return List.of(Authorization.create(HttpCredentials.createOAuth2BearerToken(t.current())));
    } catch (IOException e) {
      throw new UncheckedIOException("deployment " + d.name() + ": no Vertex access token could be had", e);
    }
  }

  private Urls urls(Deployment d) {
    Urls u = urls.get(d.name());
    if (u == null || u.deployment() != d) {
      u = urls.compute(d.name(), (name, old) -> old != null && old.deployment() == d ? old : newUrls(d));
    }
    return u;
  }

  static Urls newUrls(Deployment d) {
    String model = d.upstreamModel().startsWith("models/") ? d.upstreamModel().substring(7) : d.upstreamModel();
    String project = d.option("vertex-project", null);
    String location = d.option("vertex-location", null);
    String base = d.baseUrl() == null || d.baseUrl().isEmpty() ? defaultBaseUrl(d.options()) : d.baseUrl();
    String prefix;
    if (project != null) {
      prefix = base + "/v1/projects/" + project + "/locations/" + (location == null ? "global" : location)
          + "/publishers/google/models/" + model;
    } else if (location != null) {
      prefix = base + "/v1/publishers/google/models/" + model; // express mode: an API key, no project
    } else {
      prefix = base + "/v1beta/models/" + model;
    }
    return new Urls(d, prefix + ":generateContent", prefix + ":streamGenerateContent?alt=sse");
  }

  @Override
  public UpstreamError error(int status, ByteString body) {
    return GeminiCodec.error(status, body);
  }

  @Override
  public Usage usage(ByteString body) {
    return GeminiCodec.usage(body.toArrayUnsafe());
  }

  @Override
  public ChatResponse decode(ByteString body) throws InvalidChat {
    return GeminiCodec.decodeResponse(body.toArrayUnsafe());
  }

  /** Never asked for: a stream passes through only to a client of the same protocol, and none speaks Gemini's. */
  @Override
  public StreamTap tap(boolean clientWantsUsage) {
    throw new IllegalStateException("no client surface speaks Gemini's protocol, so a Gemini stream is always "
        + "decoded, never passed through");
  }

  @Override
  public StreamDecoder decoder() {
    return GeminiCodec.streamDecoder();
  }
}
