package io.sluice.node.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConsoleRoutesTest {
  private static ActorTestKit testKit;
  private static Function<HttpRequest, CompletionStage<HttpResponse>> handler;

  @BeforeAll
  static void setUp() {
    testKit = ActorTestKit.create("ConsoleRoutesTest", ConfigFactory.parseString("pekko.actor.provider = local"));
    handler = new ConsoleRoutes(new ConsoleSettings(true, Duration.ofSeconds(300))).route().seal().handler(testKit.system());
  }

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  private static HttpResponse get(String path, HttpHeader... headers) throws Exception {
    return handler.apply(HttpRequest.GET(path).addHeaders(List.of(headers))).toCompletableFuture().get();
  }

  private static String header(HttpResponse r, String name) {
    return r.getHeader(name).map(HttpHeader::value).orElse(null);
  }

  private static String body(HttpResponse r) throws Exception {
    return r.entity().toStrict(5000, Materializer.matFromSystem(testKit.system())).toCompletableFuture().get()
        .getData().decodeString(StandardCharsets.UTF_8);
  }

  @Test
  void index_slash_servesHtmlWithSecurityHeadersAndRevalidation() throws Exception {
    HttpResponse r = get("/ui/");
    assertEquals(200, r.status().intValue());
    assertEquals("text/html", r.entity().getContentType().mediaType().toString());
    assertEquals(ConsoleRoutes.CSP, header(r, "Content-Security-Policy"));
    assertEquals("DENY", header(r, "X-Frame-Options"));
    assertEquals("no-referrer", header(r, "Referrer-Policy"));
    assertEquals("nosniff", header(r, "X-Content-Type-Options"));
    assertEquals("no-cache", header(r, "Cache-Control"));
    assertTrue(body(r).contains("<script type=\"module\" src=\"app.js\">"));
  }

  @Test
  void index_withoutSlash_redirectsToSlash() throws Exception {
    HttpResponse r = get("/ui");
    assertEquals(308, r.status().intValue());
    assertEquals("/ui/", header(r, "Location"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"app.js", "api.js", "chart.js", "style.css", "favicon.svg"})
  void asset_known_servedWithTypeAndMaxAge(String name) throws Exception {
    HttpResponse r = get("/ui/" + name);
    assertEquals(200, r.status().intValue());
    String type = r.entity().getContentType().mediaType().toString();
    assertEquals(name.endsWith(".js") ? "text/javascript" : name.endsWith(".css") ? "text/css" : "image/svg+xml", type);
    assertEquals("public, max-age=300", header(r, "Cache-Control"));
    assertEquals(ConsoleRoutes.CSP, header(r, "Content-Security-Policy"));
  }

  @Test
  void asset_matchingEtag_answers304() throws Exception {
    String etag = header(get("/ui/app.js"), "ETag");
    assertEquals(304, get("/ui/app.js", RawHeader.create("If-None-Match", etag)).status().intValue());
    assertEquals(200, get("/ui/app.js", RawHeader.create("If-None-Match", "\"other\"")).status().intValue());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/ui/missing.js", "/ui/..%2Fapplication.conf", "/ui/console/app.js", "/ui/App.js",
      "/ui/app.js.map", "/ui/../application.conf"})
  void asset_unknownOrOutside_notFound(String path) throws Exception {
    assertEquals(404, get(path).status().intValue());
  }

  /** Every module the page imports is served: a missing one would break the console. */
  @Test
  void modules_importedByTheConsole_allServed() throws Exception {
    Pattern imports = Pattern.compile("from \"\\./([a-z0-9-]+\\.js)\"");
    for (String module : new String[] {"app.js", "api.js", "chart.js"}) {
      Matcher m = imports.matcher(body(get("/ui/" + module)));
      while (m.find()) {
        assertEquals(200, get("/ui/" + m.group(1)).status().intValue(), m.group(1));
      }
    }
    String html = body(get("/ui/"));
    assertFalse(html.contains("http://") || html.contains("https://"), "nothing loaded from another host");
  }

  @Test
  void route_disabled_servesNothing() throws Exception {
    Function<HttpRequest, CompletionStage<HttpResponse>> off =
        new ConsoleRoutes(new ConsoleSettings(false, Duration.ofSeconds(300))).route().seal().handler(testKit.system());
    assertEquals(404, off.apply(HttpRequest.GET("/ui/")).toCompletableFuture().get().status().intValue());
  }
}
