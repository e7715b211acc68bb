package io.sluice.node.provider.bedrock;

import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Signs one Bedrock request with AWS Signature Version 4, using the AWS SDK's own signer
 * ({@link AwsV4HttpSigner}), service {@code bedrock}.
 *
 * <p>What is signed is exactly what {@code NettyUpstream} sends: the same body bytes, the same
 * already-encoded path (the signer encodes it once more for the canonical request, as AWS expects
 * of every service but S3), and the same {@code Host} value (given explicitly, so that the signer
 * does not derive its own). The signed request has no other header, so the signature covers only
 * {@code host}, {@code x-amz-date}, {@code x-amz-content-sha256} when the signer adds it, and
 * {@code x-amz-security-token} with temporary credentials; the headers the transport adds later
 * ({@code User-Agent}, {@code Content-Type}, {@code Content-Length}) are not signed, so they cannot
 * break the signature.
 */
final class SigV4 {
  static final String SERVICE = "bedrock";
  private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();

  private SigV4() {}

  /**
   * The headers to add to the request: every header of the signed request but {@code Host}
   * (which the transport sets to the same value), as name and value pairs.
   *
   * @param url the request URL, its path already percent-encoded as it is sent
   * @param host the Host header the transport sends
   */
  static List<Map.Entry<String, String>> sign(String url, String host, byte[] body, String region,
      AwsCredentialsIdentity credentials, Clock clock) {
    SdkHttpFullRequest request = SdkHttpFullRequest.builder()
        .method(SdkHttpMethod.POST)
        .uri(URI.create(url))
        .putHeader("Host", host)
        .build();
    SignedRequest signed = SIGNER.sign(r -> r
        .identity(credentials)
        .request(request)
        .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, SERVICE)
        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
        .putProperty(HttpSigner.SIGNING_CLOCK, clock));
    List<Map.Entry<String, String>> out = new ArrayList<>(4);
    signed.request().forEachHeader((name, values) -> {
      if (!name.equalsIgnoreCase("Host")) {
        for (String v : values) {
          out.add(Map.entry(name, v));
        }
      }
    });
    return out;
  }
}
