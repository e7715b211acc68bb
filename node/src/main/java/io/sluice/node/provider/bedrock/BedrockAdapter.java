package io.sluice.node.provider.bedrock;

import io.sluice.node.inference.Call;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.NettyUpstream;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.routing.Deployment;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * The adapter for AWS Bedrock's Converse API ({@code provider = bedrock}): POST
 * {@code {base-url}/model/{model}/converse}, or {@code /converse-stream} for a stream, with the model
 * id percent-encoded once in the path (so {@code v1:0} is sent as {@code v1%3A0}, as the AWS SDKs
 * send it). Requests are translated by {@link BedrockCodec}; no client speaks Converse, so nothing
 * passes through.
 *
 * <p>Authentication, per deployment:
 * <ul>
 *   <li>{@code api-key} (a Bedrock API key) is sent as {@code Authorization: Bearer}, unsigned;
 *   <li>else {@code access-key-id} and {@code secret-access-key} (and {@code session-token} for
 *       temporary credentials) sign the request with SigV4 ({@link SigV4}), service {@code bedrock}.
 * </ul>
 *
 * <p>The AWS region (the signing region, and the default host
 * {@code https://bedrock-runtime.{region}.amazonaws.com}) is the {@code aws-region} option, else
 * {@code region}. {@code region} is also what multi-region routing reads as the Sluice region a
 * deployment is preferred by; {@code aws-region} exists so the two can differ (a deployment in AWS's
 * us-east-1 preferred by the nodes of Sluice region r1), while the plain {@code region = "us-east-1"}
 * of the common case keeps working.
 */
public final class BedrockAdapter implements ProviderAdapter {
  private final Clock clock;

  public BedrockAdapter() {
    this(Clock.systemUTC());
  }

  /** @param clock the signing time (tests fix it, so signatures are reproducible) */
  BedrockAdapter(Clock clock) {
    this.clock = clock;
  }

  @Override
  public String provider() {
    return "bedrock";
  }

  @Override
  public Protocol protocol() {
    return Protocol.BEDROCK;
  }

  /** The AWS region of a deployment's options: {@code aws-region}, else {@code region}; null when neither. */
  public static String awsRegion(Map<String, String> options) {
    String r = options.get("aws-region");
    if (r == null || r.isBlank()) {
      r = options.get("region");
    }
    return r == null || r.isBlank() ? null : r.trim();
  }

  /** The base URL of a deployment that names none: Bedrock's runtime endpoint in its AWS region. */
  public static String defaultBaseUrl(Map<String, String> options) {
    String region = awsRegion(options);
    if (region == null) {
      throw new IllegalArgumentException("a bedrock deployment needs region (or aws-region) or base-url");
    }
    return "https://bedrock-runtime." + region + ".amazonaws.com";
  }

  /** The request URL of a Converse call on {@code d}: the model id encoded once, as one path segment. */
  static String url(Deployment d, boolean stream) {
    return d.baseUrl() + "/model/" + SdkHttpUtils.urlEncode(d.upstreamModel())
        + (stream ? "/converse-stream" : "/converse");
  }

  @Override
  public HttpRequest request(Deployment d, Call call) throws InvalidChat {
    if (call.operation() != Operation.CHAT) {
      throw new InvalidChat("The model's deployment '" + d.name() + "' is AWS Bedrock's, which serves no "
          + call.operation().name().toLowerCase() + " here.", "model");
    }
    byte[] body = BedrockCodec.encodeRequest(call.body().chat());
    String url = url(d, call.stream());
    List<HttpHeader> headers = new ArrayList<>(4);
    if (d.apiKey() != null) {
      headers.add(RawHeader.create("Authorization", "Bearer " + d.apiKey()));
    } else {
      for (Map.Entry<String, String> h : SigV4.sign(url, NettyUpstream.hostHeader(URI.create(d.baseUrl())), body,
          signingRegion(d), credentials(d), clock)) {
        headers.add(RawHeader.create(h.getKey(), h.getValue()));
      }
    }
    // Pekko's URI would send v1:0 for v1%3A0; the path goes on the wire exactly as it was signed.
    return HttpRequest.create(url).withMethod(HttpMethods.POST).withHeaders(headers)
        .addAttribute(NettyUpstream.RAW_TARGET, URI.create(url).getRawPath())
        .withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body));
  }

  /** The region to sign for: the configured one, else the one in a standard Bedrock host name. */
  static String signingRegion(Deployment d) {
    String region = awsRegion(d.options());
    if (region != null) {
      return region;
    }
    String host = URI.create(d.baseUrl()).getHost();
    if (host != null && host.startsWith("bedrock-runtime.") && host.endsWith(".amazonaws.com")) {
      String[] parts = host.split("\\.");
      if (parts.length >= 4) {
        return parts[1];
      }
    }
    throw new IllegalStateException("deployment " + d.name() + ": bedrock needs region (or aws-region) to sign");
  }

  private static AwsCredentialsIdentity credentials(Deployment d) {
    String id = d.option("access-key-id", null);
    String secret = d.option("secret-access-key", null);
    if (id == null || secret == null) {
      throw new IllegalStateException("deployment " + d.name()
          + ": bedrock needs api-key, or access-key-id and secret-access-key");
    }
    String token = d.option("session-token", null);
    return token == null || token.isBlank() ? AwsCredentialsIdentity.create(id, secret)
        : AwsSessionCredentialsIdentity.create(id, secret, token);
  }

  @Override
  public UpstreamError error(int status, ByteString body) {
    return BedrockErrors.parse(status, name -> Optional.empty(), body);
  }

  /** The error's name comes in the {@code x-amzn-ErrorType} header, so this is the one the pipeline calls. */
  @Override
  public UpstreamError error(int status, Function<String, Optional<String>> header, ByteString body) {
    return BedrockErrors.parse(status, header, body);
  }

  @Override
  public Usage usage(ByteString body) {
    return BedrockCodec.usage(body.toArrayUnsafe());
  }

  @Override
  public ChatResponse decode(ByteString body) throws InvalidChat {
    return BedrockCodec.decodeResponse(body.toArrayUnsafe());
  }

  /** Never called: no client surface speaks Converse, so a Bedrock stream never passes through. */
  @Override
  public StreamTap tap(boolean clientWantsUsage) {
    throw new IllegalStateException("Bedrock streams are always translated: no client speaks Converse");
  }

  @Override
  public StreamDecoder decoder() {
    return BedrockCodec.streamDecoder();
  }
}
