package io.sluice.node.telemetry;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The observability settings, read once from {@code sluice.telemetry}. Traces have none here:
 * they are configured by the standard {@code OTEL_*} variables alone.
 *
 * @param topTenants how many tenants get their own per-tenant series on /metrics (the rest are {@code _other})
 * @param latencyBuckets histogram bounds of request duration, time to first token and attempt duration
 * @param overheadBuckets histogram bounds of the gateway's own time per request
 * @param journalBuckets histogram bounds of the lease and settlement round trips (a journal write each)
 * @param accessLog whether the access log is written
 * @param accessLogQueue how many access-log lines may wait for the writer before lines are dropped
 * @param accessLogFile the file the access log appends to
 */
public record TelemetrySettings(int topTenants, List<Duration> latencyBuckets, List<Duration> overheadBuckets,
    List<Duration> journalBuckets, boolean accessLog, int accessLogQueue,
    Path accessLogFile) {

  public TelemetrySettings {
    if (topTenants < 0 || accessLogQueue < 1) {
      throw new IllegalArgumentException("sluice.telemetry: top-tenants must be >= 0 and queue-capacity >= 1");
    }
    latencyBuckets = List.copyOf(latencyBuckets);
    overheadBuckets = List.copyOf(overheadBuckets);
    journalBuckets = List.copyOf(journalBuckets);
  }

  public static TelemetrySettings from(Config config) {
    Config t = config.getConfig("sluice.telemetry");
    return new TelemetrySettings(
        t.getInt("metrics.top-tenants"),
        t.getDurationList("metrics.latency-buckets"),
        t.getDurationList("metrics.overhead-buckets"),
        t.getDurationList("metrics.journal-buckets"),
        t.getBoolean("access-log.enabled"),
        t.getInt("access-log.queue-capacity"),
        Path.of(t.getString("access-log.file")));
  }
}
