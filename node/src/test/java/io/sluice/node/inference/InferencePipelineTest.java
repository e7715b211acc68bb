package io.sluice.node.inference;

import static io.sluice.node.inference.PipelineRig.answer;
import static io.sluice.node.inference.PipelineRig.deployment;
import static io.sluice.node.inference.PipelineRig.fail;
import static io.sluice.node.inference.PipelineRig.json;
import static io.sluice.node.inference.PipelineRig.lines;
import static io.sluice.node.inference.PipelineRig.streamed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.OneNodeCluster;
import io.sluice.node.admission.Admission;
import io.sluice.node.admission.AdmissionProbe;
import io.sluice.node.admission.Pricing;
import io.sluice.node.auth.TenantView;
import io.sluice.node.inference.PipelineRig.FakeBody;
import io.sluice.node.inference.PipelineRig.Fault;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.provider.UpstreamFailure;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.OutlierDetector;
import io.sluice.node.routing.RoutingSettings;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantChanged;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import scala.concurrent.duration.FiniteDuration;

/**
 * The pipeline below the surfaces, over a fake provider and a fake upstream, with clocks and a
 * scheduler the test moves, and real routing, gate and admission on a one-node cluster. Each test
 * has a tenant of its own (one concurrent request at most), so what a request leaves behind shows:
 * its deployment's slot, latency count and health probe come back, and its ticket is finished
 * exactly once, with the usage it should pay.
 */
class InferencePipelineTest {
  private static final Duration ASK = Duration.ofSeconds(5);
  private static final String OK_BODY = "{\"text\":\"hello\",\"usage\":{\"prompt\":7,\"completion\":3}}";
  private static final AtomicInteger TENANTS = new AtomicInteger();
  private static ActorTestKit testKit;
  private static QuotaSettings quota;
  private static Admission admission;

  @BeforeAll
  static void startCluster() {
    testKit = OneNodeCluster.start("InferencePipelineTest");
    Config config = testKit.system().settings().config();
    quota = QuotaSettings.from(config);
    // Admission's windows on a clock that stands still: a test never straddles a window's end.
    InstantSource clock = InstantSource.fixed(Instant.parse("2026-03-10T12:00:05Z"));
    TenantEntity.init(testKit.system(), testKit.<Topic.Command<TenantChanged>>createTestProbe().ref(), clock, quota);
    GatewayMetrics metrics = new GatewayMetrics(DeploymentStates.create(ModelCatalog.from(config),
        RoutingSettings.from(config), HealthSettings.from(config), InstantSource.system(), System::nanoTime));
    admission = new Admission(testKit.system(), quota, ASK, clock, metrics);
  }

  @AfterAll
  static void stop() {
    // The node hands its tenants' leases back before it leaves, as a node's shutdown does; with
    // nothing left to settle, the shard region stops without messages buffered for entities.
    await(admission.returnAll(Instant.now().plusSeconds(10)));
    ActorTestKit.shutdown(testKit.system(), Duration.ofSeconds(30), true);
  }

  // ---- key lifecycle: the gate's expiry check and a key's own limits ----

  @Test
  void authenticate_keyAroundItsExpiry_acceptedUntilTheInjectedClockReachesIt() {
    String id = "gate-" + TENANTS.incrementAndGet();
    String key = io.sluice.node.auth.ApiKeys.newKey(id);
    Instant t = Instant.parse("2026-03-10T12:00:00Z");
    TenantState s = TenantState.EMPTY
        .apply(new io.sluice.persistence.TenantEvent.TenantCreated(id, TenantLimits.UNLIMITED, null, t))
        .apply(new io.sluice.persistence.TenantEvent.KeyIssued("k", io.sluice.node.auth.ApiKeys.hash(key), t,
            t.plusSeconds(10), List.of(PipelineRig.MODEL), null));
    var directory = new io.sluice.node.auth.KeyDirectory(x -> java.util.concurrent.CompletableFuture.completedFuture(s),
        Duration.ofMinutes(1), 10, Duration.ofMinutes(1));
    var now = new java.util.concurrent.atomic.AtomicReference<>(t.plusSeconds(10).minusMillis(1));
    ModelCatalog catalog = new ModelCatalog(Map.of(PipelineRig.MODEL, new ModelCatalog.Model(PipelineRig.MODEL,
        java.math.BigDecimal.ONE, java.math.BigDecimal.ONE, List.of()), "other", new ModelCatalog.Model("other",
        java.math.BigDecimal.ONE, java.math.BigDecimal.ONE, List.of())));
    Gate gate = new Gate(directory, catalog, admission, quota, now::get);

    TenantView view = gate.authenticate(key).toCompletableFuture().join();
    assertEquals("k", view.key().keyId());
    assertEquals(List.of(PipelineRig.MODEL), gate.models(view).stream().map(ModelCatalog.Model::name).toList());
    now.set(t.plusSeconds(10));
    var failure = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CompletionException.class,
        () -> gate.authenticate(key).toCompletableFuture().join());
    assertEquals(401, ((Refusal.Refused) failure.getCause()).refusal().status());
  }

  @Test
  void authenticate_keyIssuedAfterTheViewPushedHere_acceptedAfterOneAskAndUnknownKeysAskNoMore() {
    String id = "gate-" + TENANTS.incrementAndGet();
    String key = io.sluice.node.auth.ApiKeys.newKey(id);
    Instant t = Instant.parse("2026-03-10T12:00:00Z");
    TenantState created = TenantState.EMPTY
        .apply(new io.sluice.persistence.TenantEvent.TenantCreated(id, TenantLimits.UNLIMITED, null, t));
    TenantState issued = created.apply(new io.sluice.persistence.TenantEvent.KeyIssued("k",
        io.sluice.node.auth.ApiKeys.hash(key), t));
    var asks = new java.util.concurrent.atomic.AtomicInteger();
    var directory = new io.sluice.node.auth.KeyDirectory(x -> {
      asks.incrementAndGet();
      return java.util.concurrent.CompletableFuture.completedFuture(issued);
    }, Duration.ofMinutes(1), 10, Duration.ofMinutes(1));
    directory.onChanged(id, created); // the creation's push came; the key's push is still on the way
    Gate gate = new Gate(directory, new ModelCatalog(Map.of()), admission, quota, () -> t);

    assertEquals("k", gate.authenticate(key).toCompletableFuture().join().keys().get(
        io.sluice.node.auth.ApiKeys.hash(key)).keyId());
    for (int i = 0; i < 3; i++) {
      var failure = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CompletionException.class,
          () -> gate.authenticate(io.sluice.node.auth.ApiKeys.newKey(id)).toCompletableFuture().join());
      assertEquals(401, ((Refusal.Refused) failure.getCause()).refusal().status());
    }
    assertEquals(1, asks.get(), "one ask per tenant per recheck interval");
  }

  @Test
  void admit_keyPastItsOwnRpm_refusedWith429WhileItsTenantStillAdmits() {
    TenantView tenant = tenant();
    TenantView limited = tenant.as(new TenantView.KeyGrant("k1", Long.MAX_VALUE, null,
        new io.sluice.persistence.KeyLimits(1L, null)));
    io.sluice.node.admission.Demand demand = new io.sluice.node.admission.Demand(5, 5, 0);
    await(admission.admit(limited, demand)).finish(new UsageCounters(1, 5, 5, 0));
    var refused = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CompletionException.class,
        () -> admission.admit(limited, demand).toCompletableFuture().join());
    var quota = (io.sluice.node.admission.QuotaExceeded) refused.getCause();
    assertEquals(429, quota.refusal().status());
    assertEquals("rate_limit_exceeded", quota.refusal().code());
    await(admission.admit(tenant, demand)).finish(new UsageCounters(1, 5, 5, 0));
  }

  // ---- set-up and checks ----

  private static PipelineRig rig(int maxAttempts, Deployment... deployments) {
    return rig(maxAttempts, Duration.ZERO, deployments);
  }

  private static PipelineRig rig(int maxAttempts, Duration backoff, Deployment... deployments) {
    return new PipelineRig(testKit.system(), admission, quota, maxAttempts, backoff, List.of(deployments));
  }

  /** A new tenant of its own, allowed one request at a time and nothing else limited. */
  private static TenantView tenant() {
    String id = "pipeline-" + TENANTS.incrementAndGet();
    TenantState state = ClusterSharding.get(testKit.system()).entityRefFor(TenantEntity.ENTITY_KEY, id)
        .<StatusReply<TenantState>>ask(r -> new TenantCommand.Create(
            new TenantLimits(null, null, null, null, null, 1L), null, r), ASK)
        .toCompletableFuture().join().getValue();
    return TenantView.of(id, state);
  }

  /** The same tenant with {@code circuits} as its entity last pushed them. */
  private static TenantView withCircuits(TenantView view, Map<String, CircuitState> circuits) {
    TenantState s = view.state();
    return TenantView.of(view.tenantId(), new TenantState(s.tenantId(), s.enabled(), s.limits(), s.models(), s.keys(),
        s.createdAt(), s.revision(), s.windows(), s.nodes(), circuits));
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("did not complete normally", e);
    }
  }

  /** The failure {@code stage} ends with, unwrapped. */
  private static Throwable failure(CompletionStage<?> stage) {
    try {
      Object value = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return Attempts.unwrap(e.getCause());
    } catch (Exception e) {
      throw new AssertionError("did not complete", e);
    }
  }

  private static Refusal refused(CompletionStage<Outcome> stage) {
    Throwable t = failure(stage);
    return assertInstanceOf(Refusal.Refused.class, t, "a refusal, not a fault: " + t).refusal();
  }

  private static <T extends Outcome> T served(CompletionStage<Outcome> stage, Class<T> kind) {
    return assertInstanceOf(kind, await(stage));
  }

  private static void awaitAssert(Runnable assertion) {
    testKit.<Void>createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertion.run();
      return null;
    });
  }

  private static String joined(List<ByteString> chunks) {
    return chunks.stream().map(ByteString::utf8String).reduce("", String::concat);
  }

  private static String header(List<HttpHeader> headers, String name) {
    return headers.stream().filter(h -> h.is(name)).map(HttpHeader::value).findFirst().orElse(null);
  }

  private static String sentBody(PipelineRig rig, int i) {
    return ((HttpEntity.Strict) rig.upstream.sent.get(i).request().entity()).getData().utf8String();
  }

  /**
   * Everything the request held comes back: on {@code deployment}, the limiter's slot, the latency
   * tracker's in-flight count and (when it was probing) the outlier detector's probe; for the
   * tenant, the ticket finished exactly once, its concurrency slot free again.
   */
  private static void assertAllBack(PipelineRig rig, TenantView view, String deployment, long requests) {
    DeploymentStates.State st = rig.state(deployment);
    awaitAssert(() -> {
      assertEquals(0, st.limiter().inFlight(), "the limiter's slot");
      assertEquals(0, st.latency().inFlight(), "the latency tracker's in-flight count");
      OutlierDetector.Snapshot h = st.health().snapshot();
      assertFalse(h.state() == OutlierDetector.State.HALF_OPEN && !st.health().admitsNow(),
          "a probe permit held: " + h);
      assertEquals(requests, rig.used(view.tenantId()).requests(), "tickets finished");
      assertEquals(1, AdmissionProbe.freeSlots(admission, view.tenantId()), "the tenant's concurrency slot");
    });
  }

  private static void assertUsage(PipelineRig rig, TenantView view, long prompt, long completion) {
    Pricing price = Pricing.of(rig.catalog.get(PipelineRig.MODEL));
    awaitAssert(() -> assertEquals(new UsageCounters(1, prompt, completion, price.costNanos(prompt, completion)),
        rig.used(view.tenantId())));
  }

  // ---- whole responses ----

  @Test
  void infer_wholePassthroughWithUsage_passedOnAndChargedTheReportedUsage() {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(200, OK_BODY)));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertEquals("a", w.deployment());
    assertEquals(200, w.status());
    assertEquals(OK_BODY, w.passthrough().utf8String());
    assertNull(w.translated());
    assertEquals("{\"model\":\"a-upstream\",\"stream\":false}", sentBody(rig, 0), "the model swapped");
    assertEquals("Bearer sk-up-a", rig.upstream.sent.get(0).request().getHeader("authorization").get().value());
    assertUsage(rig, view, 7, 3);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_wholePassthroughWithoutUsage_chargedTheEstimate() {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(200, "{\"text\":\"hello\"}")));

    served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertUsage(rig, view, PipelineRig.PROMPT_ESTIMATE, PipelineRig.MAX_TOKENS);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_wholeTranslated_decodedAndChargedItsUsage() {
    PipelineRig rig = rig(1, deployment("a", "fake-other", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(200, OK_BODY)));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertNull(w.passthrough());
    assertEquals(List.of(new Part.Text("hello")), w.translated().content());
    assertEquals(new Usage(7, 3, 0, 0), w.translated().usage());
    assertEquals("translated a-upstream 1", sentBody(rig, 0), "the neutral request encoded");
    assertUsage(rig, view, 7, 3);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_wholeTranslatedWithoutUsage_chargedTheEstimate() {
    PipelineRig rig = rig(1, deployment("a", "fake-other", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(200, "{\"text\":\"hello\"}")));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertNull(w.translated().usage());
    assertUsage(rig, view, PipelineRig.PROMPT_ESTIMATE, PipelineRig.MAX_TOKENS);
    assertAllBack(rig, view, "a", 1);
  }

  // ---- streams ----

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void infer_streamPassthrough_bytesPassedOnAndChargedTheTapsUsage(boolean clientWantsUsage) {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(streamed(200, lines("t:Hel", "t:lo", "u:7,2"))));

    Outcome.Streamed s = served(rig.infer(view, FakeBody.streaming(clientWantsUsage)), Outcome.Streamed.class);
    assertTrue(rig.upstream.sent.get(0).streamed());
    assertNull(s.translated());
    String body = joined(await(s.passthrough().runWith(Sink.seq(), rig.materializer)));

    assertEquals(clientWantsUsage ? "t:Hel\nt:lo\nu:7,2\n" : "t:Hel\nt:lo\n", body);
    assertUsage(rig, view, 7, 2);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_streamTranslated_eventsDecodedAndChargedTheirUsage() {
    PipelineRig rig = rig(1, deployment("a", "fake-other", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(streamed(200, lines("t:Hel", "t:lo", "u:7,2"))));

    Outcome.Streamed s = served(rig.infer(view, FakeBody.streaming(true)), Outcome.Streamed.class);
    assertNull(s.passthrough());
    List<ChatEvent> events = await(s.translated().runWith(Sink.seq(), rig.materializer));

    assertEquals(List.of(new ChatEvent.TextDelta("Hel"), new ChatEvent.TextDelta("lo"),
        new ChatEvent.UsageReported(Usage.of(7, 2)), new ChatEvent.Finished(FinishReason.STOP)), events);
    assertUsage(rig, view, 7, 2);
    assertAllBack(rig, view, "a", 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"fake-same", "fake-other"})
  void infer_streamCutBeforeItsUsage_chargedOneTokenPerContentChunk(String provider) {
    PipelineRig rig = rig(1, deployment("a", provider, 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(streamed(200, PipelineRig.cut("t:a", "t:b", "t:c"))));

    Outcome.Streamed s = served(rig.infer(view, FakeBody.streaming(true)), Outcome.Streamed.class);
    failure(provider.equals("fake-same") ? s.passthrough().runWith(Sink.ignore(), rig.materializer)
        : s.translated().runWith(Sink.ignore(), rig.materializer));

    assertUsage(rig, view, PipelineRig.PROMPT_ESTIMATE, 3);
    assertAllBack(rig, view, "a", 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"fake-same", "fake-other"})
  void infer_clientCancelsTheStream_chargedWhatWasGeneratedAndReleased(String provider) {
    PipelineRig rig = rig(1, deployment("a", provider, 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(streamed(200, lines("t:a", "t:b").concatLazy(Source.maybe()))));

    Outcome.Streamed s = served(rig.infer(view, FakeBody.streaming(true)), Outcome.Streamed.class);
    int got = provider.equals("fake-same")
        ? await(s.passthrough().take(1).runWith(Sink.seq(), rig.materializer)).size()
        : await(s.translated().take(1).runWith(Sink.seq(), rig.materializer)).size();

    assertEquals(1, got);
    awaitAssert(() -> assertEquals(1, rig.used(view.tenantId()).requests()));
    UsageCounters used = rig.used(view.tenantId());
    assertEquals(PipelineRig.PROMPT_ESTIMATE, used.promptTokens());
    assertTrue(used.completionTokens() >= 1 && used.completionTokens() <= 2,
        "the chunks the gateway read before the client left: " + used);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_streamNeverRun_settledAndReleasedWhenItsLongestLifeHasPassed() {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(streamed(200, lines("t:a", "u:7,1"))));

    served(rig.infer(view, FakeBody.streaming(true)), Outcome.Streamed.class);
    assertEquals(1, rig.state("a").limiter().inFlight(), "held while the stream may still be read");

    rig.scheduler.timePasses(FiniteDuration.create(rig.get("a").totalTimeout().plusSeconds(61).toMillis(),
        TimeUnit.MILLISECONDS));
    assertUsage(rig, view, PipelineRig.PROMPT_ESTIMATE, 0);
    assertAllBack(rig, view, "a", 1);
  }

  // ---- retries and refusals ----

  @Test
  void infer_serverErrorThenAnotherDeployment_retriedThereAndServed() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(500, "{\"message\":\"boom\"}")));
    rig.upstream.then(answer(json(200, OK_BODY)));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertEquals("b", w.deployment());
    assertEquals(List.of("a", "b"), rig.upstream.deployments());
    assertEquals(1, rig.state("a").health().snapshot().consecutiveFailures(), "the 5xx counts against a");
    assertEquals(List.of(), rig.circuits.reports, "a 5xx is not the tenant's");
    assertUsage(rig, view, 7, 3);
    assertAllBack(rig, view, "a", 1);
    assertAllBack(rig, view, "b", 1);
  }

  @Test
  void infer_nonRetryable4xxSameProtocol_passedOnWithTheUpstreamsTypeAndTheDeployment() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(400, "{\"type\":\"invalid_request_error\",\"code\":\"bad_value\","
        + "\"param\":\"temperature\",\"message\":\"no good for key sk-up-a\"}")));

    Refusal r = refused(rig.infer(view, FakeBody.whole()));

    assertEquals(Refusal.Kind.UPSTREAM_REFUSED, r.kind());
    assertEquals(400, r.status());
    assertEquals("no good for key ***", r.message(), "the deployment's key redacted");
    assertEquals("bad_value", r.code());
    assertEquals("temperature", r.param());
    assertEquals("invalid_request_error", r.detailType());
    assertEquals("a", header(r.headers(), "x-sluice-deployment"));
    assertEquals(List.of("a"), rig.upstream.deployments(), "not retried");
    assertUsage(rig, view, 0, 0);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_nonRetryable4xxOtherProtocol_passedOnWithoutTheUpstreamsFields() {
    PipelineRig rig = rig(1, deployment("a", "fake-other", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(422, "{\"type\":\"invalid_request_error\",\"code\":\"bad_value\","
        + "\"param\":\"temperature\",\"message\":\"no good\"}")));

    Refusal r = refused(rig.infer(view, FakeBody.whole()));

    assertEquals(Refusal.Kind.UPSTREAM_REFUSED, r.kind());
    assertEquals(422, r.status());
    assertEquals("no good", r.message());
    assertNull(r.code());
    assertNull(r.param());
    assertNull(r.detailType(), "another protocol's type means nothing to this client");
    assertEquals("a", header(r.headers(), "x-sluice-deployment"));
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_rateLimitedOnEveryAttempt_rateLimitedWithTheUpstreamsRetryAfter() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(429, "{\"message\":\"slow down\"}", RawHeader.create("Retry-After", "3"))));
    rig.upstream.then(answer(json(429, "{\"message\":\"slow down\"}", RawHeader.create("Retry-After", "7"))));

    Refusal r = refused(rig.infer(view, FakeBody.whole()));

    assertEquals(Refusal.Kind.RATE_LIMITED, r.kind());
    assertEquals(429, r.status());
    assertEquals(7, r.retryAfterSeconds(), "the last upstream's Retry-After");
    assertEquals(List.of("a", "b"), rig.upstream.deployments(), "the other deployment at once");
    assertEquals(List.of(new TenantCommand.ReportUpstream("a", 429, "HTTP 429", 3000, false),
        new TenantCommand.ReportUpstream("b", 429, "HTTP 429", 7000, false)), rig.circuits.reports);
    assertAllBack(rig, view, "a", 1);
    assertAllBack(rig, view, "b", 1);
  }

  @Test
  void infer_upstreamSilent_timedOutWithinTheDeadline() {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(rig.silent());

    CompletionStage<Outcome> outcome = rig.infer(view, FakeBody.whole(),
        rig.nanos.getAsLong() + Duration.ofSeconds(45).toNanos(), null);
    awaitAssert(() -> assertEquals(1, rig.upstream.sent.size()));
    PipelineRig.Sent sent = rig.upstream.sent.get(0);
    assertEquals(Duration.ofSeconds(30), sent.firstByte(), "the deployment's first-byte timeout");
    assertEquals(Duration.ofSeconds(45), sent.total(), "the deployment's total, cut to the deadline");
    rig.scheduler.timePasses(FiniteDuration.create(30, TimeUnit.SECONDS));
    Refusal r = refused(outcome);

    assertEquals(Refusal.Kind.UPSTREAM_TIMEOUT, r.kind());
    assertEquals(504, r.status());
    assertEquals(1, rig.state("a").health().snapshot().consecutiveFailures(), "a timeout counts against a");
    assertAllBack(rig, view, "a", 1);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void infer_connectionRefusedOrTimedOutOnEveryAttempt_badGatewayOrTimeout(boolean timeout) {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    UpstreamFailure.Kind kind = timeout ? UpstreamFailure.Kind.TIMEOUT : UpstreamFailure.Kind.CONNECT;
    rig.upstream.then(fail(UpstreamFailure.Kind.CONNECT));
    rig.upstream.then(fail(kind));

    Refusal r = refused(rig.infer(view, FakeBody.whole()));

    assertEquals(timeout ? Refusal.Kind.UPSTREAM_TIMEOUT : Refusal.Kind.UPSTREAM_FAILED, r.kind());
    assertEquals(timeout ? 504 : 502, r.status());
    assertTrue(r.message().contains("a: CONNECT in the test") && r.message().contains("b: " + kind + " in the test"),
        "every attempt named: " + r.message());
    assertAllBack(rig, view, "a", 1);
    assertAllBack(rig, view, "b", 1);
  }

  @Test
  void infer_everyDeploymentEjected_unavailableWithNothingSent() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    rig.eject("a");
    rig.eject("b");

    Refusal r = refused(rig.infer(view, FakeBody.whole()));

    assertEquals(Refusal.Kind.UNAVAILABLE, r.kind());
    assertEquals(503, r.status());
    assertEquals(1, r.retryAfterSeconds());
    assertEquals(List.of(), rig.upstream.sent);
    assertUsage(rig, view, 0, 0);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_deploymentAtItsConcurrencyLimit_skippedForTheNext() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    assertTrue(rig.state("a").limiter().tryAcquire(), "another request holds a's one slot");
    rig.upstream.then(answer(json(200, OK_BODY)));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertEquals("b", w.deployment());
    assertEquals(List.of("b"), rig.upstream.deployments());
    assertEquals(1, rig.state("a").limiter().inFlight(), "the other request's slot untouched");
    rig.state("a").limiter().release();
    assertAllBack(rig, view, "b", 1);
  }

  @Test
  void infer_pinnedDeploymentAtItsConcurrencyLimit_unavailableNamingTheLimit() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    assertTrue(rig.state("a").limiter().tryAcquire());

    Refusal r = refused(rig.infer(view, FakeBody.whole(), rig.nanos.getAsLong() + 60_000_000_000L, "a"));

    assertEquals(503, r.status());
    assertTrue(r.message().contains("a: at its concurrency limit"), r.message());
    assertEquals(List.of(), rig.upstream.sent);
    assertEquals(1, rig.state("a").limiter().inFlight());
    rig.state("a").limiter().release();
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_ejectedDeployment_skippedForTheNext() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    rig.eject("a");
    rig.upstream.then(answer(json(200, OK_BODY)));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class);

    assertEquals("b", w.deployment());
    assertEquals(List.of("b"), rig.upstream.deployments());
    assertAllBack(rig, view, "b", 1);
  }

  @Test
  void infer_pinnedDeployment_onlyItTriedEvenWhenEjected() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = tenant();
    rig.eject("b");
    rig.upstream.then(answer(json(503, "{\"message\":\"busy\"}")));
    rig.upstream.then(answer(json(200, OK_BODY)));

    Outcome.Whole w = served(rig.infer(view, FakeBody.whole(), rig.nanos.getAsLong() + 60_000_000_000L, "b"),
        Outcome.Whole.class);

    assertEquals("b", w.deployment());
    assertEquals(List.of("b", "b"), rig.upstream.deployments(), "retried on the pinned deployment, never on a");
    assertEquals(OutlierDetector.State.EJECTED, rig.state("b").health().snapshot().state(),
        "a pinned request's outcome does not judge an ejected deployment");
    assertAllBack(rig, view, "b", 1);
  }

  @Test
  void infer_deadlinePassedBeforeTheFirstAttempt_timedOutWithNothingSent() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.halfOpen("a");

    Refusal r = refused(rig.infer(view, FakeBody.whole(), rig.nanos.getAsLong() - 1, null));

    assertEquals(Refusal.Kind.UPSTREAM_TIMEOUT, r.kind());
    assertEquals(504, r.status());
    assertTrue(r.message().contains("deadline"), r.message());
    assertEquals(List.of(), rig.upstream.sent);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_deadlinePassesDuringTheBackoff_noFurtherAttempt() {
    PipelineRig rig = rig(2, Duration.ofSeconds(1), deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(500, "{\"message\":\"boom\"}")));

    CompletionStage<Outcome> outcome = rig.infer(view, FakeBody.whole());
    awaitAssert(() -> assertEquals(1, rig.upstream.sent.size()));
    assertFalse(outcome.toCompletableFuture().isDone(), "waiting out the backoff");
    rig.nanos.advance(Duration.ofSeconds(61));
    rig.scheduler.timePasses(FiniteDuration.create(1, TimeUnit.SECONDS));
    Refusal r = refused(outcome);

    assertEquals(Refusal.Kind.UPSTREAM_FAILED, r.kind());
    assertEquals(502, r.status());
    assertEquals(1, rig.upstream.sent.size());
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_backoffThenRetryOnTheSameDeployment_servedAfterTheWait() {
    PipelineRig rig = rig(2, Duration.ofSeconds(1), deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(502, "{\"message\":\"bad gateway\"}")));
    rig.upstream.then(answer(json(200, OK_BODY)));

    CompletionStage<Outcome> outcome = rig.infer(view, FakeBody.whole());
    awaitAssert(() -> assertEquals(1, rig.upstream.sent.size()));
    assertEquals(0, rig.state("a").limiter().inFlight(), "no slot held while waiting");
    rig.scheduler.timePasses(FiniteDuration.create(1, TimeUnit.SECONDS));

    assertEquals("a", served(outcome, Outcome.Whole.class).deployment());
    assertEquals(2, rig.upstream.sent.size());
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_rateLimitedWithRetryAfterOnTheOnlyDeployment_retriedThereAfterTheWait() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(429, "{\"message\":\"slow down\"}", RawHeader.create("Retry-After", "2"))));
    rig.upstream.then(answer(json(200, OK_BODY)));

    CompletionStage<Outcome> outcome = rig.infer(view, FakeBody.whole());
    awaitAssert(() -> assertEquals(1, rig.upstream.sent.size()));
    assertEquals(0, rig.state("a").limiter().inFlight(), "no slot held while waiting");
    rig.scheduler.timePasses(FiniteDuration.create(1, TimeUnit.SECONDS));
    assertFalse(outcome.toCompletableFuture().isDone(), "the upstream asked for 2 s");
    assertEquals(1, rig.upstream.sent.size());
    rig.scheduler.timePasses(FiniteDuration.create(1, TimeUnit.SECONDS));

    assertEquals("a", served(outcome, Outcome.Whole.class).deployment());
    assertEquals(2, rig.upstream.sent.size());
    assertUsage(rig, view, 7, 3);
    assertAllBack(rig, view, "a", 1);
  }

  // ---- circuits ----

  static Stream<Arguments> upstreamErrors() {
    return Stream.of(
        Arguments.of(401, true),
        Arguments.of(403, true),
        Arguments.of(429, true),
        Arguments.of(400, false),
        Arguments.of(500, false));
  }

  @ParameterizedTest
  @MethodSource("upstreamErrors")
  void infer_upstreamError_reportedToTheTenantsCircuitOnlyWhenTheTenants(int status, boolean reported) {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = tenant();
    rig.upstream.then(answer(json(status, "{\"message\":\"no\"}")));

    refused(rig.infer(view, FakeBody.whole()));

    assertEquals(reported ? List.of(new TenantCommand.ReportUpstream("a", status, "HTTP " + status, 0, false))
        : List.of(), rig.circuits.reports);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_successThroughAHalfOpenCircuit_reportedAsItsProbe() {
    PipelineRig rig = rig(1, deployment("a", "fake-same", 0, 1));
    TenantView view = withCircuits(tenant(),
        Map.of("a", new CircuitState(true, Instant.now().minusSeconds(1), 401, "HTTP 401")));
    rig.upstream.then(answer(json(200, OK_BODY)));

    assertEquals("a", served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class).deployment());

    assertEquals(List.of(new TenantCommand.ReportUpstream("a", 200, null, 0, true)), rig.circuits.reports);
    assertAllBack(rig, view, "a", 1);
  }

  @Test
  void infer_openCircuit_deploymentSkippedAndSuccessElsewhereNotReported() {
    PipelineRig rig = rig(2, deployment("a", "fake-same", 0, 1), deployment("b", "fake-same", 1, 1));
    TenantView view = withCircuits(tenant(),
        Map.of("a", new CircuitState(true, Instant.now().plusSeconds(3600), 401, "HTTP 401")));
    rig.upstream.then(answer(json(200, OK_BODY)));

    assertEquals("b", served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class).deployment());

    assertEquals(List.of("b"), rig.upstream.deployments());
    assertEquals(List.of(), rig.circuits.reports);
    assertAllBack(rig, view, "b", 1);
  }

  // ---- a failure at every step: every permit comes back ----

  /** What the client sees of a request with a failure injected, and what it does with a stream. */
  enum Expect {
    /** A refusal with the case's status. */
    REFUSED,
    /** A failure that is not a refusal: the gateway's own fault (the surfaces answer 500). */
    FAULT,
    /** A stream that fails while the client reads it. */
    STREAM_FAILS,
    /** A stream whose client reads one element and goes away. */
    CLIENT_CANCELS,
    /** A stream the client never reads (it left before the response was rendered). */
    NEVER_READ,
    /** No answer until the first-byte timeout passes on the scheduler. */
    SILENT
  }

  /**
   * One injected failure.
   *
   * @param provider the deployment's adapter: fake-same passes through, fake-other translates
   * @param status the refusal's status when {@link Expect#REFUSED}
   */
  record Injection(String name, String provider, boolean stream, Consumer<PipelineRig> arrange, Expect expect,
      int status) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Injection fault(String name, String provider, boolean stream, Fault fault, String ok,
      Expect expect, int status) {
    return new Injection(name, provider, stream, rig -> {
      rig.same.faults.add(fault);
      rig.other.faults.add(fault);
      if (ok != null) {
        rig.upstream.then(answer(stream ? streamed(200, lines(ok.split("\n"))) : json(200, ok)));
      }
    }, expect, status);
  }

  private static Injection scripted(String name, String provider, boolean stream,
      java.util.function.Function<PipelineRig.Sent, CompletionStage<HttpResponse>> step, Expect expect, int status) {
    return new Injection(name, provider, stream, rig -> rig.upstream.then(step), expect, status);
  }

  private static HttpResponse failingBody(int status, boolean json) {
    Source<ByteString, ?> body = PipelineRig.cut("{\"mess");
    return HttpResponse.create().withStatus(StatusCodes.get(status)).withEntity(json
        ? HttpEntities.create(ContentTypes.APPLICATION_JSON, body)
        : HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, body));
  }

  static Stream<Injection> injections() {
    String same = "fake-same";
    String other = "fake-other";
    Source<ByteString, ?> cut = PipelineRig.cut("t:a", "t:b");
    return Stream.of(
        fault("request() refuses the chat", other, false, Fault.REQUEST_INVALID, null, Expect.REFUSED, 400),
        fault("request() throws", same, false, Fault.REQUEST_THROWS, null, Expect.FAULT, 0),
        fault("request() throws for a stream", same, true, Fault.REQUEST_THROWS, null, Expect.FAULT, 0),
        scripted("the connection is refused", same, false, fail(UpstreamFailure.Kind.CONNECT), Expect.REFUSED, 502),
        scripted("the upstream times out", same, false, fail(UpstreamFailure.Kind.TIMEOUT), Expect.REFUSED, 504),
        new Injection("the upstream is silent", same, true, rig -> rig.upstream.then(rig.silent()), Expect.SILENT,
            504),
        new Injection("sending throws", same, false,
            rig -> rig.upstream.throwOnSend = new IllegalStateException("injected: send"), Expect.FAULT, 0),
        new Injection("the upstream refuses (4xx)", same, false,
            rig -> rig.upstream.then(answer(json(400, "{\"message\":\"no\"}"))), Expect.REFUSED, 400),
        new Injection("error() throws", same, false, rig -> {
          rig.same.faults.add(Fault.ERROR_THROWS);
          rig.upstream.then(answer(json(500, "{\"message\":\"boom\"}")));
        }, Expect.FAULT, 0),
        new Injection("retryAfter() throws", same, false, rig -> {
          rig.same.faults.add(Fault.RETRY_AFTER_THROWS);
          rig.upstream.then(answer(json(429, "{\"message\":\"slow\"}")));
        }, Expect.FAULT, 0),
        scripted("a 4xx's body fails to arrive", same, true, answer(failingBody(400, false)), Expect.REFUSED, 400),
        scripted("a 5xx's body fails to arrive", same, true, answer(failingBody(503, false)), Expect.REFUSED, 502),
        scripted("a whole 2xx's body fails to arrive", same, true, answer(failingBody(200, true)), Expect.REFUSED,
            502),
        fault("usage() throws on a 2xx", same, false, Fault.USAGE_THROWS, OK_BODY, Expect.FAULT, 0),
        fault("decode() refuses a 2xx", other, false, Fault.DECODE_INVALID, OK_BODY, Expect.REFUSED, 502),
        fault("decode() throws on a 2xx", other, false, Fault.DECODE_THROWS, OK_BODY, Expect.FAULT, 0),
        scripted("the stream fails midway (passthrough)", same, true, answer(streamed(200, cut)),
            Expect.STREAM_FAILS, 0),
        scripted("the stream fails midway (translated)", other, true, answer(streamed(200, cut)),
            Expect.STREAM_FAILS, 0),
        fault("tap() throws", same, true, Fault.TAP_THROWS, "t:a\nu:7,1", Expect.FAULT, 0),
        fault("the tap throws on a chunk", same, true, Fault.TAP_CHUNK_THROWS, "t:a\nu:7,1", Expect.STREAM_FAILS, 0),
        fault("the tap throws on flush", same, true, Fault.TAP_FLUSH_THROWS, "t:a\nu:7,1", Expect.STREAM_FAILS, 0),
        fault("decoder() throws", other, true, Fault.DECODER_THROWS, "t:a\nu:7,1", Expect.FAULT, 0),
        fault("the decoder throws on a chunk", other, true, Fault.DECODER_CHUNK_THROWS, "t:a\nu:7,1",
            Expect.STREAM_FAILS, 0),
        fault("the decoder throws at the end", other, true, Fault.DECODER_END_THROWS, "t:a\nu:7,1",
            Expect.STREAM_FAILS, 0),
        scripted("the client cancels (passthrough)", same, true,
            answer(streamed(200, lines("t:a", "t:b").concatLazy(Source.maybe()))), Expect.CLIENT_CANCELS, 0),
        scripted("the client cancels (translated)", other, true,
            answer(streamed(200, lines("t:a", "t:b").concatLazy(Source.maybe()))), Expect.CLIENT_CANCELS, 0),
        scripted("the client never reads the stream", same, true,
            answer(streamed(200, lines("t:a").concatLazy(Source.maybe()))), Expect.NEVER_READ, 0),
        new Injection("the deadline passed before the attempt", same, false, rig -> rig.nanos.advance(
            Duration.ofSeconds(61)), Expect.REFUSED, 504));
  }

  static Stream<Arguments> injectionsTimesHealth() {
    return injections().flatMap(i -> Stream.of(Arguments.of(i, false), Arguments.of(i, true)));
  }

  @ParameterizedTest(name = "{0}, probing={1}")
  @MethodSource("injectionsTimesHealth")
  void infer_failureInjectedAtAStep_everyPermitAndTheTicketComeBack(Injection injection, boolean probing) {
    PipelineRig rig = rig(1, deployment("a", injection.provider(), 0, 1));
    TenantView view = tenant();
    if (probing) {
      rig.halfOpen("a"); // this request is the deployment's one probe
    }
    long deadline = rig.nanos.getAsLong() + Duration.ofSeconds(60).toNanos();
    injection.arrange().accept(rig);

    CompletionStage<Outcome> outcome = rig.infer(view, new FakeBody(Protocol.OPENAI, injection.stream(), true),
        deadline, null);
    switch (injection.expect()) {
      case REFUSED -> assertEquals(injection.status(), refused(outcome).status());
      case FAULT -> {
        Throwable t = failure(outcome);
        assertFalse(t instanceof Refusal.Refused, "the gateway's own fault, not a refusal: " + t);
      }
      case SILENT -> {
        awaitAssert(() -> assertEquals(1, rig.upstream.sent.size()));
        rig.scheduler.timePasses(FiniteDuration.create(30, TimeUnit.SECONDS));
        assertEquals(injection.status(), refused(outcome).status());
      }
      case STREAM_FAILS -> failure(read(rig, served(outcome, Outcome.Streamed.class), Long.MAX_VALUE));
      case CLIENT_CANCELS -> assertEquals(1, await(read(rig, served(outcome, Outcome.Streamed.class), 1)).size());
      case NEVER_READ -> {
        served(outcome, Outcome.Streamed.class);
        rig.scheduler.timePasses(FiniteDuration.create(rig.get("a").totalTimeout().plusSeconds(61).toMillis(),
            TimeUnit.MILLISECONDS));
      }
    }
    assertAllBack(rig, view, "a", 1);

    // The deployment's one slot and the tenant's one slot are free: the next request is served.
    rig.same.faults.clear();
    rig.other.faults.clear();
    rig.upstream.throwOnSend = null;
    rig.upstream.script.clear();
    rig.pastEjections();
    rig.upstream.then(answer(json(200, OK_BODY)));
    assertEquals("a", served(rig.infer(view, FakeBody.whole()), Outcome.Whole.class).deployment());
    assertAllBack(rig, view, "a", 2);
  }

  /** Reads at most {@code n} elements of a streamed outcome, whichever kind it is. */
  private static CompletionStage<List<Object>> read(PipelineRig rig, Outcome.Streamed s, long n) {
    Source<Object, ?> source = s.passthrough() != null ? s.passthrough().map(b -> (Object) b)
        : s.translated().map(e -> (Object) e);
    return source.take(n).runWith(Sink.seq(), rig.materializer);
  }

  // ---- bodies in another Unicode encoding ----

  static Stream<Arguments> encodings() {
    return Stream.of("UTF-16BE", "UTF-16LE", "UTF-32BE", "UTF-32LE").flatMap(
        e -> Stream.of(Arguments.of(e, false), Arguments.of(e, true)));
  }

  /**
   * Issue 17's leak, first half: a body in UTF-16 or UTF-32 is refused by the OpenAI surface's scan
   * (a 400), so it never reaches an adapter whose rewrite would fail on it. The second half (every
   * permit comes back when an adapter does fail) is the failure-injection test above.
   */
  @ParameterizedTest(name = "{0}, stream={1}")
  @MethodSource("encodings")
  void scan_bodyInAnotherUnicodeEncoding_refusedBeforeThePipeline(String encoding, boolean stream) {
    byte[] bytes = ("{\"model\":\"" + PipelineRig.MODEL + "\",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").getBytes(
            java.nio.charset.Charset.forName(encoding));
    RequestScan.InvalidRequest e = org.junit.jupiter.api.Assertions.assertThrows(RequestScan.InvalidRequest.class,
        () -> RequestScan.scan(bytes, Operation.CHAT));
    assertEquals("The request body is not valid UTF-8 JSON.", e.getMessage());
  }
}
