package io.sluice.node.routing;

import java.time.Duration;
import java.util.Map;

/**
 * One upstream deployment of a model: where it is, which provider adapter speaks to it, the model
 * name it knows, its own key, and its own timeouts and connection pool. The API key is never
 * printed: {@link #toString()} leaves it out.
 *
 * <p>{@code idleTimeout} ends a stream that stays silent longer (with an SSE error event).
 * {@code maxConcurrentRequests} bounds the requests this node has in flight to the deployment
 * ({@link ConcurrencyLimiter}); {@link #UNLIMITED} (0) means no bound beyond the pool's.
 * {@code options} are the provider-specific keys of the deployment's config (for example
 * {@code anthropic-version} or {@code default-max-tokens}), read by its provider's adapter; they
 * may hold credentials and are never printed either.
 *
 * <p>{@code region} is the Sluice region the deployment belongs to (null: none): the nodes of that
 * region prefer it, the nodes of other regions fall back to it ({@link RegionFirst}). It stays an
 * option too, since Bedrock reads it as its AWS region unless {@code aws-region} is set. {@code
 * shared} says the deployment is one provider account used from every region, so a tenant's
 * circuit opened for it in any region holds in all ({@link CircuitGate}).
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
    int maxOpenRequests,
    int maxConcurrentRequests,
    Duration idleTimeout,
    Map<String, String> options,
    String region,
    boolean shared) {

  /** {@code maxConcurrentRequests} of a deployment without its own limit. */
  public static final int UNLIMITED = 0;

  public Deployment {
    if (idleTimeout == null) {
      idleTimeout = totalTimeout;
    }
    options = options == null ? Map.of() : Map.copyOf(options);
    if (maxConcurrentRequests < 0) {
      throw new IllegalArgumentException("maxConcurrentRequests must not be negative: " + maxConcurrentRequests);
    }
  }

  /** A deployment of no region and not shared (the fields before regions existed). */
  public Deployment(String name, String provider, String baseUrl, String upstreamModel, String apiKey, int weight,
      int priority, Duration connectTimeout, Duration firstByteTimeout, Duration totalTimeout, int maxConnections,
      int maxOpenRequests, int maxConcurrentRequests, Duration idleTimeout, Map<String, String> options) {
    this(name, provider, baseUrl, upstreamModel, apiKey, weight, priority, connectTimeout, firstByteTimeout,
        totalTimeout, maxConnections, maxOpenRequests, maxConcurrentRequests, idleTimeout, options, null, false);
  }

  /** A deployment without a concurrency limit (the fields before that limit existed). */
  public Deployment(String name, String provider, String baseUrl, String upstreamModel, String apiKey, int weight,
      int priority, Duration connectTimeout, Duration firstByteTimeout, Duration totalTimeout, int maxConnections,
      int maxOpenRequests) {
    this(name, provider, baseUrl, upstreamModel, apiKey, weight, priority, connectTimeout, firstByteTimeout,
        totalTimeout, maxConnections, maxOpenRequests, UNLIMITED, null, Map.of());
  }

  /** A deployment whose streams may be silent as long as the whole exchange may last. */
  public Deployment(String name, String provider, String baseUrl, String upstreamModel, String apiKey, int weight,
      int priority, Duration connectTimeout, Duration firstByteTimeout, Duration totalTimeout, int maxConnections,
      int maxOpenRequests, int maxConcurrentRequests) {
    this(name, provider, baseUrl, upstreamModel, apiKey, weight, priority, connectTimeout, firstByteTimeout,
        totalTimeout, maxConnections, maxOpenRequests, maxConcurrentRequests, null, Map.of());
  }

  /** A deployment with these limits and timeouts and no provider-specific options. */
  public Deployment(String name, String provider, String baseUrl, String upstreamModel, String apiKey, int weight,
      int priority, Duration connectTimeout, Duration firstByteTimeout, Duration totalTimeout, int maxConnections,
      int maxOpenRequests, int maxConcurrentRequests, Duration idleTimeout) {
    this(name, provider, baseUrl, upstreamModel, apiKey, weight, priority, connectTimeout, firstByteTimeout,
        totalTimeout, maxConnections, maxOpenRequests, maxConcurrentRequests, idleTimeout, Map.of());
  }

  /** A provider-specific option, or {@code fallback} when the deployment does not set it. */
  public String option(String key, String fallback) {
    return options.getOrDefault(key, fallback);
  }

  @Override
  public String toString() {
    return "Deployment[" + name + " " + provider + " " + baseUrl + " model=" + upstreamModel
        + (region == null ? "" : " region=" + region) + (shared ? " shared" : "") + "]";
  }
}
