package io.sluice.node.telemetry;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.RequestObservation;
import java.time.InstantSource;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The consumers of the request lifecycle, and the factory of each request's {@link
 * RequestObservation}: the per-tenant metrics and histograms (always), the access log (when
 * enabled) and traces (when an OTLP exporter is configured; else null, and no span is made).
 */
public final class Observability implements RequestObservation.Factory, AutoCloseable {
  final UsageMetrics metrics;
  final AccessLog accessLog;
  final Tracing tracing;
  final LongSupplier nanos;
  final InstantSource clock;

  /**
   * @param accessLog the access log, or null when it is off
   * @param tracing the traces, or null when none are exported
   */
  public Observability(UsageMetrics metrics, AccessLog accessLog, Tracing tracing, MeterRegistry registry,
      LongSupplier nanos, InstantSource clock) {
    this.metrics = metrics;
    this.accessLog = accessLog;
    this.tracing = tracing;
    this.nanos = nanos;
    this.clock = clock;
    FunctionCounter.builder("sluice.telemetry.spans.dropped", this, o -> o.tracing == null ? 0 : o.tracing.droppedQueueFull())
        .description("Spans lost: the export queue was full (queue_full) or the collector did not take them (export_failed)")
        .tag("reason", "queue_full").register(registry);
    FunctionCounter.builder("sluice.telemetry.spans.dropped", this, o -> o.tracing == null ? 0 : o.tracing.droppedExportFailed())
        .description("Spans lost: the export queue was full (queue_full) or the collector did not take them (export_failed)")
        .tag("reason", "export_failed").register(registry);
    FunctionCounter.builder("sluice.access.log.dropped", this, o -> o.accessLog == null ? 0 : o.accessLog.dropped())
        .description("Access-log lines dropped because the writer's queue was full").register(registry);
  }

  /** Wires the consumers as {@code settings} and the process's OTEL_* variables say. */
  public static Observability create(TelemetrySettings settings, MeterRegistry registry, LongSupplier nanos,
      InstantSource clock) {
    return new Observability(new UsageMetrics(registry, settings),
        settings.accessLog() ? new AccessLog(settings.accessLogQueue(), settings.accessLogFile()) : null, Tracing.fromEnvironment(), registry,
        nanos, clock);
  }

  /** Whether spans are exported. */
  public boolean tracing() {
    return tracing != null;
  }

  /** The per-tenant series, rendered at scrape time. */
  public UsageMetrics metrics() {
    return metrics;
  }

  @Override
  public RequestObservation start(String surface, Operation op, String requestId, long startNanos,
      Function<String, String> header) {
    return new LiveObservation(this, surface, op, requestId, startNanos, header);
  }

  /** Flushes the spans and access-log lines still queued. */
  @Override
  public void close() {
    if (tracing != null) {
      tracing.close();
    }
    if (accessLog != null) {
      accessLog.close();
    }
  }
}
