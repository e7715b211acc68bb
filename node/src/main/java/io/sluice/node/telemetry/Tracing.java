package io.sluice.node.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The node's traces: the OpenTelemetry SDK as its autoconfigure module sets it up from the
 * standard {@code OTEL_*} variables (exporter, endpoint, service name, sampler, batch sizes), with
 * spans batched and exported off the request path by the SDK's batch processor. It exists only
 * when an exporter is configured ({@link #configured}); otherwise no SDK is built and requests
 * make no span.
 *
 * <p>Spans lost are counted: those the batch processor dropped because its queue was full (read
 * from the SDK's own processor metrics), and those in batches the exporter failed to deliver.
 */
public final class Tracing implements AutoCloseable {
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> TENANT = AttributeKey.stringKey("sluice.tenant");
  static final AttributeKey<String> KEY_ID = AttributeKey.stringKey("sluice.key_id");
  static final AttributeKey<String> DEPLOYMENT = AttributeKey.stringKey("sluice.deployment");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("sluice.attempts");
  static final AttributeKey<Double> COST = AttributeKey.doubleKey("sluice.cost_usd");
  static final AttributeKey<Double> OVERHEAD = AttributeKey.doubleKey("sluice.overhead_ms");
  static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("sluice.request_id");
  static final AttributeKey<String> SURFACE = AttributeKey.stringKey("sluice.surface");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("sluice.attempt.outcome");

  private static final TextMapGetter<Function<String, String>> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Function<String, String> carrier) {
      return List.of("traceparent", "tracestate");
    }

    @Override
    public String get(Function<String, String> carrier, String key) {
      return carrier == null ? null : carrier.apply(key);
    }
  };

  private final OpenTelemetrySdk sdk;
  private final Tracer tracer;
  private final DropReader drops;
  private final LongAdder exportFailed;

  private Tracing(OpenTelemetrySdk sdk, DropReader drops, LongAdder exportFailed) {
    this.sdk = sdk;
    this.tracer = sdk.getTracer("io.sluice.node");
    this.drops = drops;
    this.exportFailed = exportFailed;
  }

  /** Tracing through an SDK built elsewhere (tests: an in-memory exporter); it counts no drops. */
  static Tracing of(OpenTelemetrySdk sdk) {
    return new Tracing(sdk, new DropReader(), new LongAdder());
  }

  /**
   * Whether {@code env} and {@code props} (the process's environment and system properties)
   * configure a trace exporter: an OTLP endpoint, or a traces exporter other than {@code none};
   * and the SDK is not disabled.
   */
  public static boolean configured(Map<String, String> env, Properties props) {
    if ("true".equalsIgnoreCase(setting(env, props, "OTEL_SDK_DISABLED"))) {
      return false;
    }
    String exporter = setting(env, props, "OTEL_TRACES_EXPORTER");
    if (exporter != null && !exporter.isBlank()) {
      return !exporter.trim().equals("none");
    }
    return notBlank(setting(env, props, "OTEL_EXPORTER_OTLP_ENDPOINT"))
        || notBlank(setting(env, props, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
  }

  /** Tracing as the process's OTEL_* settings say, or null when they configure no exporter. */
  public static Tracing fromEnvironment() {
    return configured(System.getenv(), System.getProperties()) ? create(Map.of()) : null;
  }

  /**
   * Builds the SDK from the OTEL_* settings, with {@code overrides} (otel.* property names) over
   * them. Only traces are exported: metrics and logs default to {@code none}; the OTLP protocol
   * defaults to {@code http/protobuf}, the only one supported.
   */
  static Tracing create(Map<String, String> overrides) {
    DropReader drops = new DropReader();
    LongAdder exportFailed = new LongAdder();
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
        // Defaults, under the OTEL_* variables: OTLP over HTTP/protobuf (the JDK sender on the
        // classpath speaks HTTP only), traces only.
        .addPropertiesSupplier(() -> Map.of("otel.exporter.otlp.protocol", "http/protobuf",
            "otel.metrics.exporter", "none", "otel.logs.exporter", "none", "otel.service.name", "sluice"))
        .addPropertiesCustomizer(config -> overrides)
        .addMeterProviderCustomizer((builder, config) -> builder.registerMetricReader(drops))
        .addSpanExporterCustomizer((exporter, config) -> new CountingExporter(exporter, exportFailed))
        .disableShutdownHook()
        .build().getOpenTelemetrySdk();
    return new Tracing(sdk, drops, exportFailed);
  }

  private static String setting(Map<String, String> env, Properties props, String name) {
    String prop = props.getProperty(name.toLowerCase().replace('_', '.'));
    return prop != null ? prop : env.get(name);
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }

  /** Spans the batch processor dropped because its queue was full. */
  public long droppedQueueFull() {
    return drops.dropped();
  }

  /** Spans in batches the exporter could not deliver. */
  public long droppedExportFailed() {
    return exportFailed.sum();
  }

  /** Starts the span of a client request, a child of the client's {@code traceparent} if it sent one. */
  Span startRequest(String operation, String surface, String requestId, Function<String, String> header) {
    Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), header, HEADERS);
    return tracer.spanBuilder(operation).setParent(parent).setSpanKind(SpanKind.SERVER)
        .setAttribute(OPERATION, operation).setAttribute(SURFACE, surface).setAttribute(REQUEST_ID, requestId)
        .startSpan();
  }

  /** Starts the span of one upstream attempt under {@code request}. */
  Span startAttempt(Span request, String name) {
    return tracer.spanBuilder(name).setParent(Context.root().with(request)).setSpanKind(SpanKind.CLIENT).startSpan();
  }

  /** The W3C trace context headers that carry {@code span} to an upstream. */
  static void inject(Span span, java.util.function.BiConsumer<String, String> into) {
    W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), into,
        (carrier, key, value) -> carrier.accept(key, value));
  }

  /** Exports what is queued and stops the SDK. */
  @Override
  public void close() {
    sdk.shutdown().join(10, TimeUnit.SECONDS);
  }

  /** Delegates, counting the spans of every batch whose export failed. */
  private static final class CountingExporter implements SpanExporter {
    private final SpanExporter delegate;
    private final LongAdder failed;

    CountingExporter(SpanExporter delegate, LongAdder failed) {
      this.delegate = delegate;
      this.failed = failed;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      int n = spans.size();
      CompletableResultCode result = delegate.export(spans);
      result.whenComplete(() -> {
        if (!result.isSuccess()) {
          failed.add(n);
        }
      });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }

    @Override
    public String toString() {
      return "CountingExporter{" + delegate + "}";
    }
  }

  /**
   * Reads the SDK's own batch-processor metrics on demand (cumulative), for the spans it dropped:
   * {@code processedSpans} with {@code dropped=true}, or the semantic-convention
   * {@code otel.sdk.processor.span.processed} with an {@code error.type}.
   */
  private static final class DropReader implements MetricReader {
    private static final AttributeKey<Boolean> DROPPED = AttributeKey.booleanKey("dropped");
    private volatile CollectionRegistration registration = CollectionRegistration.noop();

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    long dropped() {
      long n = 0;
      for (MetricData m : registration.collectAllMetrics()) {
        boolean legacy = m.getName().equals("processedSpans");
        boolean semconv = m.getName().equals("otel.sdk.processor.span.processed");
        if (!legacy && !semconv) {
          continue;
        }
        for (LongPointData p : m.getLongSumData().getPoints()) {
          Attributes a = p.getAttributes();
          if (legacy ? Boolean.TRUE.equals(a.get(DROPPED)) : a.get(ERROR_TYPE) != null) {
            n += p.getValue();
          }
        }
      }
      return n;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType type) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
