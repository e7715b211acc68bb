package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.netty.handler.ssl.SslContextBuilder;
import io.sluice.node.routing.Deployment;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NettyUpstream} over TLS, as to every hosted provider: against the JDK's HTTPS server with
 * a certificate made by keytool for this run (for {@code localhost} only).
 */
class NettyUpstreamTlsTest {
  private static final char[] PASSWORD = "test-pass".toCharArray();
  private static final UpstreamClientSettings SETTINGS = new UpstreamClientSettings(1, 1 << 20, Duration.ofSeconds(60), Duration.ofSeconds(5));
  private static HttpsServer server;
  private static X509Certificate certificate;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    Path store = dir.resolve("server.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", new String(PASSWORD),
        "-alias", "upstream", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost")
        .redirectErrorStream(true).start();
    String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, keytool.waitFor(), "keytool: " + out);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, PASSWORD);
    }
    certificate = (X509Certificate) ks.getCertificate("upstream");
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/echo", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(body);
      }
    });
    server.start();
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  private static NettyUpstream trusting(X509Certificate trusted) throws Exception {
    return new NettyUpstream(SETTINGS, SslContextBuilder.forClient().trustManager(trusted).build());
  }

  private static Deployment deployment(String host) {
    return new Deployment("tls", "openai", "https://" + host + ":" + server.getAddress().getPort() + "/v1", "m", null,
        1, 0, Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), 4, 16);
  }

  private static HttpRequest post(Deployment d) {
    return HttpRequest.create(d.baseUrl() + "/echo").withMethod(HttpMethods.POST)
        .withEntity(ContentTypes.APPLICATION_JSON, "{\"tls\":true}".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void send_trustedCertificateForTheHost_wholeResponse() throws Exception {
    NettyUpstream client = trusting(certificate);
    try {
      Deployment d = deployment("localhost");
      HttpResponse r = client.send(d, post(d), Duration.ofSeconds(5), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
      assertEquals(200, r.status().intValue());
      assertEquals("{\"tls\":true}", ((HttpEntity.Strict) r.entity()).getData().utf8String());
    } finally {
      client.close();
    }
  }

  @Test
  void send_certificateNotInTheTrustStore_connectFailure() throws Exception {
    NettyUpstream client = new NettyUpstream(SETTINGS);
    try {
      Deployment d = deployment("localhost");
      assertConnectFailure(client, d);
    } finally {
      client.close();
    }
  }

  @Test
  void send_certificateForAnotherHost_connectFailure() throws Exception {
    NettyUpstream client = trusting(certificate);
    try {
      // The certificate names localhost only; 127.0.0.1 is the same server under a name it does not carry.
      Deployment d = deployment("127.0.0.1");
      assertConnectFailure(client, d);
    } finally {
      client.close();
    }
  }

  private static void assertConnectFailure(NettyUpstream client, Deployment d) throws Exception {
    try {
      client.send(d, post(d), Duration.ofSeconds(5), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      UpstreamFailure f = assertInstanceOf(UpstreamFailure.class, e.getCause());
      assertEquals(UpstreamFailure.Kind.CONNECT, f.kind(), f.getMessage());
      return;
    }
    throw new AssertionError("expected the TLS handshake to fail; " + List.of(d.baseUrl()));
  }
}
