package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTPS on the client port: served with the configured PEM identity (and, on a second node, a
 * PKCS#12 keystore with client certificates required), TLS 1.2/1.3 only, no plain HTTP on that
 * port, a plain listener on loopback only, and a certificate rotated on disk reaching new
 * connections while an open keep-alive connection goes on with the old one.
 */
class HttpsIT {
  private static MockUpstream mock;
  private static TestPki.Ca ca;
  private static Path tlsDir;
  private static SluiceNode pemNode;
  private static TestPki.Issued first;
  private static SluiceNode mtlsNode;
  private static TestPki.Ca clientCa;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("https");
    ca = TestPki.Ca.create("sluice-test-ca");
    tlsDir = Repo.scratch("https-tls");
    first = ca.localServer("sluice-https-1");
    first.writePem(tlsDir, "server");
    pemNode = SluiceNode.startHttps("https-pem", Fixtures.models(mock) + """
        sluice.http.tls { enabled = on, cert = "%s", key = "%s", reload-interval = 200ms }
        """.formatted(tlsDir.resolve("server.crt"), tlsDir.resolve("server.key")), Map.of());

    Path mtlsDir = Repo.scratch("https-mtls");
    TestPki.Issued server = ca.localServer("sluice-https-p12");
    server.writePkcs12(mtlsDir.resolve("server.p12"));
    clientCa = TestPki.Ca.create("sluice-test-client-ca");
    clientCa.writePem(mtlsDir.resolve("client-ca.crt"));
    // Through the environment, as a deployment would pass the keystore password.
    mtlsNode = SluiceNode.startHttps("https-p12", Fixtures.models(mock), Map.of(
        "SLUICE_TLS_ENABLED", "true",
        "SLUICE_TLS_KEYSTORE", mtlsDir.resolve("server.p12").toString(),
        "SLUICE_TLS_KEYSTORE_PASSWORD", TestPki.PASSWORD,
        "SLUICE_TLS_CLIENT_AUTH", "need",
        "SLUICE_TLS_CLIENT_CA", mtlsDir.resolve("client-ca.crt").toString()));
  }

  @AfterAll
  static void stop() {
    if (pemNode != null) pemNode.close();
    if (mtlsNode != null) mtlsNode.close();
    if (mock != null) mock.close();
  }

  @Test
  void chatOverHttps_servedWithTls13() throws Exception {
    String key = Api.tenantWithKey(pemNode, Fixtures.tenant("https"), null);
    HttpResponse<String> r = https(ca.trustingContext(), pemNode.httpsPort, "/v1/chat/completions", key,
        Api.chatBody("gpt-4o-mini", null));
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(Api.json(r.body()).get("choices").size() > 0, r.body());
    try (SSLSocket s = connect(ca.trustingContext(), pemNode.httpsPort, null)) {
      assertEquals("TLSv1.3", s.getSession().getProtocol());
    }
  }

  @Test
  void tls12Client_getsForwardSecretAeadSuite() throws Exception {
    try (SSLSocket s = connect(ca.trustingContext(), pemNode.httpsPort, new String[] {"TLSv1.2"})) {
      assertEquals("TLSv1.2", s.getSession().getProtocol());
      String suite = s.getSession().getCipherSuite();
      assertTrue(suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("CHACHA20")), suite);
    }
  }

  @Test
  void untrustingClient_handshakeFails() {
    SSLContext other = TestPki.Ca.create("someone-else").trustingContext();
    assertThrows(SSLException.class, () -> connect(other, pemNode.httpsPort, null).close());
  }

  @Test
  void plainHttpOnTheTlsPort_isNotServed() {
    assertNotEquals(200, Api.status("GET", "http://127.0.0.1:" + pemNode.httpsPort + "/health/live"));
  }

  @Test
  void plainListener_answersOnLoopbackOnly() throws Exception {
    assertEquals(200, Api.status("GET", pemNode.url("/health/live")));
    // Bound to 127.0.0.1 itself, not the wildcard: another address of the host gets no answer.
    try (Socket s = new Socket()) {
      assertThrows(ConnectException.class,
          () -> s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), pemNode.port), 2000));
    }
  }

  @Test
  void rotatedCertificate_reachesNewConnections_keepAliveConnectionGoesOn() throws Exception {
    try (SSLSocket old = connect(ca.trustingContext(), pemNode.httpsPort, null)) {
      BigInteger before = serial(old);
      assertEquals(200, get(old, "/health/live"));

      // Half a rotation: a new certificate beside the old key. Refused, so new connections keep
      // getting a certificate whose key the node holds.
      TestPki.Issued next = ca.localServer("sluice-https-2");
      Path half = Repo.scratch("https-half");
      next.writePem(half, "server");
      TestPki.atomicWrite(tlsDir.resolve("server.crt"), java.nio.file.Files.readString(half.resolve("server.crt")));
      await("half rotation refused").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
          .until(() -> serialOfNewConnection().equals(before));

      next.writePem(tlsDir, "server");
      await("new certificate on new connections").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
          .until(() -> serialOfNewConnection().equals(next.serial()));

      // The connection opened before the rotation keeps its session and is still served.
      assertEquals(before, serial(old));
      assertEquals(200, get(old, "/health/live"));
      assertEquals(200, get(old, "/health/ready"));
    }
  }

  @Test
  void clientAuthNeed_withoutCertificate_refused() {
    SSLContext anonymous = ca.trustingContext();
    // With TLS 1.3 the server's refusal of a missing client certificate may arrive after the
    // client's handshake returned: the first request then fails instead.
    assertThrows(IOException.class, () -> {
      try (SSLSocket s = connect(anonymous, mtlsNode.httpsPort, null)) {
        get(s, "/health/live");
      }
    });
  }

  @Test
  void clientAuthNeed_withCertificateFromClientCa_served() throws Exception {
    TestPki.Issued client = clientCa.issue("client-1", List.of(), List.of());
    try (SSLSocket s = connect(client.clientContext(ca), mtlsNode.httpsPort, null)) {
      assertEquals(200, get(s, "/health/live"));
    }
    TestPki.Issued stranger = TestPki.Ca.create("stranger-ca").issue("client-2", List.of(), List.of());
    assertThrows(IOException.class, () -> {
      try (SSLSocket s = connect(stranger.clientContext(ca), mtlsNode.httpsPort, null)) {
        get(s, "/health/live");
      }
    });
  }

  private static BigInteger serialOfNewConnection() throws IOException {
    try (SSLSocket s = connect(ca.trustingContext(), pemNode.httpsPort, null)) {
      return serial(s);
    }
  }

  private static BigInteger serial(SSLSocket s) throws IOException {
    return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
  }

  private static SSLSocket connect(SSLContext ctx, int port, String[] protocols) throws IOException {
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
    try {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      if (protocols != null) {
        s.setEnabledProtocols(protocols);
      }
      javax.net.ssl.SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      s.startHandshake();
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /** One keep-alive GET on {@code s}; returns the status and consumes the whole response. */
  private static int get(SSLSocket s, String path) throws IOException {
    s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after " + head.size() + " bytes of the head");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String text = head.toString(StandardCharsets.US_ASCII);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    if (in.readNBytes(length).length != length) {
      throw new IOException("short body");
    }
    return Integer.parseInt(text.substring(9, 12));
  }

  private static HttpResponse<String> https(SSLContext ctx, int port, String path, String key, String body) {
    HttpClient client = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest req = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    try {
      return client.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
