package io.sluice.node.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sluice.node.routing.Deployment;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Vertex deployment's {@code credentials-file} read by Google's auth library, which signs a JWT
 * with the service account's key and exchanges it at the file's {@code token_uri} — here a server
 * on 127.0.0.1, so nothing leaves the machine.
 */
class GeminiServiceAccountTest {
  private HttpServer tokenServer;
  private final List<String> grants = new CopyOnWriteArrayList<>();

  @TempDir
  Path dir;

  @BeforeEach
  void startTokenServer() throws IOException {
    tokenServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    tokenServer.createContext("/token", exchange -> {
      grants.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      byte[] body = ("{\"access_token\":\"ya29.from-token-server-" + grants.size()
          + "\",\"expires_in\":3599,\"token_type\":\"Bearer\"}").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    tokenServer.start();
  }

  @AfterEach
  void stopTokenServer() {
    tokenServer.stop(0);
  }

  @Test
  void create_serviceAccountFile_requestCarriesTheExchangedToken() throws Exception {
    Path file = serviceAccount();
    Deployment d = GeminiAdapterTest.deployment("https://aiplatform.googleapis.com",
        Map.of("vertex-project", "my-proj", "vertex-location", "global", "credentials-file", file.toString()));
    GeminiAdapter adapter = GeminiAdapter.create(List.of(d));

    Optional<String> auth = adapter.request(d, GeminiAdapterTest.call(false)).getHeader("authorization")
        .map(HttpHeader::value);
    assertTrue(auth.orElseThrow().startsWith("Bearer ya29.from-token-server-"), auth.toString());
    assertTrue(grants.get(0).contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"),
        grants.get(0));
    assertTrue(adapter.request(d, GeminiAdapterTest.call(true)).getHeader("x-goog-api-key").isEmpty());
    assertTrue(grants.size() <= 2, "one fetch each at most from the request path and the refresher: " + grants.size());
  }

  @Test
  void create_unreadableCredentialsFile_failsAtStartNamingTheDeployment() {
    Deployment d = GeminiAdapterTest.deployment("https://aiplatform.googleapis.com",
        Map.of("vertex-project", "p", "credentials-file", dir.resolve("missing.json").toString()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GeminiAdapter.create(List.of(d)));
    assertTrue(e.getMessage().startsWith("deployment g1: cannot read its credentials-file"), e.getMessage());
  }

  private Path serviceAccount() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    String pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(
            g.generateKeyPair().getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    String json = "{\"type\":\"service_account\",\"project_id\":\"my-proj\",\"private_key_id\":\"k1\","
        + "\"private_key\":" + GeminiCodec.JSON.writeValueAsString(pem) + ","
        + "\"client_email\":\"sluice@my-proj.iam.gserviceaccount.com\",\"client_id\":\"1\","
        + "\"token_uri\":\"http://127.0.0.1:" + tokenServer.getAddress().getPort() + "/token\"}";
    Path file = dir.resolve("sa.json");
    Files.writeString(file, json);
    return file;
  }
}
