package io.sluice.node.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.admission.Admission;
import io.sluice.node.admission.AdmissionProbe;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.auth.TenantView;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.StreamTap;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.provider.UpstreamFailure;
import io.sluice.node.provider.openai.OpenAiAdapter;
import io.sluice.node.routing.Backoff;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.LeastLoaded;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.RetryPolicy;
import io.sluice.node.routing.RoutePlanner;
import io.sluice.node.routing.RoutingSettings;
import io.sluice.node.routing.RoutingStrategy;
import io.sluice.node.routing.WeightedRandom;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.util.Stages;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.testkit.ExplicitlyTriggeredScheduler;
import org.apache.pekko.util.ByteString;

/**
 * One pipeline over fakes for {@link InferencePipelineTest}: a scriptable provider adapter of a
 * made-up wire protocol (JSON whole bodies, a line protocol for streams), an upstream that answers
 * from a script, a nano clock and a wall clock the test moves by hand, and a scheduler that runs
 * only when told; the real OpenAI adapter serves deployments of {@code provider = openai}; everything else is real (deployment states, planner, retry policy, gate and
 * admission on the test's one-node cluster).
 */
final class PipelineRig {
  static final String MODEL = "m";
  /** What every fake request estimates as its prompt, and asks as its output limit. */
  static final long PROMPT_ESTIMATE = 11;
  static final long MAX_TOKENS = 50;

  /** The health settings of every rig: three failures eject, for 10 s, then a probe may go. */
  static final HealthSettings HEALTH = new HealthSettings(3, 0.5, Duration.ofSeconds(10), 10, 100,
      Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(30));

  final ManualNanos nanos = new ManualNanos();
  final ManualWall wall = new ManualWall();
  final ExplicitlyTriggeredScheduler scheduler;
  final FakeUpstream upstream = new FakeUpstream();
  final FakeAdapter same = new FakeAdapter("fake-same", Protocol.OPENAI);
  final FakeAdapter other = new FakeAdapter("fake-other", Protocol.ANTHROPIC);
  final RecordingCircuits circuits = new RecordingCircuits();
  final ModelCatalog catalog;
  final DeploymentStates states;
  final InferencePipeline pipeline;
  final Admission admission;
  final ActorSystem<?> system;
  final Materializer materializer;
  final int maxAttempts;

  /**
   * @param backoff the wait before a retry with no Retry-After (ZERO for none)
   * @param deployments the model's deployments, tried in priority order
   */
  PipelineRig(ActorSystem<?> system, Admission admission, QuotaSettings quota, int maxAttempts, Duration backoff,
      List<Deployment> deployments) {
    this.system = system;
    this.admission = admission;
    this.maxAttempts = maxAttempts;
    this.materializer = Materializer.matFromSystem(system);
    this.scheduler = new ExplicitlyTriggeredScheduler(com.typesafe.config.ConfigFactory.empty(),
        system.classicSystem().log(), Thread::new);
    this.catalog = new ModelCatalog(Map.of(MODEL, new ModelCatalog.Model(MODEL, BigDecimal.ONE, BigDecimal.TEN,
        deployments)));
    // A backoff of zero is a jitter of 1 with a random source that always draws 0; otherwise no jitter.
    boolean zero = backoff.isZero();
    Duration initial = zero ? Duration.ofMillis(100) : backoff;
    RoutingSettings routing = new RoutingSettings(maxAttempts, Duration.ofSeconds(60),
        new RoutingSettings.BackoffSettings(initial, initial.multipliedBy(4), 2, zero ? 1 : 0),
        Duration.ofSeconds(10), Duration.ofMillis(100));
    RandomGenerator random = () -> 0L;
    this.states = DeploymentStates.create(catalog, routing, HEALTH, wall, nanos);
    RoutePlanner planner = new RoutePlanner(catalog, routing, Map.of(
        RoutingStrategy.WEIGHTED, new WeightedRandom(random),
        RoutingStrategy.LATENCY, new LeastLoaded(random, states::cost)));
    RetryPolicy retries = new RetryPolicy(routing, new Backoff(routing.backoff(), random));
    Map<String, ProviderAdapter> adapters = Map.of(same.provider(), same, other.provider(), other, "openai",
        new OpenAiAdapter());
    KeyDirectory directory = new KeyDirectory(id -> CompletableFuture.failedFuture(
        new IllegalStateException("the pipeline's tests do not authenticate")), Duration.ofSeconds(1), 10, Duration.ofSeconds(1));
    Gate gate = new Gate(directory, catalog, admission, quota);
    this.pipeline = new InferencePipeline(gate,
        new InferencePipeline.Routing(adapters, upstream, planner, retries, states, circuits, routing.deadline()),
        new GatewayMetrics(states),
        new InferencePipeline.Runtime(scheduler, system.executionContext(), materializer, nanos));
  }

  /** A deployment of {@code provider} at {@code priority} (lower first), with its own key. */
  static Deployment deployment(String name, String provider, int priority, int maxConcurrent) {
    return new Deployment(name, provider, "http://127.0.0.1:9/" + name, name + "-upstream", "sk-up-" + name, 1,
        priority, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(120), 4, 16, maxConcurrent, null,
        Map.of());
  }

  Deployment get(String name) {
    return states.all().get(name).deployment();
  }

  DeploymentStates.State state(String name) {
    return states.all().get(name);
  }

  /** Runs one request of {@code view}'s tenant, deadline 60 s from now on the rig's clock. */
  CompletionStage<Outcome> infer(TenantView view, ClientBody body) {
    return infer(view, body, nanos.getAsLong() + Duration.ofSeconds(60).toNanos(), null);
  }

  CompletionStage<Outcome> infer(TenantView view, ClientBody body, long deadlineNanos, String pinned) {
    return pipeline.infer(view, new Call(body, name -> null),
        new Controls("req-" + nanos.getAsLong(), maxAttempts, deadlineNanos, pinned), nanos.getAsLong());
  }

  /** Ejects {@code name} on this node's health: as many counting failures as eject it. */
  void eject(String name) {
    var health = state(name).health();
    for (int i = 0; i < HEALTH.consecutiveFailures(); i++) {
      health.onError(health.tryAcquire(), ErrorClass.SERVER);
    }
  }

  /** Ejects {@code name}, then lets its ejection run out: the next request to it is the one probe. */
  void halfOpen(String name) {
    eject(name);
    wall.advance(HEALTH.baseEjection().plusMillis(1));
  }

  /** Moves the wall clock past any ejection, so that a deployment takes a probe again. */
  void pastEjections() {
    wall.advance(HEALTH.maxEjection().plusSeconds(1));
  }

  UsageCounters used(String tenantId) {
    return AdmissionProbe.used(admission, tenantId, WindowKind.DAY);
  }

  // ---- the upstream's answers ----

  static HttpResponse json(int status, String body, HttpHeader... headers) {
    return HttpResponse.create().withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body)).addHeaders(List.of(headers));
  }

  static HttpResponse streamed(int status, Source<ByteString, ?> body) {
    return HttpResponse.create().withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), body));
  }

  /** A streamed body of these line-protocol events, each a chunk of its own. */
  static Source<ByteString, ?> lines(String... events) {
    List<ByteString> chunks = new ArrayList<>();
    for (String e : events) {
      chunks.add(ByteString.fromString(e + "\n"));
    }
    return Source.from(chunks);
  }

  /**
   * A streamed body of these events that then fails, as a connection reset midway does. (The
   * failure is made lazily: a failed source concatenated as it is fails the whole at once.)
   */
  static Source<ByteString, ?> cut(String... events) {
    return lines(events).concatLazy(Source.lazySource(() -> Source.<ByteString>failed(
        new UpstreamFailure(UpstreamFailure.Kind.CONNECT, "a", "connection reset"))));
  }

  static Function<Sent, CompletionStage<HttpResponse>> answer(HttpResponse response) {
    return s -> CompletableFuture.completedFuture(response);
  }

  static Function<Sent, CompletionStage<HttpResponse>> fail(UpstreamFailure.Kind kind) {
    return s -> CompletableFuture.failedFuture(new UpstreamFailure(kind, s.d().name(), kind + " in the test"));
  }

  /**
   * No answer: as the real client does, the exchange fails with a timeout once the first-byte
   * timeout it was given has passed on the rig's scheduler.
   */
  Function<Sent, CompletionStage<HttpResponse>> silent() {
    return s -> Stages.after(scheduler, s.firstByte(), system.executionContext())
        .thenCompose(v -> CompletableFuture.failedFuture(
            new UpstreamFailure(UpstreamFailure.Kind.TIMEOUT, s.d().name(), "no first byte in " + s.firstByte())));
  }

  // ---- fakes ----

  /** One request as the upstream received it. */
  record Sent(Deployment d, HttpRequest request, Duration firstByte, Duration total, boolean streamed) {}

  /** An upstream that answers each request with the next step of its script. */
  static final class FakeUpstream implements Upstream {
    final ConcurrentLinkedDeque<Function<Sent, CompletionStage<HttpResponse>>> script = new ConcurrentLinkedDeque<>();
    final List<Sent> sent = new CopyOnWriteArrayList<>();
    /** When set, sending throws this at once instead of answering (a broken client). */
    volatile RuntimeException throwOnSend;

    void then(Function<Sent, CompletionStage<HttpResponse>> step) {
      script.add(step);
    }

    @Override
    public CompletionStage<HttpResponse> sendWhole(Deployment d, HttpRequest request, Duration firstByte,
        Duration total) {
      return send(new Sent(d, request, firstByte, total, false));
    }

    @Override
    public CompletionStage<HttpResponse> sendStreamed(Deployment d, HttpRequest request, Duration firstByte) {
      return send(new Sent(d, request, firstByte, null, true));
    }

    private CompletionStage<HttpResponse> send(Sent s) {
      sent.add(s);
      if (throwOnSend != null) {
        throw throwOnSend;
      }
      Function<Sent, CompletionStage<HttpResponse>> step = script.poll();
      if (step == null) {
        throw new AssertionError("the upstream's script has no answer for request " + sent.size() + " to "
            + s.d().name());
      }
      return step.apply(s);
    }

    List<String> deployments() {
      return sent.stream().map(s -> s.d().name()).toList();
    }
  }

  /** The places where {@link FakeAdapter} can be told to fail. */
  enum Fault {
    REQUEST_INVALID, REQUEST_THROWS, ERROR_THROWS, RETRY_AFTER_THROWS, USAGE_THROWS, DECODE_INVALID, DECODE_THROWS,
    TAP_THROWS, TAP_CHUNK_THROWS, TAP_FLUSH_THROWS, DECODER_THROWS, DECODER_CHUNK_THROWS, DECODER_END_THROWS
  }

  /**
   * A provider of a made-up protocol. Whole bodies are JSON: {@code {"text", "usage": {"prompt",
   * "completion"}}}, errors {@code {"type", "code", "param", "message"}}. Streams are lines:
   * {@code t:<text>} carries generated text, {@code u:<prompt>,<completion>} the usage so far.
   * Each {@link Fault} set makes one of its methods throw.
   */
  static final class FakeAdapter implements ProviderAdapter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String provider;
    private final Protocol protocol;
    final Set<Fault> faults = Collections.synchronizedSet(EnumSet.noneOf(Fault.class));

    FakeAdapter(String provider, Protocol protocol) {
      this.provider = provider;
      this.protocol = protocol;
    }

    private void maybe(Fault f) {
      if (faults.contains(f)) {
        throw new IllegalStateException("injected: " + f);
      }
    }

    @Override
    public String provider() {
      return provider;
    }

    @Override
    public Protocol protocol() {
      return protocol;
    }

    @Override
    public HttpRequest request(Deployment d, Call call) throws InvalidChat {
      if (faults.contains(Fault.REQUEST_INVALID)) {
        throw new InvalidChat("This provider cannot express the request.", "messages.0.content");
      }
      maybe(Fault.REQUEST_THROWS);
      byte[] body = protocol == call.body().protocol() ? call.body().passthrough(d.upstreamModel())
          : ("translated " + d.upstreamModel() + " " + call.body().chat().messages().size())
              .getBytes(StandardCharsets.UTF_8);
      return HttpRequest.create(d.baseUrl() + "/generate").withMethod(HttpMethods.POST)
          .addHeader(RawHeader.create("authorization", "Bearer " + d.apiKey()))
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
    }

    @Override
    public UpstreamError error(int status, ByteString body) {
      maybe(Fault.ERROR_THROWS);
      JsonNode n = tree(body);
      return new UpstreamError(status, ErrorClass.classify(status), text(n, "type"), text(n, "code"),
          n.hasNonNull("message") ? n.get("message").asText() : "HTTP " + status, text(n, "param"));
    }

    @Override
    public Optional<Duration> retryAfter(Function<String, Optional<String>> header, Instant now) {
      maybe(Fault.RETRY_AFTER_THROWS);
      return ProviderAdapter.super.retryAfter(header, now);
    }

    @Override
    public Usage usage(ByteString body) {
      maybe(Fault.USAGE_THROWS);
      return usageOf(tree(body));
    }

    @Override
    public ChatResponse decode(ByteString body) throws InvalidChat {
      if (faults.contains(Fault.DECODE_INVALID)) {
        throw new InvalidChat("not a response of this protocol", null);
      }
      maybe(Fault.DECODE_THROWS);
      JsonNode n = tree(body);
      if (!n.hasNonNull("text")) {
        throw new InvalidChat("no text", null);
      }
      return new ChatResponse("resp-1", "upstream", List.of(new Part.Text(n.get("text").asText())),
          FinishReason.STOP, usageOf(n));
    }

    @Override
    public StreamTap tap(boolean clientWantsUsage) {
      maybe(Fault.TAP_THROWS);
      return new LineTap(clientWantsUsage);
    }

    @Override
    public StreamDecoder decoder() {
      maybe(Fault.DECODER_THROWS);
      return new LineDecoder();
    }

    private static JsonNode tree(ByteString body) {
      try {
        JsonNode n = body.isEmpty() ? null : JSON.readTree(body.toArray());
        return n == null ? JSON.createObjectNode() : n;
      } catch (IOException e) {
        return JSON.createObjectNode();
      }
    }

    private static String text(JsonNode n, String field) {
      return n.hasNonNull(field) ? n.get(field).asText() : null;
    }

    private static Usage usageOf(JsonNode n) {
      JsonNode u = n.get("usage");
      return u == null || u.isNull() ? null : Usage.of(u.get("prompt").asLong(), u.get("completion").asLong());
    }

    /** The usage of a {@code u:} line. */
    static Usage usageLine(String line) {
      String[] pc = line.substring(2).split(",");
      return Usage.of(Long.parseLong(pc[0]), Long.parseLong(pc[1]));
    }

    /** Passes whole lines on; reads the usage and counts the text lines. */
    final class LineTap implements StreamTap {
      private final boolean clientWantsUsage;
      private final StringBuilder pending = new StringBuilder();
      private volatile Usage usage;
      private volatile long content;

      LineTap(boolean clientWantsUsage) {
        this.clientWantsUsage = clientWantsUsage;
      }

      @Override
      public ByteString onChunk(ByteString chunk) {
        maybe(Fault.TAP_CHUNK_THROWS);
        pending.append(chunk.utf8String());
        StringBuilder out = new StringBuilder();
        int nl;
        while ((nl = pending.indexOf("\n")) >= 0) {
          String line = pending.substring(0, nl);
          pending.delete(0, nl + 1);
          if (line.startsWith("u:")) {
            usage = usageLine(line);
            if (!clientWantsUsage) {
              continue;
            }
          } else if (line.startsWith("t:")) {
            content++;
          }
          out.append(line).append('\n');
        }
        return ByteString.fromString(out.toString());
      }

      @Override
      public ByteString flush() {
        maybe(Fault.TAP_FLUSH_THROWS);
        String rest = pending.toString();
        pending.setLength(0);
        return ByteString.fromString(rest);
      }

      @Override
      public Usage usage() {
        return usage;
      }

      @Override
      public long contentChunks() {
        return content;
      }
    }

    /** Decodes lines into neutral events; the end of the body finishes the response. */
    final class LineDecoder implements StreamDecoder {
      private final StringBuilder pending = new StringBuilder();

      @Override
      public List<ChatEvent> decode(ByteString chunk) {
        maybe(Fault.DECODER_CHUNK_THROWS);
        pending.append(chunk.utf8String());
        List<ChatEvent> events = new ArrayList<>();
        int nl;
        while ((nl = pending.indexOf("\n")) >= 0) {
          String line = pending.substring(0, nl);
          pending.delete(0, nl + 1);
          if (line.startsWith("u:")) {
            events.add(new ChatEvent.UsageReported(usageLine(line)));
          } else if (line.startsWith("t:")) {
            events.add(new ChatEvent.TextDelta(line.substring(2)));
          }
        }
        return events;
      }

      @Override
      public List<ChatEvent> end() {
        maybe(Fault.DECODER_END_THROWS);
        return List.of(new ChatEvent.Finished(FinishReason.STOP));
      }
    }
  }

  /** A client body as a surface would scan it; its bytes are a marker the fake adapter forwards. */
  record FakeBody(Protocol protocol, boolean stream, boolean includeUsage) implements ClientBody {
    static FakeBody whole() {
      return new FakeBody(Protocol.OPENAI, false, false);
    }

    static FakeBody streaming(boolean includeUsage) {
      return new FakeBody(Protocol.OPENAI, true, includeUsage);
    }

    @Override
    public Operation operation() {
      return Operation.CHAT;
    }

    @Override
    public String model() {
      return MODEL;
    }

    @Override
    public long maxTokens() {
      return MAX_TOKENS;
    }

    @Override
    public long promptTokens() {
      return PROMPT_ESTIMATE;
    }

    @Override
    public byte[] passthrough(String upstreamModel) {
      return ("{\"model\":\"" + upstreamModel + "\",\"stream\":" + stream + "}").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public ChatRequest chat() {
      return new ChatRequest(MODEL, List.of(), List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))),
          List.of(), null, MAX_TOKENS, null, null, List.of(), stream, includeUsage);
    }
  }

  /** Circuit reports kept for the test instead of told to the tenant's entity. */
  static final class RecordingCircuits extends CircuitReports {
    final List<TenantCommand.ReportUpstream> reports = new CopyOnWriteArrayList<>();

    RecordingCircuits() {
      super(null);
    }

    @Override
    protected void tell(TenantView view, TenantCommand.ReportUpstream report) {
      reports.add(report);
    }
  }

  /** A nanosecond clock that moves only when told to. */
  static final class ManualNanos implements LongSupplier {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);

    @Override
    public long getAsLong() {
      return nanos.get();
    }

    void advance(Duration d) {
      nanos.addAndGet(d.toNanos());
    }
  }

  /** A wall clock (the outlier detectors') that moves only when told to. */
  static final class ManualWall implements InstantSource {
    private final AtomicLong millis = new AtomicLong(Instant.parse("2026-03-01T12:00:00Z").toEpochMilli());

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
      return millis.get();
    }

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }
  }
}
