package io.sluice.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.sluice.node.health.Readiness;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /health/live}, {@code GET /health/ready} and {@code GET /metrics} (Prometheus). */
public final class HealthRoutes {
  private static final org.apache.pekko.http.javadsl.model.ContentType PROMETHEUS =
      org.apache.pekko.http.javadsl.model.ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");
  private final Readiness readiness;
  private final io.sluice.node.metrics.GatewayMetrics metrics;

  public HealthRoutes(Readiness readiness, io.sluice.node.metrics.GatewayMetrics metrics) {
    this.readiness = readiness;
    this.metrics = metrics;
  }

  public Route route() {
    return concat(
        path("metrics", () -> get(() -> extractRequest(r -> complete(
            org.apache.pekko.http.javadsl.model.HttpResponse.create().withEntity(
                org.apache.pekko.http.javadsl.model.HttpEntities.create(PROMETHEUS,
                    metrics.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8))))))),
        path(segment("health").slash("live"), () -> get(() ->
            complete(Responses.json(200, "{\"status\":\"live\"}".getBytes(StandardCharsets.UTF_8))))),
        path(segment("health").slash("ready"), () -> get(() -> extractRequest(r -> {
          boolean up = readiness.clusterUp() && !readiness.isShuttingDown();
          boolean journal = readiness.journalAnswers();
          String body = "{\"status\":\"" + (up && journal ? "ready" : "not_ready") + "\",\"cluster_up\":" + up
              + ",\"journal\":" + journal + "}";
          return complete(Responses.json(up && journal ? 200 : 503, body.getBytes(StandardCharsets.UTF_8)));
        }))));
  }
}
