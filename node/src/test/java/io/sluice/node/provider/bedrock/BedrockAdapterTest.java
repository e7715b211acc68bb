package io.sluice.node.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.Call;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.provider.NettyUpstream;
import io.sluice.node.routing.Deployment;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

class BedrockAdapterTest {
  private static final String MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0";
  private static final Instant NOW = Instant.parse("2026-12-07T15:04:05Z");
  private static final BedrockAdapter ADAPTER = new BedrockAdapter(Clock.fixed(NOW, ZoneOffset.UTC));
  private static final String KEY_ID = "AKIAIOSFODNN7EXAMPLE";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

  private static Deployment bedrock(String baseUrl, String model, String apiKey, Map<String, String> options) {
    return new Deployment("br", "bedrock", baseUrl, model, apiKey, 1, 0, Duration.ofSeconds(2),
        Duration.ofSeconds(30), Duration.ofMinutes(5), 16, 64, 0, null, options);
  }

  private static Map<String, String> keys(String region) {
    Map<String, String> m = new HashMap<>(Map.of("access-key-id", KEY_ID, "secret-access-key", SECRET));
    if (region != null) {
      m.put("region", region);
    }
    return m;
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource({
      "anthropic.claude-3-5-sonnet-20240620-v1:0, /model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
      "us.anthropic.claude-3-haiku-20240307-v1:0, /model/us.anthropic.claude-3-haiku-20240307-v1%3A0/converse",
      "'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3', "
          + "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.meta.llama3/converse",
  })
  void request_modelId_encodedOnceAndSentSoByTheTransport(String model, String path) throws Exception {
    HttpRequest r = ADAPTER.request(bedrock("https://bedrock-runtime.us-east-1.amazonaws.com", model, null,
        keys("us-east-1")), call(false));
    // what NettyUpstream puts on the request line: the encoding must survive Pekko's URI model
    assertEquals(path, NettyUpstream.target(r));
  }

  @Test
  void request_stream_conversesStream() throws Exception {
    HttpRequest r = ADAPTER.request(bedrock("http://127.0.0.1:9999", MODEL, null, keys("us-west-2")), call(true));
    assertEquals("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream", NettyUpstream.target(r));
  }

  @Test
  void request_keyPair_signedWithSigV4OverOnlyTheHeadersAwsRequires() throws Exception {
    HttpRequest r = ADAPTER.request(bedrock("http://127.0.0.1:9999", MODEL, null, keys("eu-west-1")), call(false));
    String auth = r.getHeader("Authorization").orElseThrow().value();
    assertTrue(auth.startsWith("AWS4-HMAC-SHA256 Credential=" + KEY_ID + "/20261207/eu-west-1/bedrock/aws4_request, "),
        auth);
    String signed = auth.substring(auth.indexOf("SignedHeaders=") + 14, auth.indexOf(", Signature="));
    assertTrue(List.of("host;x-amz-date", "host;x-amz-content-sha256;x-amz-date").contains(signed), signed);
    assertEquals("20261207T150405Z", r.getHeader("X-Amz-Date").orElseThrow().value());
    assertEquals(0, headerCount(r, "host"), "the transport sets Host; the adapter must not add a second one");
  }

  @Test
  void request_sessionToken_sentAndSigned() throws Exception {
    Map<String, String> o = keys("us-east-1");
    o.put("session-token", "FwoGZXIvYXdzEXAMPLETOKEN");
    HttpRequest r = ADAPTER.request(bedrock("http://127.0.0.1:9999", MODEL, null, o), call(false));
    assertEquals("FwoGZXIvYXdzEXAMPLETOKEN", r.getHeader("X-Amz-Security-Token").orElseThrow().value());
    assertTrue(r.getHeader("Authorization").orElseThrow().value().contains("x-amz-security-token"));
    assertEquals(signatureOf(r, "http://127.0.0.1:9999", "us-east-1",
        AwsSessionCredentialsIdentity.create(KEY_ID, SECRET, "FwoGZXIvYXdzEXAMPLETOKEN")),
        r.getHeader("Authorization").orElseThrow().value());
  }

  /**
   * Verifies the signature as a server does: from what the transport puts on the wire (the raw
   * path, the Host header NettyUpstream sends, the body bytes, the X-Amz-Date), recomputed with
   * the same secret. A wrong secret does not verify.
   */
  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource({"http://127.0.0.1:9999", "https://bedrock-runtime.us-east-1.amazonaws.com",
      "https://bedrock-runtime.us-east-1.amazonaws.com:443", "http://localhost:80"})
  void request_signature_verifiesFromTheBytesAndHostThatAreSent(String baseUrl) throws Exception {
    HttpRequest r = ADAPTER.request(bedrock(baseUrl, MODEL, null, keys("us-east-1")), call(false));
    String sent = r.getHeader("Authorization").orElseThrow().value();
    assertEquals(signatureOf(r, baseUrl, "us-east-1", AwsCredentialsIdentity.create(KEY_ID, SECRET)), sent);
    assertNotEquals(signatureOf(r, baseUrl, "us-east-1", AwsCredentialsIdentity.create(KEY_ID, SECRET + "x")), sent);
  }

  @Test
  void request_apiKey_bearerAndUnsigned() throws Exception {
    HttpRequest r = ADAPTER.request(bedrock("https://bedrock-runtime.us-east-1.amazonaws.com", MODEL, "ABSKbedrockkey",
        Map.of("region", "us-east-1")), call(false));
    assertEquals("Bearer ABSKbedrockkey", r.getHeader("Authorization").orElseThrow().value());
    assertFalse(r.getHeader("X-Amz-Date").isPresent());
  }

  @Test
  void signingRegion_awsRegionWinsOverRegion_elseTheHostName() {
    assertEquals("eu-central-1", BedrockAdapter.signingRegion(bedrock("http://127.0.0.1:1", MODEL, null,
        Map.of("aws-region", "eu-central-1", "region", "r1"))));
    assertEquals("ap-south-1", BedrockAdapter.signingRegion(bedrock("https://bedrock-runtime.ap-south-1.amazonaws.com",
        MODEL, null, Map.of())));
    assertThrows(IllegalStateException.class, () -> BedrockAdapter.signingRegion(bedrock("http://127.0.0.1:1", MODEL,
        null, Map.of())));
  }

  @Test
  void defaultBaseUrl_region_bedrockRuntimeHost() {
    assertEquals("https://bedrock-runtime.us-east-1.amazonaws.com", BedrockAdapter.defaultBaseUrl(Map.of("region",
        "us-east-1")));
    assertEquals("https://bedrock-runtime.eu-west-3.amazonaws.com", BedrockAdapter.defaultBaseUrl(Map.of("region",
        "r1", "aws-region", "eu-west-3")));
    assertThrows(IllegalArgumentException.class, () -> BedrockAdapter.defaultBaseUrl(Map.of()));
  }

  @Test
  void request_embeddings_refused() {
    assertThrows(InvalidChat.class, () -> ADAPTER.request(bedrock("http://127.0.0.1:1", MODEL, null, keys("us-east-1")),
        new Call(body(false, Operation.EMBEDDINGS), name -> null)));
  }

  @Test
  void tap_never_illegalState() {
    assertThrows(IllegalStateException.class, () -> ADAPTER.tap(true));
  }

  private static long headerCount(HttpRequest r, String name) {
    long n = 0;
    for (HttpHeader h : r.getHeaders()) {
      if (h.name().equalsIgnoreCase(name)) {
        n++;
      }
    }
    return n;
  }

  /** The Authorization a server computes for {@code r} as NettyUpstream would send it. */
  static String signatureOf(HttpRequest r, String baseUrl, String region, AwsCredentialsIdentity credentials) {
    URI base = URI.create(baseUrl);
    String rawPath = NettyUpstream.target(r);
    byte[] body = ((HttpEntity.Strict) r.entity()).getData().toArray();
    SdkHttpFullRequest.Builder wire = SdkHttpFullRequest.builder().method(SdkHttpMethod.POST)
        .uri(URI.create(base.getScheme() + "://" + base.getHost() + (base.getPort() > 0 ? ":" + base.getPort() : "")
            + rawPath))
        .putHeader("Host", NettyUpstream.hostHeader(base));
    for (HttpHeader h : r.getHeaders()) {
      if (!h.name().equalsIgnoreCase("Authorization")) {
        wire.putHeader(h.name(), h.value());
      }
    }
    Instant at = ZonedDateTime.parse(r.getHeader("X-Amz-Date").orElseThrow().value(),
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX")).toInstant();
    return AwsV4HttpSigner.create().sign(s -> s.identity(credentials).request(wire.build())
            .payload(ContentStreamProvider.fromByteArray(body))
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "bedrock")
            .putProperty(AwsV4HttpSigner.REGION_NAME, region)
            .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
        .request().firstMatchingHeader("Authorization").orElseThrow();
  }

  private static Call call(boolean stream) {
    return new Call(body(stream, Operation.CHAT), name -> null);
  }

  private static ClientBody body(boolean stream, Operation op) {
    return new ClientBody() {
      @Override public Protocol protocol() { return Protocol.OPENAI; }
      @Override public Operation operation() { return op; }
      @Override public String model() { return "claude"; }
      @Override public boolean stream() { return stream; }
      @Override public boolean includeUsage() { return false; }
      @Override public long maxTokens() { return 7; }
      @Override public long promptTokens() { return 1; }
      @Override public byte[] passthrough(String upstreamModel) { throw new AssertionError("never passes through"); }
      @Override public ChatRequest chat() {
        return new ChatRequest("claude", List.of(new Part.Text("be brief")),
            List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))), List.of(), null, 7, null, null,
            List.of(), stream, false);
      }
    };
  }
}
