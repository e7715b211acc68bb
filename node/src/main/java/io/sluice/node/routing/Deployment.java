package io.sluice.node.routing;

import java.time.Duration;

/**
 * One upstream deployment of a model: where it is, which provider adapter speaks to it, the model
 * name it knows, its own key, and its own timeouts and connection pool. The API key is never
 * printed: {@link #toString()} leaves it out.
 */
public record Deployment(
    String name,
    String provider,
    String baseUrl,
    String upstreamModel,
    String apiKey,
    int weight,
    int priority,
    Duration connectTimeout,
    Duration firstByteTimeout,
    Duration totalTimeout,
    int maxConnections,
    int maxOpenRequests) {

  @Override
  public String toString() {
    return "Deployment[" + name + " " + provider + " " + baseUrl + " model=" + upstreamModel + "]";
  }
}
