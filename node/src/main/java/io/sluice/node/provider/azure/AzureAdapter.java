package io.sluice.node.provider.azure;

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
import io.sluice.node.provider.openai.OpenAiAdapter;
import io.sluice.node.provider.openai.OpenAiChatCodec;
import io.sluice.node.routing.Deployment;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * Azure OpenAI ({@code provider = azure}): OpenAI's bodies, streams, usage and errors at Azure's
 * URLs and with Azure's credentials. With an {@code api-version} such as 2024-10-21 a request goes
 * to {@code {base-url}/openai/deployments/{deployment}/chat/completions?api-version=...}; with
 * {@code api-version = v1} to {@code {base-url}/openai/v1/chat/completions} with the deployment's
 * name as the model. It authenticates with the {@code api-key} header, or with a Microsoft Entra
 * ID bearer token ({@code auth = entra}, see {@link EntraTokens}). Everything else is the OpenAI
 * adapter's: the codec is reused, not copied.
 */
public final class AzureAdapter implements ProviderAdapter {
  /** The API version used when a deployment names none: the GA version of 2024-10-21. */
  static final String DEFAULT_API_VERSION = "2024-10-21";

  private final OpenAiAdapter openai = new OpenAiAdapter();
  private final EntraTokens tokens;

  public AzureAdapter(EntraTokens tokens) {
    this.tokens = tokens;
  }

  @Override
  public String provider() {
    return "azure";
  }

  @Override
  public Protocol protocol() {
    return Protocol.OPENAI;
  }

  /** The Azure deployment a request goes to: the {@code deployment} option, else the upstream model name. */
  static String deploymentName(Deployment d) {
    return d.option("deployment", d.upstreamModel());
  }

  /** The request URL for {@code op} on {@code d}. */
  static String url(Deployment d, Operation op) {
    return url(d, OpenAiAdapter.path(op));
  }

  /**
   * The v1 API serves the Responses API at {@code /openai/v1/responses}, so a Responses request
   * passes through there; with a dated api-version it is translated to chat completions.
   */
  @Override
  public boolean passesThrough(Deployment d, Protocol client) {
    return client == Protocol.OPENAI || (client == Protocol.OPENAI_RESPONSES && v1(d));
  }

  private static boolean v1(Deployment d) {
    return d.option("api-version", DEFAULT_API_VERSION).equals("v1");
  }

  private static String url(Deployment d, String path) {
    String version = d.option("api-version", DEFAULT_API_VERSION);
    if (version.equals("v1")) {
      return d.baseUrl() + "/openai/v1/" + path;
    }
    return d.baseUrl() + "/openai/deployments/" + URLEncoder.encode(deploymentName(d), StandardCharsets.UTF_8)
        + "/" + path + "?api-version=" + URLEncoder.encode(version, StandardCharsets.UTF_8);
  }

  @Override
  public HttpRequest request(Deployment d, Call call) throws InvalidChat {
    String model = deploymentName(d);
    boolean passthrough = passesThrough(d, call.body().protocol());
    byte[] body = passthrough
        ? call.body().passthrough(model)
        : OpenAiChatCodec.encodeRequest(call.body().chat().withModel(model));
    String path = passthrough && call.body().protocol() == Protocol.OPENAI_RESPONSES
        ? "responses" : OpenAiAdapter.path(call.operation());
    HttpRequest request = HttpRequest.create(url(d, path)).withMethod(HttpMethods.POST)
        .withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body));
    if (d.option("auth", "api-key").equals("entra")) {
      return request.addHeader(RawHeader.create("Authorization", "Bearer " + tokens.token(d)));
    }
    return d.apiKey() == null ? request : request.addHeader(RawHeader.create("api-key", d.apiKey()));
  }

  @Override
  public UpstreamError error(int status, ByteString body) {
    return openai.error(status, body);
  }

  @Override
  public Usage usage(ByteString body) {
    return openai.usage(body);
  }

  @Override
  public ChatResponse decode(ByteString body) throws InvalidChat {
    return openai.decode(body);
  }

  @Override
  public StreamTap tap(boolean clientWantsUsage) {
    return openai.tap(clientWantsUsage);
  }

  @Override
  public StreamTap tap(Protocol client, boolean clientWantsUsage) {
    return openai.tap(client, clientWantsUsage);
  }

  @Override
  public StreamDecoder decoder() {
    return openai.decoder();
  }
}
