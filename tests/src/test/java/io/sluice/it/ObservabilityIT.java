package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.proto.trace.v1.Span;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Traces, metrics and the access log end to end: a node JVM exporting OTLP/HTTP to a receiver on
 * loopback (the standard OTEL_* variables only), the mock upstream, and the node's access-log file.
 */
class ObservabilityIT {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static MockUpstream mock;
  private static OtlpReceiver collector;
  private static SluiceNode node;
  private static Path accessLog;
  private static HttpServer upstream;
  private static final List<String> upstreamTraceparents = new CopyOnWriteArrayList<>();

  /** An OpenAI-compatible upstream of one fixed answer that records the traceparent of each request. */
  private static HttpServer recordingUpstream() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] answer = ("{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"traced-up\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
        + "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,"
        + "\"total_tokens\":4}}").getBytes(StandardCharsets.UTF_8);
    server.createContext("/v1/chat/completions", exchange -> {
      exchange.getRequestBody().readAllBytes();
      upstreamTraceparents.add(String.valueOf(exchange.getRequestHeaders().getFirst("traceparent")));
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, answer.length);
      try (var out = exchange.getResponseBody()) {
        out.write(answer);
      }
    });
    server.start();
    return server;
  }

  @BeforeAll
  static void start() throws IOException {
    mock = MockUpstream.start("observability");
    upstream = recordingUpstream();
    collector = OtlpReceiver.start();
    accessLog = Repo.scratch("observability-log").resolve("access.log");
    String traced = """
        sluice.models."traced" {
          deployments = [{ name = "traced-1", provider = openai, model = "traced-up",
                           base-url = "http://127.0.0.1:%d/v1" }]
        }
        """.formatted(upstream.getAddress().getPort());
    node = SluiceNode.start("observability", Fixtures.models(mock) + traced, Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint(),
        "OTEL_SERVICE_NAME", "sluice-it",
        "OTEL_BSP_SCHEDULE_DELAY", "100",
        "SLUICE_ACCESS_LOG_FILE", accessLog.toString(), "SLUICE_ACCESS_LOG", "true"));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (collector != null) collector.close();
    if (mock != null) mock.close();
    if (upstream != null) upstream.stop(0);
  }

  private static HttpResponse<String> chat(String key, String requestId, String parentSpan, String extra) {
    return Api.send("POST", node.url("/v1/chat/completions"), Map.of("Authorization", "Bearer " + key,
        "x-sluice-request-id", requestId, "traceparent", "00-" + TRACE_ID + "-" + parentSpan + "-01"),
        Api.chatBody("gpt-4o-mini", extra));
  }

  private static OtlpReceiver.Received requestSpan(String requestId) {
    return await("the request span of " + requestId).atMost(Duration.ofSeconds(30))
        .until(() -> collector.spans.stream().filter(s -> requestId.equals(s.string("sluice.request_id"))).findFirst(),
            Optional::isPresent).orElseThrow();
  }

  private static List<OtlpReceiver.Received> children(OtlpReceiver.Received parent, int n) {
    return await("attempt spans").atMost(Duration.ofSeconds(30)).until(() -> collector.spans.stream()
        .filter(s -> s.parentSpanId().equals(parent.spanId())).toList(), l -> l.size() >= n);
  }

  private static void assertRequestSpan(OtlpReceiver.Received span, String tenant, String parentSpan, long outputTokens,
      long maxTokens) {
    assertEquals("chat gpt-4o-mini", span.name());
    assertEquals(Span.SpanKind.SPAN_KIND_SERVER, span.kind());
    assertEquals("sluice-it", span.serviceName());
    // The client's traceparent is the parent.
    assertEquals(TRACE_ID, span.traceId());
    assertEquals(parentSpan, span.parentSpanId());
    assertEquals("chat", span.string("gen_ai.operation.name"));
    assertEquals("openai", span.string("gen_ai.provider.name"));
    assertEquals("gpt-4o-mini", span.string("gen_ai.request.model"));
    assertNotNull(span.string("gen_ai.response.model"));
    assertEquals(maxTokens, span.integer("gen_ai.request.max_tokens"));
    assertTrue(span.integer("gen_ai.usage.input_tokens") > 0, span.attributes().toString());
    assertEquals(outputTokens, span.integer("gen_ai.usage.output_tokens"));
    assertEquals("127.0.0.1", span.string("server.address"));
    assertEquals(tenant, span.string("sluice.tenant"));
    assertNotNull(span.string("sluice.key_id"));
    assertEquals("mock-1", span.string("sluice.deployment"));
    assertEquals(1L, span.integer("sluice.attempts"));
    assertTrue(span.dbl("sluice.cost_usd") > 0);
    assertTrue(span.dbl("sluice.overhead_ms") >= 0);
    assertFalse(span.attributes().toString().contains("Say hello"), "the prompt is on the span");
    assertFalse(span.attributes().toString().contains(Fixtures.UPSTREAM_KEY), "the upstream key is on the span");
  }

  private static void assertAttempt(OtlpReceiver.Received parent) {
    List<OtlpReceiver.Received> attempts = children(parent, 1);
    assertEquals(1, attempts.size());
    OtlpReceiver.Received attempt = attempts.get(0);
    assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, attempt.kind());
    assertEquals("chat gpt-4o-mini", attempt.name());
    assertEquals("ok", attempt.string("sluice.attempt.outcome"));
    assertEquals("mock-1", attempt.string("sluice.deployment"));
    assertEquals("openai", attempt.string("gen_ai.provider.name"));
  }

  @Test
  void chat_json_exportsRequestSpanWithGenAiAttributesAndItsAttempt() {
    String tenant = Fixtures.tenant("otel-json");
    String key = Api.tenantWithKey(node, tenant, null);
    HttpResponse<String> r = chat(key, "it-json-1", "00f067aa0ba902b7", "\"max_tokens\":50,\"mock\":{\"tokens\":7}");
    assertEquals(200, r.statusCode(), r.body());
    OtlpReceiver.Received span = requestSpan("it-json-1");
    assertRequestSpan(span, tenant, "00f067aa0ba902b7", 7, 50);
    assertNotNull(span.attributes().get("gen_ai.response.finish_reasons"), span.attributes().toString());
    assertEquals(List.of("stop"), span.attributes().get("gen_ai.response.finish_reasons").getArrayValue()
        .getValuesList().stream().map(v -> v.getStringValue()).toList());
    assertEquals("gpt-4o-mini", span.string("gen_ai.response.model"));
    assertEquals(200L, span.integer("http.response.status_code"));
    assertAttempt(span);
  }

  @Test
  void chat_traceparent_propagatedToTheUpstreamAsTheAttemptSpan() {
    String key = Api.tenantWithKey(node, Fixtures.tenant("otel-propagate"), null);
    HttpResponse<String> r = Api.send("POST", node.url("/v1/chat/completions"), Map.of("Authorization",
        "Bearer " + key, "x-sluice-request-id", "it-propagate-1", "traceparent", "00-" + TRACE_ID + "-a3ce929d0e0e4736-01"),
        Api.chatBody("traced", null));
    assertEquals(200, r.statusCode(), r.body());
    OtlpReceiver.Received span = requestSpan("it-propagate-1");
    assertEquals("chat traced", span.name());
    assertEquals("traced-up", span.string("gen_ai.response.model"));
    assertEquals("length", span.attributes().get("gen_ai.response.finish_reasons").getArrayValue().getValues(0)
        .getStringValue());
    OtlpReceiver.Received attempt = children(span, 1).get(0);
    assertEquals(List.of("00-" + TRACE_ID + "-" + attempt.spanId() + "-01"), upstreamTraceparents);
  }

  @Test
  void chat_stream_exportsRequestSpanWithStreamUsageAndItsAttempt() {
    String tenant = Fixtures.tenant("otel-stream");
    String key = Api.tenantWithKey(node, tenant, null);
    HttpResponse<String> r = chat(key, "it-stream-1", "b7ad6b7169203331",
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"max_tokens\":40,\"mock\":{\"tokens\":6}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("[DONE]"));
    OtlpReceiver.Received span = requestSpan("it-stream-1");
    assertRequestSpan(span, tenant, "b7ad6b7169203331", 6, 40);
    assertAttempt(span);
  }

  @Test
  void metrics_afterRequests_perTenantSeriesAndHistograms() {
    String tenant = Fixtures.tenant("otel-metrics");
    String key = Api.tenantWithKey(node, tenant, null);
    assertEquals(200, chat(key, "it-metrics-1", "00f067aa0ba902b7", "\"mock\":{\"tokens\":5}").statusCode());
    assertEquals(200, chat(key, "it-metrics-2", "00f067aa0ba902b7",
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"mock\":{\"tokens\":5}").statusCode());
    assertEquals(404, Api.chat(node, key, Api.chatBody("no-such-model", null)).statusCode());
    await("per-tenant series").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      String metrics = Api.send("GET", node.url("/metrics"), Map.of(), null).body();
      String labels = "tenant=\"" + tenant + "\",model=\"gpt-4o-mini\"";
      assertTrue(metrics.contains("sluice_tenant_tokens_total{" + labels + ",direction=\"output\"} 10"), metrics);
      assertTrue(metrics.contains("sluice_tenant_cost_usd_total{" + labels + "}"), metrics);
      assertTrue(metrics.contains("sluice_tenant_requests_total{" + labels + ",status=\"200\",reason=\"none\"} 2"));
      assertTrue(metrics.contains("sluice_tenant_requests_total{tenant=\"" + tenant
          + "\",model=\"_none\",status=\"404\",reason=\"not_found\"} 1"), metrics);
      for (String histogram : List.of("sluice_request_duration_seconds_bucket{operation=\"chat\"",
          "sluice_time_to_first_token_seconds_bucket{operation=\"chat\"",
          "sluice_gateway_overhead_seconds_bucket{operation=\"chat\"",
          "sluice_upstream_attempt_duration_seconds_bucket{deployment=\"mock-1\"",
          "sluice_telemetry_spans_dropped_total{reason=\"queue_full\"}", "sluice_access_log_dropped_total")) {
        assertTrue(metrics.contains(histogram), histogram + " missing");
      }
    });
  }

  @Test
  void accessLog_requests_oneJsonLineEachWithTheFields() {
    String tenant = Fixtures.tenant("otel-log");
    String key = Api.tenantWithKey(node, tenant, null);
    assertEquals(200, chat(key, "it-log-1", "00f067aa0ba902b7", "\"mock\":{\"tokens\":3}").statusCode());
    assertEquals(200, chat(key, "it-log-2", "00f067aa0ba902b7",
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"mock\":{\"tokens\":4}").statusCode());
    Map<String, JsonNode> lines = await("access-log lines").atMost(Duration.ofSeconds(10)).until(() -> {
      if (!Files.exists(accessLog)) {
        return Map.<String, JsonNode>of();
      }
      try {
        // Every line is JSON.
        return Files.readAllLines(accessLog).stream().map(Api::json)
            .collect(Collectors.toMap(j -> j.get("request_id").asText(), j -> j, (a, b) -> b));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, m -> m.containsKey("it-log-1") && m.containsKey("it-log-2"));
    for (String id : List.of("it-log-1", "it-log-2")) {
      JsonNode l = lines.get(id);
      for (String field : List.of("timestamp", "request_id", "tenant", "key_id", "surface", "model", "deployment",
          "status", "error_code", "input_tokens", "output_tokens", "cost_usd", "duration_ms", "time_to_first_byte_ms",
          "overhead_ms", "attempts", "region")) {
        assertTrue(l.has(field), id + " lacks " + field + ": " + l);
      }
      assertEquals(tenant, l.get("tenant").asText());
      assertEquals("openai", l.get("surface").asText());
      assertEquals("gpt-4o-mini", l.get("model").asText());
      assertEquals("mock-1", l.get("deployment").asText());
      assertEquals(200, l.get("status").asInt());
      assertEquals(1, l.get("attempts").asInt());
      assertTrue(l.get("region").isNull());
      assertFalse(l.toString().contains(key), "the key is in the access log");
      assertFalse(l.toString().contains("Say hello"), "the prompt is in the access log");
    }
    assertEquals(3, lines.get("it-log-1").get("output_tokens").asLong());
    assertEquals(4, lines.get("it-log-2").get("output_tokens").asLong());
  }

  @Test
  void chat_collectorDown_requestsStillSucceed() {
    int closed = Repo.freePort();
    try (SluiceNode lonely = SluiceNode.start("observability-down", Fixtures.models(mock), Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + closed, "OTEL_BSP_SCHEDULE_DELAY", "50"))) {
      String key = Api.tenantWithKey(lonely, Fixtures.tenant("otel-down"), null);
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> whole = Api.chat(lonely, key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"tokens\":2}"));
        assertEquals(200, whole.statusCode(), whole.body());
        HttpResponse<String> stream = Api.chat(lonely, key, Api.chatBody("gpt-4o-mini",
            "\"stream\":true,\"mock\":{\"tokens\":2}"));
        assertEquals(200, stream.statusCode(), stream.body());
        assertTrue(stream.body().contains("[DONE]"));
      }
    }
  }
}
