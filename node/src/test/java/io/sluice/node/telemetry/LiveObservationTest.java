package io.sluice.node.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.RequestObservation;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.persistence.UsageCounters;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LiveObservationTest {
  private static final String KEY = "sk-sluice.acme.secretsecretsecret";
  private static final String CLIENT_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
      .build();
  private final Fixture f = Fixture.create();

  @AfterEach
  void close() {
    sdk.close();
  }

  private static Function<String, String> headers(Map<String, String> h) {
    return h::get;
  }

  /** A served chat: authenticated, admitted, one failed attempt, one good one, settled, finished. */
  private RequestObservation serve(Observability o, Map<String, String> clientHeaders, boolean stream,
      List<HttpRequest> sent) {
    RequestObservation obs = o.start("openai", Operation.CHAT, "req-1", f.nanos.get(), headers(clientHeaders));
    obs.authenticated(Fixture.tenant("acme", KEY), KEY);
    obs.admitted(Fixture.MODEL, 64);
    obs.attemptStarted(Fixture.DEPLOYMENT);
    sent.add(obs.propagate(HttpRequest.POST("http://127.0.0.1:9/v1/chat/completions")));
    f.advanceMillis(30);
    obs.attemptEnded("server");
    obs.attemptStarted(Fixture.DEPLOYMENT);
    sent.add(obs.propagate(HttpRequest.POST("http://127.0.0.1:9/v1/chat/completions")));
    f.advanceMillis(20);
    obs.responded("upstream-mini-2024", FinishReason.STOP);
    if (stream) {
      obs.served(true, 2_000_000);
      obs.finished(200);
      f.advanceMillis(5);
      obs.firstByte();
      f.advanceMillis(50);
      obs.firstByte();
      obs.settled(new UsageCounters(1, 12, 7, 6_000));
    } else {
      obs.settled(new UsageCounters(1, 12, 7, 6_000));
      obs.served(false, 2_000_000);
      obs.finished(200);
    }
    return obs;
  }

  @Test
  void served_withTracing_requestSpanHasGenAiAttributesAndAttemptSpansAreItsChildren() {
    Observability o = f.observability(null, Tracing.of(sdk));
    List<HttpRequest> sent = new java.util.ArrayList<>();
    serve(o, Map.of("traceparent", CLIENT_TRACEPARENT), false, sent);

    List<SpanData> done = spans.getFinishedSpanItems();
    assertEquals(3, done.size());
    SpanData request = done.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
    assertEquals("chat gpt-4o-mini", request.getName());
    assertEquals("0af7651916cd43dd8448eb211c80319c", request.getTraceId());
    assertEquals("b7ad6b7169203331", request.getParentSpanId());
    var a = request.getAttributes();
    assertEquals("chat", a.get(AttributeKey.stringKey("gen_ai.operation.name")));
    assertEquals("openai", a.get(AttributeKey.stringKey("gen_ai.provider.name")));
    assertEquals("gpt-4o-mini", a.get(AttributeKey.stringKey("gen_ai.request.model")));
    assertEquals("upstream-mini-2024", a.get(AttributeKey.stringKey("gen_ai.response.model")));
    assertEquals(64L, a.get(AttributeKey.longKey("gen_ai.request.max_tokens")));
    assertEquals(12L, a.get(AttributeKey.longKey("gen_ai.usage.input_tokens")));
    assertEquals(7L, a.get(AttributeKey.longKey("gen_ai.usage.output_tokens")));
    assertEquals(List.of("stop"), a.get(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));
    assertEquals("127.0.0.1", a.get(AttributeKey.stringKey("server.address")));
    assertEquals("acme", a.get(AttributeKey.stringKey("sluice.tenant")));
    assertEquals("key-acme", a.get(AttributeKey.stringKey("sluice.key_id")));
    assertEquals("mock-1", a.get(AttributeKey.stringKey("sluice.deployment")));
    assertEquals(2L, a.get(AttributeKey.longKey("sluice.attempts")));
    assertEquals(6e-6, a.get(AttributeKey.doubleKey("sluice.cost_usd")), 1e-12);
    assertEquals(2.0, a.get(AttributeKey.doubleKey("sluice.overhead_ms")), 1e-9);
    // Nothing of the key, the upstream's key, a prompt or a completion is on any span.
    for (SpanData s : done) {
      assertFalse(s.getAttributes().toString().contains("secret"), s.getAttributes().toString());
    }

    List<SpanData> attempts = done.stream().filter(s -> s.getKind() == SpanKind.CLIENT).toList();
    assertEquals(2, attempts.size());
    assertEquals(List.of("server", "ok"), attempts.stream()
        .map(s -> s.getAttributes().get(AttributeKey.stringKey("sluice.attempt.outcome"))).toList());
    assertEquals(StatusCode.ERROR, attempts.get(0).getStatus().getStatusCode());
    for (int i = 0; i < 2; i++) {
      SpanData attempt = attempts.get(i);
      assertEquals(request.getSpanId(), attempt.getParentSpanId());
      assertEquals("chat upstream-mini", attempt.getName());
      // The upstream request carries the attempt's span as its parent.
      String traceparent = sent.get(i).getHeader("traceparent").map(HttpHeader::value).orElseThrow();
      assertEquals("00-" + attempt.getTraceId() + "-" + attempt.getSpanId() + "-01", traceparent);
    }
  }

  @Test
  void served_stream_spanEndsWhenTheStreamSettlesAndFirstByteIsTheFirstChunk() {
    Observability o = f.observability(null, Tracing.of(sdk));
    serve(o, Map.of(), true, new java.util.ArrayList<>());
    String scrape = f.registry.scrape();
    // 55 ms from arrival to the first chunk: in the 100 ms bucket, not the 10 ms one.
    assertTrue(scrape.contains("sluice_time_to_first_token_seconds_bucket{operation=\"chat\",le=\"0.01\"} 0"), scrape);
    assertTrue(scrape.contains("sluice_time_to_first_token_seconds_bucket{operation=\"chat\",le=\"0.1\"} 1"), scrape);
    assertEquals(3, spans.getFinishedSpanItems().size());
    SpanData request = spans.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER)
        .findFirst().orElseThrow();
    assertEquals(7L, request.getAttributes().get(AttributeKey.longKey("gen_ai.usage.output_tokens")));
  }

  @Test
  void finished_beforeAdmittedStreamSettles_completesOnlyOnce() {
    List<RequestRecord> records = new java.util.ArrayList<>();
    Observability o = f.observability(null, null);
    RequestObservation obs = o.start("openai", Operation.CHAT, "req-2", f.nanos.get(), headers(Map.of()));
    obs.authenticated(Fixture.tenant("acme", KEY), KEY);
    obs.admitted(Fixture.MODEL, -1);
    obs.attemptStarted(Fixture.DEPLOYMENT);
    obs.served(true, 1000);
    obs.finished(200);
    assertFalse(f.registry.scrape().contains("sluice_request_duration_seconds_count{operation=\"chat\"} 1"));
    obs.settled(new UsageCounters(1, 3, 4, 10));
    obs.settled(new UsageCounters(1, 3, 4, 10));
    obs.finished(200);
    assertTrue(f.registry.scrape().contains("sluice_request_duration_seconds_count{operation=\"chat\"} 1"));
    assertTrue(f.registry.scrape().contains("sluice_upstream_attempt_duration_seconds_count{deployment=\"mock-1\"} 1"));
  }

  @Test
  void propagate_withoutTracing_passesTheClientsTraceparentOnUnchanged() {
    Observability o = f.observability(null, null);
    RequestObservation obs = o.start("openai", Operation.CHAT, "req-3", f.nanos.get(),
        headers(Map.of("traceparent", CLIENT_TRACEPARENT, "tracestate", "a=b")));
    HttpRequest r = obs.propagate(HttpRequest.POST("http://127.0.0.1:9/"));
    assertEquals(CLIENT_TRACEPARENT, r.getHeader("traceparent").map(HttpHeader::value).orElseThrow());
    assertEquals("a=b", r.getHeader("tracestate").map(HttpHeader::value).orElseThrow());
    RequestObservation bare = o.start("openai", Operation.CHAT, "req-4", f.nanos.get(), headers(Map.of()));
    assertTrue(bare.propagate(HttpRequest.POST("http://127.0.0.1:9/")).getHeader("traceparent").isEmpty());
  }

  @Test
  void refused_unauthenticated_countedUnderItsReasonWithoutSpanAttributesOfATenant() {
    Observability o = f.observability(null, Tracing.of(sdk));
    RequestObservation obs = o.start("anthropic", Operation.CHAT, "req-5", f.nanos.get(), headers(Map.of()));
    obs.refused(Refusal.unauthenticated());
    obs.finished(401);
    SpanData span = spans.getFinishedSpanItems().get(0);
    assertEquals("chat", span.getName());
    assertNull(span.getAttributes().get(AttributeKey.stringKey("sluice.tenant")));
    assertEquals(401L, span.getAttributes().get(AttributeKey.longKey("http.response.status_code")));
    StringBuilder out = new StringBuilder();
    o.metrics().render(out);
    assertTrue(out.toString().contains(
        "sluice_tenant_requests_total{tenant=\"_unauthenticated\",model=\"_none\",status=\"401\",reason=\"unauthenticated\"} 1"),
        out.toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''|''|''|false",
      "http://127.0.0.1:4318|''|''|true",
      "''|otlp|''|true",
      "http://127.0.0.1:4318|none|''|false",
      "http://127.0.0.1:4318|''|true|false",
  })
  void configured_byOtelVariables_onlyWithAnExporter(String endpoint, String exporter, String disabled,
      boolean expected) {
    Map<String, String> env = new java.util.HashMap<>();
    if (!endpoint.isEmpty()) env.put("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    if (!exporter.isEmpty()) env.put("OTEL_TRACES_EXPORTER", exporter);
    if (!disabled.isEmpty()) env.put("OTEL_SDK_DISABLED", disabled);
    assertEquals(expected, Tracing.configured(env, new Properties()));
  }
}
