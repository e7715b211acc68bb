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

/** {@code GET /health/live} and {@code GET /health/ready}. */
public final class HealthRoutes {
  private final Readiness readiness;

  public HealthRoutes(Readiness readiness) {
    this.readiness = readiness;
  }

  public Route route() {
    return concat(
        path(segment("health").slash("live"), () -> get(() ->
            complete(Responses.json(200, "{\"status\":\"live\"}".getBytes(StandardCharsets.UTF_8))))),
        path(segment("health").slash("ready"), () -> get(() -> extractRequest(r -> {
          boolean up = readiness.clusterUp();
          boolean journal = readiness.journalAnswers();
          String body = "{\"status\":\"" + (up && journal ? "ready" : "not_ready") + "\",\"cluster_up\":" + up
              + ",\"journal\":" + journal + "}";
          return complete(Responses.json(up && journal ? 200 : 503, body.getBytes(StandardCharsets.UTF_8)));
        }))));
  }
}
