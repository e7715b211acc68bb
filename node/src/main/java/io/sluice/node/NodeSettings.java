package io.sluice.node;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The node's own settings, read once from {@code sluice.node}, {@code sluice.http} and {@code
 * sluice.auth}. Numbers used by the node's code come from here, not from literals.
 *
 * @param bodyTimeout how long a request body may take to arrive (then 408), apart from the ask
 *     timeout of the tenant store, so that a slow upload is never blamed on the store
 * @param unknownKeyRecheck how often per tenant a key its cached view does not know sends the node
 *     back to the tenant entity before the key is refused (a key issued a moment ago elsewhere)
 * @param maxExactPromptChars how many chars of one request's prompt the tokenizer counts exactly;
 *     the rest is estimated, which caps the CPU one request can take
 */
public record NodeSettings(
    String httpHost,
    int httpPort,
    String adminKey,
    long maxRequestBodyBytes,
    Duration bodyTimeout,
    long maxExactPromptChars,
    Path dataDir,
    Duration askTimeout,
    Duration probeInterval,
    Duration probeTimeout,
    Duration keyCacheTtl,
    long keyCacheMaxTenants,
    Duration unknownKeyRecheck,
    Duration unreadyDelay,
    Duration drainTimeout,
    Duration requestHeadTimeout) {

  public static NodeSettings from(Config config) {
    Config http = config.getConfig("sluice.http");
    Config node = config.getConfig("sluice.node");
    Config auth = config.getConfig("sluice.auth");
    String adminKey = http.hasPath("admin-key") ? http.getString("admin-key") : null;
    return new NodeSettings(
        http.getString("host"),
        http.getInt("port"),
        adminKey == null || adminKey.isBlank() ? null : adminKey,
        http.getBytes("max-request-body"),
        http.getDuration("body-timeout"),
        http.getLong("max-exact-prompt-chars"),
        Path.of(node.getString("data-dir")),
        node.getDuration("ask-timeout"),
        node.getDuration("readiness.probe-interval"),
        node.getDuration("readiness.probe-timeout"),
        auth.getDuration("cache-ttl"),
        auth.getLong("cache-max-tenants"),
        auth.getDuration("unknown-key-recheck"),
        node.getDuration("shutdown.unready-delay"),
        node.getDuration("shutdown.drain-timeout"),
        http.getDuration("request-head-timeout"));
  }

  @Override
  public String toString() {
    // Never print the admin key.
    return "NodeSettings[http=" + httpHost + ":" + httpPort + ", dataDir=" + dataDir
        + ", adminKey=" + (adminKey == null ? "unset" : "set") + "]";
  }
}
