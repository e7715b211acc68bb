package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tenant quotas end to end: exact limits under concurrency, budgets, concurrency, streams, durability. */
class QuotaIT {
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("quota");
    node = SluiceNode.start("quota", Fixtures.models(mock));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  /** Per-minute tests must not straddle a minute boundary: wait (by probing the clock) for room. */
  private static void awaitRoomInMinute(int seconds) {
    await("room in the current minute").atMost(Duration.ofSeconds(70)).pollInterval(Duration.ofMillis(200))
        .until(() -> Instant.now().atOffset(ZoneOffset.UTC).getSecond() < 60 - seconds);
  }

  private static List<HttpResponse<String>> concurrentChats(String key, String body, int n) {
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      HttpRequest r = HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
          .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
      all.add(Api.CLIENT.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
    }
    return all.stream().map(CompletableFuture::join).toList();
  }

  private static JsonNode usage(String tenant) {
    HttpResponse<String> r = Api.admin(node, "GET", "/admin/v1/tenants/" + tenant + "/usage", null);
    assertEquals(200, r.statusCode(), r.body());
    return Api.json(r.body());
  }

  @Test
  void rpm_60ConcurrentRequestsAgainstLimit20_exactly20SucceedAnd40Get429WithRetryAfter() {
    awaitRoomInMinute(20);
    String tenant = Fixtures.tenant("rpm");
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"requests_per_minute\":20}");
    List<HttpResponse<String>> replies = concurrentChats(key, Api.chatBody("gpt-4o-mini", null), 60);
    long ok = replies.stream().filter(r -> r.statusCode() == 200).count();
    List<HttpResponse<String>> limited = replies.stream().filter(r -> r.statusCode() == 429).toList();
    assertEquals(20, ok);
    assertEquals(40, limited.size());
    for (HttpResponse<String> r : limited) {
      JsonNode error = ErrorsIT.assertEnvelope(r, 429);
      assertEquals("rate_limit_exceeded", error.get("code").asText());
      long retry = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
    }
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertEquals(20, usage(tenant).at("/windows/minute/requests/used").asLong()));
  }

  @Test
  void headers_sequentialRequests_remainingGoesDownOneByOne() {
    awaitRoomInMinute(10);
    String key = Api.tenantWithKey(node, Fixtures.tenant("headers"),
        "\"limits\":{\"requests_per_minute\":50,\"tokens_per_minute\":100000}");
    long previous = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = Api.chat(node, key, Api.chatBody("gpt-4o-mini", null));
      assertEquals(200, r.statusCode());
      assertEquals("50", r.headers().firstValue("x-ratelimit-limit-requests").orElseThrow());
      long remaining = Long.parseLong(r.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow());
      assertEquals(50 - (i + 1), remaining);
      assertTrue(remaining < previous);
      previous = remaining;
      // OpenAI's duration form, as RateLimitHeaders.duration writes it: "850ms", "12s", or "1m0s"
      // when the minute window resets in more than 59 s.
      String reset = r.headers().firstValue("x-ratelimit-reset-requests").orElseThrow();
      assertTrue(reset.matches("\\d+ms|\\d+s|\\d+m\\d+s"), reset);
      assertEquals("100000", r.headers().firstValue("x-ratelimit-limit-tokens").orElseThrow());
      assertTrue(Long.parseLong(r.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow()) < 100000);
    }
  }

  @Test
  void tpm_sequentialRequests_stopAtLimitCountingTheTokensTheUpstreamReturned() {
    awaitRoomInMinute(20);
    String tenant = Fixtures.tenant("tpm");
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"tokens_per_minute\":1000}");
    String body = Api.chatBody("gpt-4o-mini", "\"max_tokens\":16,\"mock\":{\"tokens\":16}");
    long charged = 0;
    int ok = 0;
    HttpResponse<String> last = null;
    for (int i = 0; i < 200; i++) {
      last = Api.chat(node, key, body);
      if (last.statusCode() != 200) break;
      ok++;
      charged += Api.json(last.body()).at("/usage/total_tokens").asLong();
    }
    assertEquals(429, last.statusCode(), last.body());
    assertEquals("tokens", Api.json(last.body()).at("/error/type").asText());
    assertTrue(charged <= 1000, "charged " + charged);
    long perRequest = charged / ok;
    assertTrue(charged >= 1000 - 2 * perRequest - 16, "stopped early: " + charged + " after " + ok);
    long total = charged;
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertEquals(total, usage(tenant).at("/windows/minute/tokens/used").asLong()));
  }

  @Test
  void spend_dailyBudget_stopsWithInsufficientQuotaAtTheBudget() {
    String tenant = Fixtures.tenant("spend");
    // "priced" costs $0.001 per token; the budget is $0.5, i.e. 500 tokens.
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"spend_usd_per_day\":0.5}");
    String body = Api.chatBody("priced", "\"max_tokens\":20,\"mock\":{\"tokens\":20}");
    long tokens = 0;
    HttpResponse<String> last = null;
    for (int i = 0; i < 100; i++) {
      last = Api.chat(node, key, body);
      if (last.statusCode() != 200) break;
      tokens += Api.json(last.body()).at("/usage/total_tokens").asLong();
    }
    JsonNode error = ErrorsIT.assertEnvelope(last, 429);
    assertEquals("insufficient_quota", error.get("code").asText());
    assertTrue(tokens <= 500, "spent on " + tokens + " tokens");
    assertTrue(tokens >= 500 - 2 * 45, "stopped early at " + tokens);
    long spentTokens = tokens;
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(spentTokens * 0.001,
        usage(tenant).at("/windows/day/cost_usd/used").asDouble(), 1e-9));
  }

  @Test
  void concurrency_20ParallelSlowRequestsWithLimit5_neverMoreThan5AtTheUpstream() {
    mock.reset();
    String key = Api.tenantWithKey(node, Fixtures.tenant("conc"), "\"limits\":{\"max_concurrent_requests\":5}");
    List<HttpResponse<String>> replies =
        concurrentChats(key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"latency_ms\":400}"), 20);
    long ok = replies.stream().filter(r -> r.statusCode() == 200).count();
    assertTrue(mock.stats().get("max_in_flight").asLong() <= 5, mock.stats().toString());
    assertTrue(ok >= 5, "ok " + ok);
    replies.stream().filter(r -> r.statusCode() != 200).forEach(r -> ErrorsIT.assertEnvelope(r, 429));
    // Slots come back when requests end: the next wave is admitted again.
    assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
  }

  @Test
  void stream_clientCutsStream_generatedTokensAreCharged() throws Exception {
    String tenant = Fixtures.tenant("cut");
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"tokens_per_day\":1000000}");
    String body = Api.chatBody("gpt-4o-mini", "\"stream\":true,\"mock\":{\"tokens\":400,\"inter_token_ms\":10}");
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    HttpResponse<InputStream> r = Api.CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
    int read = 0;
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      while (read < 20 && (line = reader.readLine()) != null) {
        if (line.startsWith("data: ")) read++;
      }
    }
    int seen = read;
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode day = usage(tenant).at("/windows/day");
      assertEquals(1, day.at("/requests/used").asLong());
      long completion = day.at("/completion_tokens/used").asLong();
      assertTrue(completion >= seen && completion < 400, "charged completion " + completion);
      assertTrue(day.at("/prompt_tokens/used").asLong() > 0);
    });
  }

  @Test
  void stream_withoutIncludeUsage_usageChunkStrippedButCharged() throws Exception {
    String tenant = Fixtures.tenant("strip");
    String key = Api.tenantWithKey(node, tenant, null);
    List<String> plain = streamData(key, Api.chatBody("gpt-4o-mini", "\"stream\":true,\"mock\":{\"tokens\":5}"));
    assertFalse(plain.stream().anyMatch(d -> d.contains("\"usage\":{")), plain.toString());
    assertEquals("[DONE]", plain.get(plain.size() - 1));
    List<String> asked = streamData(key, Api.chatBody("gpt-4o-mini",
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"mock\":{\"tokens\":5}"));
    assertTrue(asked.stream().anyMatch(d -> d.contains("\"usage\":{")), asked.toString());
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertEquals(10, usage(tenant).at("/windows/day/completion_tokens/used").asLong()));
  }

  private static List<String> streamData(String key, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    HttpResponse<Stream<String>> r = Api.CLIENT.send(request, HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, r.statusCode());
    return r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
  }

  @Test
  void tenants_oneExhausted_otherUnaffected() {
    awaitRoomInMinute(15);
    String a = Api.tenantWithKey(node, Fixtures.tenant("iso-a"), "\"limits\":{\"requests_per_minute\":5}");
    String b = Api.tenantWithKey(node, Fixtures.tenant("iso-b"), "\"limits\":{\"requests_per_minute\":5}");
    List<HttpResponse<String>> burstA = concurrentChats(a, Api.chatBody("gpt-4o-mini", null), 15);
    assertEquals(5, burstA.stream().filter(r -> r.statusCode() == 200).count());
    List<HttpResponse<String>> burstB = concurrentChats(b, Api.chatBody("gpt-4o-mini", null), 5);
    assertEquals(5, burstB.stream().filter(r -> r.statusCode() == 200).count());
  }

  @Test
  void patchLimits_lowered_takesEffectWithin1s() {
    awaitRoomInMinute(15);
    String tenant = Fixtures.tenant("patch-rpm");
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"requests_per_minute\":1000}");
    for (int i = 0; i < 3; i++) {
      assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
    }
    assertEquals(200, Api.admin(node, "PATCH", "/admin/v1/tenants/" + tenant,
        "{\"limits\":{\"requests_per_minute\":3}}").statusCode());
    await().atMost(Duration.ofSeconds(1)).untilAsserted(() ->
        assertEquals(429, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode()));
  }

  @Test
  void usage_afterRestart_isWhatItWas() {
    String tenant = Fixtures.tenant("durable-usage");
    String key = Api.tenantWithKey(node, tenant, "\"limits\":{\"tokens_per_day\":1000000,\"spend_usd_per_month\":100}");
    for (int i = 0; i < 4; i++) {
      assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"tokens\":10}")).statusCode());
    }
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertEquals(40, usage(tenant).at("/windows/day/completion_tokens/used").asLong()));
    JsonNode before = usage(tenant).at("/windows/day");
    node.restart();
    JsonNode after = usage(tenant).at("/windows/day");
    assertEquals(before.at("/requests/used").asLong(), after.at("/requests/used").asLong());
    assertEquals(before.at("/tokens/used").asLong(), after.at("/tokens/used").asLong());
    assertEquals(before.at("/cost_usd/used").asText(), after.at("/cost_usd/used").asText());
    assertEquals(1000000, after.at("/tokens/limit").asLong());
    assertTrue(after.at("/reset_at").asText().endsWith("T00:00:00Z"), after.toString());
  }
}
