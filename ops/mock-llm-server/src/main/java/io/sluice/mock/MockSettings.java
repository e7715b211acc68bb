package io.sluice.mock;

import java.util.Objects;

/**
 * Knobs of a mock upstream, one per CLI flag. Immutable so one instance is safely shared by all event
 * loops; per-request {@code "mock"} overrides in the request JSON take precedence over these.
 *
 * @param host address to bind
 * @param port port to bind; 0 picks a free one (see {@link MockLlmServer#port()})
 * @param latencyMs delay before a non-streaming response (and before an error on a non-streaming request)
 * @param ttftMs delay before the first streamed chunk (and before an error on a streaming request)
 * @param interTokenMs delay between streamed content chunks
 * @param tokens completion tokens per response; a stream sends one content chunk per token
 * @param errorRate fraction in [0,1] of inference requests answered with {@code errorStatus}
 * @param errorStatus HTTP status of the random errors
 * @param apiKey when non-null, {@code /v1/*} requests need {@code Authorization: Bearer <apiKey>}
 *     ({@code /v1/messages} also takes {@code x-api-key: <apiKey>})
 * @param threads Netty event-loop threads
 */
public record MockSettings(String host, int port, long latencyMs, long ttftMs, long interTokenMs, int tokens,
                           double errorRate, int errorStatus, String apiKey, int threads) {

  /** Upper bound on tokens per response, so a typo cannot make the mock allocate gigabytes. */
  public static final int MAX_TOKENS = 1_000_000;

  public MockSettings {
    Objects.requireNonNull(host, "host");
    require(port >= 0 && port <= 65535, "port must be in [0, 65535]");
    require(latencyMs >= 0 && ttftMs >= 0 && interTokenMs >= 0, "delays must be >= 0");
    require(tokens >= 0 && tokens <= MAX_TOKENS, "tokens must be in [0, " + MAX_TOKENS + "]");
    require(errorRate >= 0 && errorRate <= 1, "error rate must be in [0, 1]");
    require(errorStatus >= 400 && errorStatus <= 599, "error status must be in [400, 599]");
    require(apiKey == null || !apiKey.isEmpty(), "api key must not be empty");
    require(threads >= 1, "threads must be >= 1");
  }

  /** The CLI defaults: 127.0.0.1:9999, no delays, 16 tokens, no errors, no api key, 1 thread. */
  public static MockSettings defaults() {
    return new MockSettings("127.0.0.1", 9999, 0, 0, 0, 16, 0, 500, null, 1);
  }

  public MockSettings withHost(String v) { return new MockSettings(v, port, latencyMs, ttftMs, interTokenMs, tokens, errorRate, errorStatus, apiKey, threads); }
  public MockSettings withPort(int v) { return new MockSettings(host, v, latencyMs, ttftMs, interTokenMs, tokens, errorRate, errorStatus, apiKey, threads); }
  public MockSettings withLatencyMs(long v) { return new MockSettings(host, port, v, ttftMs, interTokenMs, tokens, errorRate, errorStatus, apiKey, threads); }
  public MockSettings withTtftMs(long v) { return new MockSettings(host, port, latencyMs, v, interTokenMs, tokens, errorRate, errorStatus, apiKey, threads); }
  public MockSettings withInterTokenMs(long v) { return new MockSettings(host, port, latencyMs, ttftMs, v, tokens, errorRate, errorStatus, apiKey, threads); }
  public MockSettings withTokens(int v) { return new MockSettings(host, port, latencyMs, ttftMs, interTokenMs, v, errorRate, errorStatus, apiKey, threads); }
  public MockSettings withErrorRate(double v) { return new MockSettings(host, port, latencyMs, ttftMs, interTokenMs, tokens, v, errorStatus, apiKey, threads); }
  public MockSettings withErrorStatus(int v) { return new MockSettings(host, port, latencyMs, ttftMs, interTokenMs, tokens, errorRate, v, apiKey, threads); }
  public MockSettings withApiKey(String v) { return new MockSettings(host, port, latencyMs, ttftMs, interTokenMs, tokens, errorRate, errorStatus, v, threads); }
  public MockSettings withThreads(int v) { return new MockSettings(host, port, latencyMs, ttftMs, interTokenMs, tokens, errorRate, errorStatus, apiKey, v); }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
