package io.sluice.node.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.routing.Deployment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Microsoft Entra ID bearer tokens for Azure deployments with {@code auth = entra}, taken from a
 * file ({@code token-file}, as a workload-identity sidecar writes it) or the output of a command
 * ({@code token-command}, e.g. {@code az account get-access-token --query accessToken -o tsv};
 * JSON output with {@code accessToken} is read too). Tokens are fetched at start and refreshed in
 * the background every {@code token-refresh} (default 10 min, well inside a token's hour), so a
 * request only reads a cached value and never waits for a refresh. A failed refresh keeps the
 * last token (the upstream refuses it once it expires, which opens the tenants' circuits) and is
 * logged without the token.
 */
public final class EntraTokens implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EntraTokens.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration DEFAULT_REFRESH = Duration.ofMinutes(10);
  static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

  private final Map<String, String> tokens = new ConcurrentHashMap<>();
  private final ScheduledExecutorService refresher;

  private EntraTokens(ScheduledExecutorService refresher) {
    this.refresher = refresher;
  }

  /** Fetches the tokens of every Entra deployment among {@code deployments} now, and refreshes them on schedule. */
  public static EntraTokens start(Collection<Deployment> deployments) {
    List<Deployment> entra = deployments.stream().filter(d -> d.provider().equals("azure")
        && d.option("auth", "api-key").equals("entra")).toList();
    if (entra.isEmpty()) {
      return new EntraTokens(null);
    }
    ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sluice-entra-tokens");
      t.setDaemon(true);
      return t;
    });
    EntraTokens tokens = new EntraTokens(refresher);
    for (Deployment d : entra) {
      tokens.refresh(d);
      long every = refreshInterval(d).toMillis();
      refresher.scheduleWithFixedDelay(() -> tokens.refresh(d), every, every, TimeUnit.MILLISECONDS);
    }
    return tokens;
  }

  /** The current token of {@code d}; empty when none could be fetched yet. */
  public String token(Deployment d) {
    return tokens.getOrDefault(d.name(), "");
  }

  /** Fetches {@code d}'s token once; on failure keeps the one it had. */
  void refresh(Deployment d) {
    try {
      String token = fetch(d);
      if (!token.isEmpty()) {
        tokens.put(d.name(), token);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("deployment {}: Entra token refresh failed ({}); keeping the previous token", d.name(),
          e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String fetch(Deployment d) throws IOException, InterruptedException {
    String file = d.option("token-file", null);
    if (file != null) {
      return parse(Files.readString(Path.of(file), StandardCharsets.UTF_8));
    }
    String command = d.option("token-command", null);
    if (command == null) {
      throw new IllegalArgumentException("deployment " + d.name() + ": auth = entra needs token-file or token-command");
    }
    Process p = new ProcessBuilder("sh", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IOException("token-command timed out");
    }
    if (p.exitValue() != 0) {
      throw new IOException("token-command exited with " + p.exitValue());
    }
    return parse(new String(out, StandardCharsets.UTF_8));
  }

  /** A token as a file or command gives it: bare text, or JSON with accessToken / access_token. */
  static String parse(String text) throws IOException {
    String t = text.trim();
    if (t.startsWith("{")) {
      JsonNode n = JSON.readTree(t);
      JsonNode token = n.has("accessToken") ? n.get("accessToken") : n.get("access_token");
      return token == null ? "" : token.asText().trim();
    }
    return t;
  }

  static Duration refreshInterval(Deployment d) {
    String v = d.option("token-refresh", null);
    return v == null ? DEFAULT_REFRESH : com.typesafe.config.ConfigFactory.parseString("d = " + v).getDuration("d");
  }

  @Override
  public void close() {
    if (refresher != null) {
      refresher.shutdownNow();
    }
  }
}
