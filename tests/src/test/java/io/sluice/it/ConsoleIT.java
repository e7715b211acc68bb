package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The console at /ui/ in a real browser: Debian's headless Chromium driven by Selenium, against a
 * node JVM with traffic through the mock upstream. It signs in (first with a wrong key), lists
 * and searches tenants, creates one from the form, issues a key (which then works) and revokes it
 * (which then stops working), opens a tenant's usage and its chart, the deployments and the
 * cluster pages, signs out, and finds no JavaScript error in the browser's log. A screenshot of
 * each page goes to tests/target/console-screenshots; with -Dsluice.docs.screenshot=true the
 * tenant page is also copied to docs/console.png for the README.
 */
class ConsoleIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static MockUpstream mock;
  private static SluiceNode node;
  private static WebDriver driver;
  private static Path shots;
  private static Path profile;

  @BeforeAll
  static void start() throws IOException {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "ConsoleIT skipped: no headless Chromium here (apt-get install chromium chromium-driver, as .ci/run does)");
    mock = MockUpstream.start("console");
    node = SluiceNode.start("console", Fixtures.models(mock));
    shots = Repo.root().resolve("tests/target/console-screenshots");
    Files.createDirectories(shots);
    profile = Repo.scratch("chromium-profile");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--window-size=1366,1100", "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
        .usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(WAIT);
  }

  @AfterAll
  static void stop() {
    if (driver != null) driver.quit();
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void console_headers_forbidFramingInlineScriptAndReferrers() {
    HttpResponse<String> index = Api.send("GET", node.url("/ui/"), Map.of(), null);
    assertEquals(200, index.statusCode());
    assertTrue(index.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    String csp = index.headers().firstValue("Content-Security-Policy").orElse("");
    assertTrue(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), csp);
    assertEquals("DENY", index.headers().firstValue("X-Frame-Options").orElse(null));
    assertEquals("no-referrer", index.headers().firstValue("Referrer-Policy").orElse(null));
    assertEquals("no-cache", index.headers().firstValue("Cache-Control").orElse(null));
    assertFalse(index.body().contains("<script>"), "no inline script");
    HttpResponse<String> app = Api.send("GET", node.url("/ui/app.js"), Map.of(), null);
    assertTrue(app.headers().firstValue("Content-Type").orElse("").startsWith("text/javascript"));
    assertTrue(app.headers().firstValue("Cache-Control").orElse("").contains("max-age="));
    String etag = app.headers().firstValue("ETag").orElseThrow();
    assertEquals(304, Api.send("GET", node.url("/ui/app.js"), Map.of("If-None-Match", etag), null).statusCode());
    assertEquals(404, Api.send("GET", node.url("/ui/nope.js"), Map.of(), null).statusCode());
    assertEquals(404, Api.send("GET", node.url("/ui/..%2Fapplication.conf"), Map.of(), null).statusCode());
    assertTrue(Api.send("OPTIONS", node.url("/admin/v1/tenants"), Map.of("Origin", "http://evil.example"), null)
        .headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "no CORS opening");
  }

  @Test
  void listTenants_searchAndPages_everyMatchingTenantOnce() {
    String prefix = Fixtures.tenant("paged");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(prefix + "-" + i);
      assertEquals(201, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"" + ids.get(i) + "\"}").statusCode());
    }
    List<String> seen = new ArrayList<>();
    String after = "";
    for (int pages = 0; pages < 10; pages++) {
      JsonNode page = Api.json(Api.admin(node, "GET",
          "/admin/v1/tenants?limit=2&search=" + prefix + "&after=" + after, null).body());
      assertEquals(5, page.get("total").asInt());
      for (JsonNode t : page.get("data")) {
        seen.add(t.get("id").asText());
        assertTrue(t.at("/usage/windows/minute/requests").has("used"), t.toString());
      }
      if (!page.get("has_more").asBoolean()) {
        assertTrue(page.get("next_after").isNull());
        break;
      }
      after = page.get("next_after").asText();
    }
    assertEquals(ids, seen);
    ErrorsIT.assertEnvelope(Api.admin(node, "GET", "/admin/v1/tenants?limit=0", null), 400);
    ErrorsIT.assertEnvelope(Api.admin(node, "GET", "/admin/v1/tenants?limit=many", null), 400);
    ErrorsIT.assertEnvelope(Api.send("GET", node.url("/admin/v1/tenants"), Map.of(), null), 401);
    ErrorsIT.assertEnvelope(Api.admin(node, "GET", "/admin/v1/tenants/nobody-" + prefix + "/usage/history", null), 404);
  }

  @Test
  void console_operatorJourney_worksWithoutJavaScriptErrors() throws IOException {
    String seeded = Fixtures.tenant("busy");
    String key = Api.tenantWithKey(node, seeded, "\"limits\":{\"requests_per_minute\":1000,\"spend_usd_per_day\":5}");
    for (int i = 0; i < 5; i++) {
      assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
    }
    // The settlement reaches the entity within the settle interval; the chart shows it after that.
    await("usage history").atMost(WAIT).untilAsserted(() -> {
      JsonNode h = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + seeded + "/usage/history", null).body());
      long requests = 0;
      for (JsonNode m : h.get("data")) requests += m.get("requests").asLong();
      assertEquals(5, requests);
    });

    // Sign in: a wrong key is refused in plain words, the right one opens the tenants.
    driver.get(node.url("/ui/"));
    WebElement field = waitFor(By.id("admin-key"));
    assertEquals("password", field.getAttribute("type"));
    field.sendKeys("not-the-admin-key", Keys.ENTER);
    await("wrong key refused").atMost(WAIT).until(() -> text(By.id("error")).contains("admin key was not accepted"));
    shot("sign-in");
    waitFor(By.id("admin-key")).sendKeys(SluiceNode.ADMIN_KEY, Keys.ENTER);
    waitFor(By.cssSelector("tr[data-tenant='" + seeded + "']"));
    assertFalse(driver.getPageSource().contains(SluiceNode.ADMIN_KEY), "the key is never shown");
    assertEquals(SluiceNode.ADMIN_KEY, js("return sessionStorage.getItem('sluice.adminKey')"));
    assertNull(js("return localStorage.getItem('sluice.adminKey')"));
    shot("tenants");

    // Search narrows the list on the server.
    String other = Fixtures.tenant("quiet");
    Api.tenantWithKey(node, other, null);
    driver.findElement(By.id("search")).sendKeys(seeded);
    await("search").atMost(WAIT).until(() -> driver.findElements(By.cssSelector("tr[data-tenant]")).size() == 1
        && !driver.findElements(By.cssSelector("tr[data-tenant='" + seeded + "']")).isEmpty());

    // Create a tenant from the form.
    String created = Fixtures.tenant("made-in-ui");
    driver.findElement(By.id("new-tenant")).click();
    WebElement form = waitFor(By.id("new-tenant-form"));
    form.findElement(By.name("id")).sendKeys(created);
    form.findElement(By.name("requests_per_minute")).sendKeys("120");
    form.findElement(By.name("spend_usd_per_month")).sendKeys("40");
    form.findElement(By.name("models")).sendKeys("gpt-4o-mini");
    shot("new-tenant");
    driver.findElement(By.id("create")).click();
    await("tenant page").atMost(WAIT).until(() -> text(By.id("tenant-id")).equals(created));
    JsonNode t = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + created, null).body());
    assertEquals(120, t.at("/limits/requests_per_minute").asInt());
    assertEquals(40, t.at("/limits/spend_usd_per_month").asInt());
    assertEquals("gpt-4o-mini", t.at("/models/0").asText());

    // Issue a key: shown once, and it works; revoke it: it stops working.
    driver.findElement(By.id("issue-key")).click();
    String issued = waitFor(By.id("new-key")).getText();
    assertTrue(issued.startsWith("sk-"), issued);
    assertEquals(200, Api.chat(node, issued, Api.chatBody("gpt-4o-mini", null)).statusCode());
    driver.findElement(By.id("copy-key")).click();
    shot("tenant-new-key");
    WebElement revoke = waitFor(By.cssSelector("button[data-revoke]"));
    String keyId = revoke.getAttribute("data-revoke");
    revoke.click();
    await("revoked").atMost(WAIT).until(() -> text(By.cssSelector("tr[data-key='" + keyId + "']")).contains("revoked"));
    await("key refused").atMost(Duration.ofSeconds(2)).untilAsserted(() ->
        assertEquals(401, Api.chat(node, issued, Api.chatBody("gpt-4o-mini", null)).statusCode()));

    // Edit a limit.
    WebElement limits = driver.findElement(By.id("limits-form"));
    WebElement rpm = limits.findElement(By.name("requests_per_minute"));
    rpm.clear();
    rpm.sendKeys("90");
    driver.findElement(By.id("save-limits")).click();
    await("limit saved").atMost(WAIT).untilAsserted(() -> assertEquals(90, Api.json(
        Api.admin(node, "GET", "/admin/v1/tenants/" + created, null).body()).at("/limits/requests_per_minute").asInt()));

    // Disable it: a second click confirms.
    driver.findElement(By.id("disable-tenant")).click();
    assertTrue(Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + created, null).body()).get("enabled").asBoolean());
    driver.findElement(By.id("disable-tenant")).click();
    await("disabled").atMost(WAIT).untilAsserted(() -> assertFalse(Api.json(
        Api.admin(node, "GET", "/admin/v1/tenants/" + created, null).body()).get("enabled").asBoolean()));
    await("shown disabled").atMost(WAIT).until(() -> driver.findElements(By.id("issue-key")).size() == 1
        && !driver.findElement(By.id("issue-key")).isEnabled());

    // The busy tenant's usage: its windows and a chart with its requests.
    driver.get(node.url("/ui/#/tenants/" + seeded));
    await("usage page").atMost(WAIT).until(() -> text(By.id("tenant-id")).equals(seeded));
    // The day window (the minute one may have rolled over since the requests).
    assertEquals("5", text(By.cssSelector("#usage tr[data-window='day'] td")), text(By.id("usage")));
    assertTrue(text(By.cssSelector("#usage tr[data-window='minute'] td")).endsWith(" / 1,000"));
    long drawn = (Long) js("return [...document.querySelectorAll('#usage-chart svg:first-of-type rect.bar')]"
        + ".filter(r => Number(r.getAttribute('height')) > 0).length");
    assertTrue(drawn >= 1, "the chart shows the minute(s) with requests");
    shot("tenant-usage");
    if (Boolean.getBoolean("sluice.docs.screenshot")) {
      Path docs = Repo.root().resolve("docs");
      Files.createDirectories(docs);
      Files.copy(shots.resolve("tenant-usage.png"), docs.resolve("console.png"), StandardCopyOption.REPLACE_EXISTING);
    }

    driver.findElement(By.cssSelector("nav a[data-view='deployments']")).click();
    waitFor(By.cssSelector("tr[data-deployment='mock-1']"));
    shot("deployments");
    driver.findElement(By.cssSelector("nav a[data-view='cluster']")).click();
    await("cluster page").atMost(WAIT).until(() -> text(By.id("members")).contains("(this node)"));
    assertTrue(text(By.id("members")).contains("ready"));
    shot("cluster");

    driver.findElement(By.id("sign-out")).click();
    waitFor(By.id("admin-key"));
    assertNull(js("return sessionStorage.getItem('sluice.adminKey')"));

    List<String> errors = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      boolean expected401 = e.getMessage().contains("/admin/v1/cluster") && e.getMessage().contains("401");
      if (e.getLevel().intValue() >= Level.SEVERE.intValue() && !expected401) {
        errors.add(e.getMessage());
      }
      if (e.getMessage().contains("Content Security Policy")) {
        errors.add(e.getMessage());
      }
    }
    assertEquals(List.of(), errors, "JavaScript errors in the browser's log");
  }

  private static WebElement waitFor(By by) {
    await(by.toString()).atMost(WAIT).ignoreExceptions().until(() -> driver.findElement(by).isDisplayed());
    return driver.findElement(by);
  }

  private static String text(By by) {
    List<WebElement> found = driver.findElements(by);
    return found.isEmpty() ? "" : found.get(0).getText();
  }

  private static Object js(String script) {
    return ((JavascriptExecutor) driver).executeScript(script);
  }

  private static void shot(String name) {
    try {
      Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
      Files.copy(png, shots.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
