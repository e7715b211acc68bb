package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance matrix, after TensorZero's {@code generate_provider_tests!}: every scenario runs on
 * every (surface, provider) pair — the OpenAI surface and the Anthropic surface, each in front of an
 * OpenAI deployment and an Anthropic deployment — through the official SDK of the surface
 * ({@link SdkClient}), against the mock upstream speaking each provider's wire format on a real
 * socket. Each scenario checks what the client got (parsed by the SDK), what the upstream received
 * ({@code /mock/last-request}), and for the failure and usage scenarios what the tenant was charged
 * and how its circuits stand. One node and one mock serve the whole class; every invocation has its
 * own tenant and starts from a reset mock.
 */
class ConformanceIT {
  static final String UPSTREAM_KEY = "sk-upstream-conformance-0123456789";
  static final String WRONG_KEY = "sk-upstream-wrong-key-9876543210";
  static final String BETA = "conformance-beta-2026-01-01";
  /** Sent by OpenAI→Anthropic requests that give no max_tokens (Anthropic requires one). */
  static final long DEFAULT_MAX_TOKENS = 777;
  /** How many times the stream-cut test cuts a stream. */
  static final int CUTS = 40;
  /** A 1x1 PNG. */
  static final String PNG_BASE64 =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  static final String IMAGE_URL = "https://example.com/conformance/cat.png";

  private static MockUpstream mock;
  private static SluiceNode node;

  private String tenant;
  private String key;
  private SdkClient client;

  /** One (surface, provider) pair of the matrix. */
  record Pair(SdkClient.Surface surface, String provider) {
    String model() {
      return "conf-" + provider;
    }

    String badKeyModel() {
      return "conf-" + provider + "-badkey";
    }

    String deployment() {
      return "conf-" + provider + "-1";
    }

    String upstreamModel() {
      return provider.equals("openai") ? "gpt-upstream" : "claude-upstream";
    }

    boolean anthropicUpstream() {
      return provider.equals("anthropic");
    }

    String upstreamPath() {
      return anthropicUpstream() ? "/v1/messages" : "/v1/chat/completions";
    }

    @Override
    public String toString() {
      return surface.name().toLowerCase() + " surface -> " + provider + " deployment";
    }
  }

  static Stream<Pair> pairs() {
    return Stream.of(
        new Pair(SdkClient.Surface.OPENAI, "openai"),
        new Pair(SdkClient.Surface.OPENAI, "anthropic"),
        new Pair(SdkClient.Surface.ANTHROPIC, "anthropic"),
        new Pair(SdkClient.Surface.ANTHROPIC, "openai"));
  }

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("conformance", "--api-key", UPSTREAM_KEY, "--tokens", "3");
    String v1 = mock.baseUrl();
    node = SluiceNode.start("conformance", """
        sluice.models {
          "conf-openai" {
            price { input-per-million = 1000, output-per-million = 2000 }
            deployments = [{ name = "conf-openai-1", provider = openai, base-url = "%1$s", model = "gpt-upstream",
                             api-key = "%2$s" }]
          }
          "conf-anthropic" {
            price { input-per-million = 1000, output-per-million = 2000 }
            deployments = [{ name = "conf-anthropic-1", provider = anthropic, base-url = "%1$s",
                             model = "claude-upstream", api-key = "%2$s", default-max-tokens = %4$d }]
          }
          "conf-openai-badkey" {
            deployments = [{ name = "conf-openai-badkey-1", provider = openai, base-url = "%1$s",
                             model = "gpt-upstream", api-key = "%3$s" }]
          }
          "conf-anthropic-badkey" {
            deployments = [{ name = "conf-anthropic-badkey-1", provider = anthropic, base-url = "%1$s",
                             model = "claude-upstream", api-key = "%3$s" }]
          }
        }
        """.formatted(v1, UPSTREAM_KEY, WRONG_KEY, DEFAULT_MAX_TOKENS));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @BeforeEach
  void freshTenant() {
    mock.reset();
    tenant = Fixtures.tenant("conf");
    key = Api.tenantWithKey(node, tenant, null);
  }

  @AfterEach
  void closeClient() {
    if (client != null) client.close();
    client = null;
  }

  private SdkClient client(Pair p) {
    client = SdkClient.of(p.surface(), node.url(""), key);
    return client;
  }

  // ---------------------------------------------------------------- scenarios

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void simple_textRequest_sdkParsesTextStopAndUsage(Pair p) {
    SdkClient.Reply r = client(p).send(new SdkClient.Ask(p.model()).beta(BETA));

    assertEquals("tok tok tok ", r.text());
    assertEquals("stop", r.finish());
    assertTrue(r.calls().isEmpty());
    assertTrue(r.inputTokens() > 0, "input tokens " + r.inputTokens());
    assertEquals(3, r.outputTokens());

    JsonNode seen = upstreamRequest(p);
    JsonNode body = Api.json(seen.get("body").asText());
    assertEquals(p.upstreamModel(), body.get("model").asText(), "the deployment's model name is sent");
    if (p.anthropicUpstream()) {
      long expectedMax = p.surface() == SdkClient.Surface.ANTHROPIC ? SdkClient.DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS;
      assertEquals(expectedMax, body.get("max_tokens").asLong(), "max_tokens: the client's, else the deployment's default");
      if (p.surface() == SdkClient.Surface.ANTHROPIC) {
        assertEquals(BETA, seen.get("anthropic_beta").asText(), "the client's anthropic-beta is passed on");
      }
      assertEquals("user", body.at("/messages/0/role").asText());
    } else {
      assertEquals("Say hello to the gateway", userText(body.at("/messages/0")));
    }
    assertFalse(body.has("mock"), "nothing but the request goes upstream");

    if (client instanceof SdkClient.Anthropic anthropic) {
      // The beta Messages call, POST /v1/messages?beta=true, as Claude Code makes it.
      assertEquals("tok tok tok ", anthropic.sendBeta(p.model(), BETA).content().get(0).text().orElseThrow().text());
      JsonNode beta = upstreamRequest(p);
      if (p.anthropicUpstream()) {
        assertEquals(BETA, beta.get("anthropic_beta").asText());
      }
    }
    // The gateway's own headers, which no SDK exposes: the deployment that served the request.
    HttpResponse<String> raw = client.raw(new SdkClient.Ask(p.model()));
    assertEquals(200, raw.statusCode(), raw.body());
    assertEquals(p.deployment(), raw.headers().firstValue("x-sluice-deployment").orElse(null));
    assertTrue(raw.headers().map().keySet().stream().noneMatch(h -> h.toLowerCase().startsWith("anthropic-ratelimit")),
        "the upstream's rate-limit headers feed health, not the client: " + raw.headers().map());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void streamFraming_textAndToolStreams_followTheSurfacesWireRules(Pair p) {
    mock.configure("{\"mock\":{\"tokens\":3}}");
    SdkClient c = client(p);
    for (SdkClient.Ask ask : List.of(new SdkClient.Ask(p.model()).stream(),
        new SdkClient.Ask(p.model()).stream().tools(SdkClient.ToolChoice.NAMED, "get_time"))) {
      HttpResponse<String> raw = c.raw(ask);
      assertEquals(200, raw.statusCode(), raw.body());
      assertTrue(raw.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
      boolean tool = ask.toolChoice != null;
      if (p.surface() == SdkClient.Surface.OPENAI) {
        assertOpenAiFraming(raw.body(), tool);
      } else {
        assertAnthropicFraming(raw.body(), tool);
      }
    }
    if (p.surface() == SdkClient.Surface.OPENAI) {
      // Without include_usage the client gets no usage chunk, though the gateway asks for one upstream.
      HttpResponse<String> raw = c.raw(new SdkClient.Ask(p.model()).stream().withoutUsage());
      assertEquals(200, raw.statusCode(), raw.body());
      assertTrue(raw.body().endsWith("data: [DONE]\n\n"), raw.body());
      assertFalse(raw.body().contains("\"usage\":{"), "no usage chunk unasked: " + raw.body());
      assertFalse(raw.body().contains("\"choices\":[]"), raw.body());
      assertEquals("tok tok tok ", c.send(new SdkClient.Ask(p.model()).stream().withoutUsage()).text());
    }
  }

  static Stream<Pair> anthropicSurfacePairs() {
    return pairs().filter(p -> p.surface() == SdkClient.Surface.ANTHROPIC);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("anthropicSurfacePairs")
  void countTokens_anthropicSurface_upstreamsCountElseTheGatewaysEstimate(Pair p) {
    long counted = ((SdkClient.Anthropic) client(p)).countTokens(p.model());

    assertTrue(counted > 0, "counted " + counted);
    if (p.anthropicUpstream()) {
      JsonNode seen = mock.lastRequest();
      assertEquals("/v1/messages/count_tokens", seen.get("path").asText(), seen.toString());
      assertEquals(UPSTREAM_KEY, seen.get("x_api_key").asText());
      assertNoClientKey(seen);
      JsonNode body = Api.json(seen.get("body").asText());
      assertEquals(p.upstreamModel(), body.get("model").asText());
      // The mock counts (14 + 24 bytes of system and user text) / 4, + 3 for the one message.
      assertEquals((14 + 24) / 4 + 3, counted);
    } else {
      assertEquals(0, mock.stats().get("requests").asInt(), "estimated without asking an OpenAI upstream");
    }
  }

  /** OpenAI: data-only events ending in [DONE]; one finish_reason; the usage chunk (no choices) just before [DONE]. */
  private static void assertOpenAiFraming(String body, boolean tool) {
    List<String> events = new java.util.ArrayList<>();
    for (String e : body.split("\n\n")) {
      if (!e.isBlank()) {
        assertTrue(e.startsWith("data: "), "not a data event: " + e);
        events.add(e.substring(6));
      }
    }
    assertEquals("[DONE]", events.get(events.size() - 1), body);
    JsonNode usage = Api.json(events.get(events.size() - 2));
    assertEquals(0, usage.get("choices").size(), "the usage chunk has no choices: " + usage);
    assertTrue(usage.at("/usage/prompt_tokens").asLong() > 0, usage.toString());
    List<JsonNode> chunks = events.subList(0, events.size() - 2).stream().map(Api::json).toList();
    List<String> finishes = chunks.stream().map(ch -> ch.at("/choices/0/finish_reason"))
        .filter(f -> !f.isMissingNode() && !f.isNull()).map(JsonNode::asText).toList();
    assertEquals(List.of(tool ? "tool_calls" : "stop"), finishes, body);
    JsonNode last = chunks.get(chunks.size() - 1).at("/choices/0");
    assertEquals(tool ? "tool_calls" : "stop", last.get("finish_reason").asText(), "the finish comes last: " + body);
    assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText(), body);
    String id = chunks.get(0).get("id").asText();
    assertTrue(chunks.stream().allMatch(ch -> ch.get("id").asText().equals(id)), "one id per stream: " + body);
    if (tool) {
      assertEquals("get_time", chunks.stream().map(ch -> ch.at("/choices/0/delta/tool_calls/0/function/name"))
          .filter(JsonNode::isTextual).findFirst().orElseThrow().asText(), body);
    }
  }

  /**
   * Anthropic: message_start first and message_stop last; every block opened, then its deltas, then
   * closed; one message_delta, with the stop reason and the usage, after the last block.
   */
  private static void assertAnthropicFraming(String body, boolean tool) {
    List<String> names = new java.util.ArrayList<>();
    List<JsonNode> data = new java.util.ArrayList<>();
    for (String e : body.split("\n\n")) {
      if (e.isBlank()) continue;
      String[] lines = e.split("\n", 2);
      assertTrue(lines[0].startsWith("event: ") && lines.length == 2 && lines[1].startsWith("data: "), e);
      names.add(lines[0].substring(7));
      data.add(Api.json(lines[1].substring(6)));
      assertEquals(names.get(names.size() - 1), data.get(data.size() - 1).get("type").asText(), e);
    }
    assertEquals("message_start", names.get(0), body);
    assertEquals("message_stop", names.get(names.size() - 1), body);
    assertEquals(1, names.stream().filter("message_delta"::equals).count(), body);
    int delta = names.indexOf("message_delta");
    assertEquals(names.size() - 2, delta, "message_delta comes after every block: " + body);
    Integer open = null;
    int blocks = 0;
    for (int i = 1; i < delta; i++) {
      JsonNode d = data.get(i);
      switch (names.get(i)) {
        case "content_block_start" -> {
          assertEquals(null, open, "a block opened inside another: " + body);
          open = d.get("index").asInt();
          assertEquals(blocks++, open, "blocks are numbered from 0: " + body);
        }
        case "content_block_delta" -> assertEquals(open, (Integer) d.get("index").asInt(), body);
        case "content_block_stop" -> {
          assertEquals(open, (Integer) d.get("index").asInt(), body);
          open = null;
        }
        case "ping" -> { }
        default -> throw new AssertionError("unexpected " + names.get(i) + " in " + body);
      }
    }
    assertEquals(null, open, "every block is closed: " + body);
    JsonNode md = data.get(delta);
    assertEquals(tool ? "tool_use" : "end_turn", md.at("/delta/stop_reason").asText(), body);
    assertTrue(md.at("/usage/output_tokens").asLong() > 0, body);
    // An OpenAI upstream tells the prompt's size only at the end: message_delta then carries the input.
    JsonNode input = md.at("/usage/input_tokens").isMissingNode() ? data.get(0).at("/message/usage/input_tokens")
        : md.at("/usage/input_tokens");
    assertTrue(input.asLong() > 0, body);
    if (tool) {
      assertTrue(data.stream().anyMatch(d -> d.at("/content_block/type").asText().equals("tool_use")
          && d.at("/content_block/name").asText().equals("get_time")), body);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void streaming_textRequest_sdkAccumulatesTextStopAndUsage(Pair p) {
    mock.configure("{\"mock\":{\"tokens\":4}}");

    SdkClient.Reply r = client(p).send(new SdkClient.Ask(p.model()).stream());

    assertEquals("tok tok tok tok ", r.text());
    assertEquals("stop", r.finish());
    assertTrue(r.inputTokens() > 0, "usage arrived in the stream: " + r);
    assertEquals(4, r.outputTokens());
    JsonNode seen = upstreamRequest(p);
    JsonNode body = Api.json(seen.get("body").asText());
    assertTrue(body.get("stream").asBoolean());
    if (!p.anthropicUpstream()) {
      assertTrue(body.at("/stream_options/include_usage").asBoolean(), "usage is asked for, to be charged: " + body);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void systemPrompt_givenBySurface_arrivesInTheUpstreamsForm(Pair p) {
    SdkClient.Reply r = client(p).send(new SdkClient.Ask(p.model()).system("You are terse."));

    assertEquals("stop", r.finish());
    JsonNode body = upstreamBody(p);
    if (p.anthropicUpstream()) {
      assertEquals("You are terse.", text(body.get("system")), "system lifted to the top level: " + body);
      assertEquals(1, body.get("messages").size());
      assertEquals("user", body.at("/messages/0/role").asText());
    } else {
      assertEquals(2, body.get("messages").size(), body.toString());
      assertEquals("system", body.at("/messages/0/role").asText());
      assertEquals("You are terse.", text(body.at("/messages/0/content")));
      assertEquals("user", body.at("/messages/1/role").asText());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void toolsAuto_modelCallsTool_sdkParsesTheCallWholeAndStreamed(Pair p) {
    mock.configure("{\"mock\":{\"tool_use\":true}}");
    for (boolean stream : List.of(false, true)) {
      SdkClient.Ask ask = new SdkClient.Ask(p.model()).tools(SdkClient.ToolChoice.AUTO, null);
      SdkClient.Reply r = client(p).send(stream ? ask.stream() : ask);

      assertEquals("tool_calls", r.finish(), r.toString());
      assertEquals(1, r.calls().size(), r.toString());
      assertEquals("get_weather", r.calls().get(0).name());
      assertEquals(Api.json("{\"city\":\"mock\",\"unit\":\"celsius\"}"), r.calls().get(0).arguments());
      assertFalse(r.calls().get(0).id().isEmpty());
      JsonNode body = upstreamBody(p);
      assertToolsMapped(p, body);
      if (p.anthropicUpstream()) {
        assertEquals("auto", body.at("/tool_choice/type").asText(), body.toString());
      } else {
        assertEquals("auto", body.get("tool_choice").asText(), body.toString());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void toolsRequired_modelMustCallATool_firstToolCalledWholeAndStreamed(Pair p) {
    for (boolean stream : List.of(false, true)) {
      SdkClient.Ask ask = new SdkClient.Ask(p.model()).tools(SdkClient.ToolChoice.REQUIRED, null);
      SdkClient.Reply r = client(p).send(stream ? ask.stream() : ask);

      assertEquals("tool_calls", r.finish(), r.toString());
      assertEquals(List.of("get_weather"), r.calls().stream().map(SdkClient.Call::name).toList());
      assertEquals("", r.text(), "a forced call comes without text");
      JsonNode body = upstreamBody(p);
      assertToolsMapped(p, body);
      if (p.anthropicUpstream()) {
        assertEquals("any", body.at("/tool_choice/type").asText(), body.toString());
      } else {
        assertEquals("required", body.get("tool_choice").asText(), body.toString());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void namedTool_modelMustCallThatTool_thatToolCalledWholeAndStreamed(Pair p) {
    for (boolean stream : List.of(false, true)) {
      SdkClient.Ask ask = new SdkClient.Ask(p.model()).tools(SdkClient.ToolChoice.NAMED, "get_time");
      SdkClient.Reply r = client(p).send(stream ? ask.stream() : ask);

      assertEquals("tool_calls", r.finish(), r.toString());
      assertEquals(1, r.calls().size(), r.toString());
      assertEquals("get_time", r.calls().get(0).name());
      assertEquals(Api.json("{\"zone\":\"mock\"}"), r.calls().get(0).arguments());
      JsonNode body = upstreamBody(p);
      assertToolsMapped(p, body);
      if (p.anthropicUpstream()) {
        assertEquals("tool", body.at("/tool_choice/type").asText(), body.toString());
        assertEquals("get_time", body.at("/tool_choice/name").asText());
      } else {
        assertEquals("function", body.at("/tool_choice/type").asText(), body.toString());
        assertEquals("get_time", body.at("/tool_choice/function/name").asText());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void toolResultTurn_previousCallAndItsResult_sentAsTheUpstreamsBlocks(Pair p) {
    SdkClient.Reply r = client(p).send(new SdkClient.Ask(p.model()).tools(SdkClient.ToolChoice.AUTO, null).toolTurn());

    assertEquals("tok tok tok ", r.text());
    assertEquals("stop", r.finish());
    JsonNode body = upstreamBody(p);
    JsonNode messages = body.get("messages");
    assertEquals(3, messages.size(), body.toString());
    String callId = SdkClient.PREVIOUS_CALL_ID;
    if (p.anthropicUpstream()) {
      JsonNode use = messages.at("/1/content/0");
      assertEquals("assistant", messages.at("/1/role").asText());
      assertEquals("tool_use", use.get("type").asText(), body.toString());
      assertEquals(callId, use.get("id").asText(), "the call's id is kept");
      assertEquals("get_weather", use.get("name").asText());
      assertEquals(Api.json("{\"city\":\"Paris\"}"), use.get("input"));
      JsonNode result = messages.at("/2/content/0");
      assertEquals("user", messages.at("/2/role").asText());
      assertEquals("tool_result", result.get("type").asText(), body.toString());
      assertEquals(callId, result.get("tool_use_id").asText());
      assertEquals(SdkClient.TOOL_RESULT, text(result.get("content")));
    } else {
      JsonNode call = messages.at("/1/tool_calls/0");
      assertEquals("assistant", messages.at("/1/role").asText());
      assertEquals(callId, call.get("id").asText(), body.toString());
      assertEquals("function", call.get("type").asText());
      assertEquals("get_weather", call.at("/function/name").asText());
      assertEquals(Api.json("{\"city\":\"Paris\"}"), Api.json(call.at("/function/arguments").asText()));
      assertEquals("tool", messages.at("/2/role").asText(), body.toString());
      assertEquals(callId, messages.at("/2/tool_call_id").asText());
      assertEquals(SdkClient.TOOL_RESULT, text(messages.at("/2/content")));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void image_base64AndUrl_sentAsTheUpstreamsImageSources(Pair p) {
    client(p).send(new SdkClient.Ask(p.model()).image(SdkClient.Image.BASE64));
    JsonNode base64 = imagePart(p, upstreamBody(p));
    client.send(new SdkClient.Ask(p.model()).image(SdkClient.Image.URL));
    JsonNode url = imagePart(p, upstreamBody(p));

    if (p.anthropicUpstream()) {
      assertEquals("base64", base64.at("/source/type").asText(), base64.toString());
      assertEquals("image/png", base64.at("/source/media_type").asText());
      assertEquals(PNG_BASE64, base64.at("/source/data").asText());
      assertEquals("url", url.at("/source/type").asText(), url.toString());
      assertEquals(IMAGE_URL, url.at("/source/url").asText());
    } else {
      assertEquals("data:image/png;base64," + PNG_BASE64, base64.at("/image_url/url").asText(), base64.toString());
      assertEquals(IMAGE_URL, url.at("/image_url/url").asText(), url.toString());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void maxTokensReached_textCut_finishLengthWholeAndStreamed(Pair p) {
    mock.configure("{\"mock\":{\"tokens\":5}}");
    for (boolean stream : List.of(false, true)) {
      SdkClient.Ask ask = new SdkClient.Ask(p.model()).maxTokens(2);
      SdkClient.Reply r = client(p).send(stream ? ask.stream() : ask);

      assertEquals("length", r.finish(), r.toString());
      assertEquals("tok tok ", r.text());
      assertEquals(2, r.outputTokens());
      JsonNode body = upstreamBody(p);
      long sent = body.has("max_tokens") ? body.get("max_tokens").asLong() : body.path("max_completion_tokens").asLong();
      assertEquals(2, sent, body.toString());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void badUpstreamKey_upstreamRefuses_clientGets401InItsEnvelopeAndTenantCircuitOpens(Pair p) {
    int threshold = 3; // sluice.circuit.threshold
    for (int i = 0; i < threshold - 1; i++) {
      SdkClient.Failure f = client(p).fail(new SdkClient.Ask(p.badKeyModel()));
      assertEquals(401, f.status(), f.toString());
      assertEquals("UnauthorizedException", f.exception().getClass().getSimpleName());
      if (p.surface() == SdkClient.Surface.ANTHROPIC) {
        assertEquals("authentication_error", f.type());
      }
      assertFalse(f.message().contains(WRONG_KEY), "the upstream key is redacted: " + f.message());
    }
    HttpResponse<String> raw = client.raw(new SdkClient.Ask(p.badKeyModel()));
    assertEquals(401, raw.statusCode(), raw.body());
    assertEnvelope(p, raw);
    assertFalse(raw.body().contains(WRONG_KEY), raw.body());
    JsonNode seen = mock.lastRequest();
    if (p.anthropicUpstream()) {
      assertEquals(WRONG_KEY, seen.get("x_api_key").asText());
    } else {
      assertEquals("Bearer " + WRONG_KEY, seen.get("authorization").asText());
    }
    assertNoClientKey(seen);
    // The tenant's circuit for the deployment opens; its requests then are not sent upstream at all.
    String badDeployment = p.badKeyModel() + "-1";
    await("tenant circuit open").atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      SdkClient.Failure f = client.fail(new SdkClient.Ask(p.badKeyModel()));
      assertEquals(503, f.status(), f.toString());
    });
    int upstreamCalls = mock.stats().get("requests").asInt();
    assertEquals(503, client.fail(new SdkClient.Ask(p.badKeyModel())).status());
    assertEquals(upstreamCalls, mock.stats().get("requests").asInt(), "no request reaches the refused upstream");
    JsonNode circuit = circuit(tenant, badDeployment);
    assertEquals("open", circuit.get("status").asText(), circuit.toString());
    assertEquals(401, circuit.get("last_status").asInt());
    // An auth refusal is the tenant's, not the deployment's health: another tenant still reaches it.
    String other = Fixtures.tenant("conf-other");
    String otherKey = Api.tenantWithKey(node, other, null);
    try (SdkClient otherClient = SdkClient.of(p.surface(), node.url(""), otherKey)) {
      assertEquals(401, otherClient.fail(new SdkClient.Ask(p.badKeyModel())).status());
    }
    assertEquals(upstreamCalls + 1, mock.stats().get("requests").asInt());
    assertEquals("closed", circuit(other, badDeployment).get("status").asText());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void rateLimited_429WithRetryAfter_retriedThenClientGets429WithRetryAfterInItsEnvelope(Pair p) {
    mock.configure("{\"mock\":{\"status\":429,\"retry_after\":1}}");

    SdkClient.Failure f = client(p).fail(new SdkClient.Ask(p.model()));

    assertEquals(429, f.status(), f.toString());
    assertEquals("RateLimitException", f.exception().getClass().getSimpleName());
    if (p.surface() == SdkClient.Surface.ANTHROPIC) {
      assertEquals("rate_limit_error", f.type());
    }
    assertEquals(3, mock.stats().get("requests").asInt(), "max-attempts = 3, each after the Retry-After");
    // Three 429s opened this tenant's circuit for the deployment; the exact headers are seen on another.
    await("tenant circuit open").atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertEquals("open", circuit(tenant, p.deployment()).get("status").asText()));
    HttpResponse<String> raw;
    try (SdkClient other = SdkClient.of(p.surface(), node.url(""), Api.tenantWithKey(node, Fixtures.tenant("conf-429"),
        null))) {
      raw = other.raw(new SdkClient.Ask(p.model()));
    }
    assertEquals(429, raw.statusCode(), raw.body());
    assertEquals("1", raw.headers().firstValue("retry-after").orElse(null), raw.headers().map().toString());
    assertNotEquals("false", raw.headers().firstValue("x-should-retry").orElse(""), "a rate is worth retrying");
    assertEnvelope(p, raw);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void overloaded529_thenSuccess_retriedAndServed(Pair p) {
    mock.configure("{\"script\":[529,200]}");

    SdkClient.Reply r = client(p).send(new SdkClient.Ask(p.model()));

    assertEquals("tok tok tok ", r.text());
    assertEquals(2, mock.stats().get("requests").asInt(), "the 529 was retried");

    mock.configure("{\"script\":[529,529,529]}");
    SdkClient.Failure f = client.fail(new SdkClient.Ask(p.model()));
    assertTrue(f.status() >= 500 && f.status() <= 599, f.toString());
    if (p.surface() == SdkClient.Surface.ANTHROPIC) {
      assertTrue(List.of("api_error", "overloaded_error").contains(f.type()), f.toString());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void streamDiesMidway_upstreamClosesConnection_clientStreamEndsWithItsErrorEvent(Pair p) {
    mock.configure("{\"mock\":{\"tokens\":5,\"fail_after_tokens\":2}}");

    // Repeated: whether the cut arrives with the last deltas or after them is up to the sockets,
    // so one cut cannot show that every delta sent before it reaches the client.
    SdkClient c = client(p);
    for (int i = 0; i < CUTS; i++) {
      SdkClient.StreamFailure f = c.failStreaming(new SdkClient.Ask(p.model()).stream());

      assertEquals("SseException", f.exception().getClass().getSimpleName(), f.toString());
      assertEquals(2, f.contentEvents(), "cut " + i + ": the deltas before the cut reached the client");
      if (p.surface() == SdkClient.Surface.ANTHROPIC) {
        assertEquals("api_error", f.type(), f.toString());
      } else {
        assertTrue(f.type() != null && !f.type().isEmpty(), "the error event has a type: " + f);
      }
    }
    await("usage settled").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode day = usage(tenant).at("/windows/day");
      assertEquals(CUTS, day.at("/requests/used").asLong(), day.toString());
      assertTrue(day.at("/completion_tokens/used").asLong() >= 2L * CUTS, "the delivered deltas are charged: " + day);
    });
    if (p.anthropicUpstream()) {
      // Anthropic's own mid-stream error event is passed on as the surface's error event.
      mock.configure("{\"mock\":{\"tokens\":5,\"error_after_tokens\":3,\"error_type\":\"overloaded_error\"}}");
      SdkClient.StreamFailure e = client.failStreaming(new SdkClient.Ask(p.model()).stream());
      assertEquals("SseException", e.exception().getClass().getSimpleName(), e.toString());
      assertEquals(3, e.contentEvents());
      assertEquals("overloaded_error", e.type(), "the upstream's error type is kept: " + e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void clientCancelsStream_afterThreeDeltas_generatedTokensStillCharged(Pair p) {
    mock.configure("{\"mock\":{\"tokens\":60,\"inter_token_ms\":50}}");

    int received = client(p).readThenCancel(new SdkClient.Ask(p.model()).maxTokens(100).stream(), 3);

    assertEquals(3, received);
    await("upstream stream cancelled").atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(1, mock.stats().get("cancelled_streams").asInt(), mock.stats().toString()));
    await("usage settled").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode day = usage(tenant).at("/windows/day");
      assertEquals(1, day.at("/requests/used").asLong(), day.toString());
      assertTrue(day.at("/prompt_tokens/used").asLong() > 0, day.toString());
      assertTrue(day.at("/completion_tokens/used").asLong() >= received, "generated tokens charged: " + day);
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void usage_reportedByUpstream_chargedExactlyWholeAndStreamed(Pair p) {
    mock.configure("{\"mock\":{\"usage\":{\"input_tokens\":123,\"output_tokens\":45,"
        + "\"cache_creation_input_tokens\":6,\"cache_read_input_tokens\":7}}}");
    // An OpenAI upstream reports prompt_tokens only; Anthropic's prompt is input + cache creation + cache read.
    long prompt = p.anthropicUpstream() ? 123 + 6 + 7 : 123;

    for (boolean stream : List.of(false, true)) {
      SdkClient.Ask ask = new SdkClient.Ask(p.model());
      SdkClient.Reply r = client(p).send(stream ? ask.stream() : ask);
      assertEquals(45, r.outputTokens(), r.toString());
      if (p.surface() == SdkClient.Surface.OPENAI) {
        assertEquals(prompt, r.inputTokens(), r.toString());
      } else if (p.anthropicUpstream()) {
        assertEquals(123, r.inputTokens(), r.toString());
        assertEquals(6, r.cacheCreation());
        assertEquals(7, r.cacheRead());
      } else {
        assertEquals(prompt, r.inputTokens() + r.cacheCreation() + r.cacheRead(), r.toString());
      }
    }
    await("usage settled").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode day = usage(tenant).at("/windows/day");
      assertEquals(2, day.at("/requests/used").asLong(), day.toString());
      assertEquals(2 * prompt, day.at("/prompt_tokens/used").asLong(), day.toString());
      assertEquals(2 * 45, day.at("/completion_tokens/used").asLong(), day.toString());
      assertEquals(2 * (prompt * 1000 + 45 * 2000) / 1e6, day.at("/cost_usd/used").asDouble(), 1e-9, day.toString());
    });
  }

  // ---------------------------------------------------------------- helpers

  /** The last request the mock received; it must have gone to the pair's upstream path without the client's key. */
  private JsonNode upstreamRequest(Pair p) {
    JsonNode seen = mock.lastRequest();
    assertEquals(p.upstreamPath(), seen.get("path").asText(), seen.toString());
    if (p.anthropicUpstream()) {
      assertEquals(UPSTREAM_KEY, seen.get("x_api_key").asText(), "the deployment's key as x-api-key");
      assertEquals("2023-06-01", seen.get("anthropic_version").asText());
    } else {
      assertEquals("Bearer " + UPSTREAM_KEY, seen.get("authorization").asText());
    }
    assertNoClientKey(seen);
    return seen;
  }

  private JsonNode upstreamBody(Pair p) {
    return Api.json(upstreamRequest(p).get("body").asText());
  }

  private void assertNoClientKey(JsonNode seen) {
    assertFalse(seen.toString().contains(key), "the client's Sluice key never goes upstream: " + seen);
  }

  private static void assertToolsMapped(Pair p, JsonNode body) {
    JsonNode tools = body.get("tools");
    assertEquals(2, tools.size(), body.toString());
    if (p.anthropicUpstream()) {
      assertEquals("get_weather", tools.at("/0/name").asText(), tools.toString());
      assertEquals(SdkClient.WEATHER_DESCRIPTION, tools.at("/0/description").asText());
      assertEquals("object", tools.at("/0/input_schema/type").asText());
      assertEquals("string", tools.at("/0/input_schema/properties/city/type").asText());
      assertEquals("get_time", tools.at("/1/name").asText());
    } else {
      assertEquals("function", tools.at("/0/type").asText(), tools.toString());
      assertEquals("get_weather", tools.at("/0/function/name").asText());
      assertEquals(SdkClient.WEATHER_DESCRIPTION, tools.at("/0/function/description").asText());
      assertEquals("string", tools.at("/0/function/parameters/properties/city/type").asText());
      assertEquals("get_time", tools.at("/1/function/name").asText());
    }
  }

  /** The image part of the one user message. */
  private static JsonNode imagePart(Pair p, JsonNode body) {
    for (JsonNode part : body.at("/messages/0/content")) {
      if (part.path("type").asText().equals(p.anthropicUpstream() ? "image" : "image_url")) {
        return part;
      }
    }
    throw new AssertionError("no image in " + body);
  }

  /** A content value as text: a string, or the joined text of its parts. */
  private static String text(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode part : content) {
      sb.append(part.path("text").asText());
    }
    return sb.toString();
  }

  private static String userText(JsonNode message) {
    return text(message.get("content"));
  }

  /** The error body is in the envelope of the client's surface. */
  private static void assertEnvelope(Pair p, HttpResponse<String> raw) {
    JsonNode body = Api.json(raw.body());
    if (p.surface() == SdkClient.Surface.OPENAI) {
      assertTrue(body.at("/error/message").isTextual(), raw.body());
      assertTrue(body.at("/error").has("type"), raw.body());
      assertFalse(body.has("type"), raw.body());
    } else {
      assertEquals("error", body.get("type").asText(), raw.body());
      assertTrue(body.at("/error/type").isTextual(), raw.body());
      assertTrue(body.at("/error/message").isTextual(), raw.body());
    }
  }

  private static JsonNode usage(String tenant) {
    HttpResponse<String> r = Api.admin(node, "GET", "/admin/v1/tenants/" + tenant + "/usage", null);
    assertEquals(200, r.statusCode(), r.body());
    return Api.json(r.body());
  }

  private static JsonNode circuit(String tenant, String deployment) {
    JsonNode list = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + tenant + "/circuits", null).body());
    for (JsonNode c : list.get("data")) {
      if (c.get("deployment").asText().equals(deployment)) {
        return c;
      }
    }
    throw new AssertionError(deployment + " not in " + list);
  }
}
