package io.sluice.mock;

import com.fasterxml.jackson.core.JsonFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/** What all connections of one server share: settings, counters, the last inference request, id sequence. */
final class ServerState {
  final MockSettings settings;
  final MockStats stats = new MockStats();
  final JsonFactory json = new JsonFactory();
  /** The exact Authorization header required, or null when any request is let in. */
  final String requiredAuthorization;
  private final AtomicLong ids = new AtomicLong();
  volatile Recorded last;
  /** Runtime overrides set by {@code POST /mock/config}; negative means "use the flag". */
  volatile double errorRate = -1;
  volatile long latencyMs = -1;
  /** {@code "mock"} knobs every inference request starts from (set by {@code POST /mock/config}), or null. */
  volatile MockRequest defaults;
  /** The AWS credentials the Bedrock mode verifies SigV4 signatures with (see {@link BedrockMode}). */
  volatile BedrockMode.Credentials aws = BedrockMode.Credentials.DEFAULT;
  /** Statuses the next inference requests get, in order, before normal behaviour resumes. */
  final java.util.concurrent.ConcurrentLinkedQueue<Integer> script = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /**
   * Applies {@code {"error_rate":F,"latency_ms":N,"script":[S,...],"mock":{...}}}; absent fields keep
   * their value. {@code mock} takes the same knobs as a request body's {@code "mock"} and replaces the
   * previous ones; a request's own knobs still win.
   */
  void configure(byte[] body) throws java.io.IOException {
    try (com.fasterxml.jackson.core.JsonParser p = json.createParser(body)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        throw new java.io.IOException("expected an object");
      }
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String name = p.currentName();
        com.fasterxml.jackson.core.JsonToken v = p.nextToken();
        switch (name) {
          case "error_rate" -> errorRate = p.getDoubleValue();
          case "latency_ms" -> latencyMs = p.getLongValue();
          case "script" -> {
            script.clear();
            while (p.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
              script.add(p.getIntValue());
            }
          }
          case "mock" -> {
            try {
              defaults = v == com.fasterxml.jackson.core.JsonToken.VALUE_NULL ? null : MockRequest.knobs(p, v);
            } catch (MockRequest.Invalid e) {
              throw new java.io.IOException(e.getMessage());
            }
          }
          case "aws" -> aws = awsCredentials(p);
          default -> p.skipChildren();
        }
      }
    }
  }

  /** {@code {"access_key_id", "secret_access_key", "session_token"?}} */
  private static BedrockMode.Credentials awsCredentials(com.fasterxml.jackson.core.JsonParser p) throws java.io.IOException {
    String id = null;
    String secret = null;
    String token = null;
    while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "access_key_id" -> id = p.getValueAsString();
        case "secret_access_key" -> secret = p.getValueAsString();
        case "session_token" -> token = p.getValueAsString();
        default -> p.skipChildren();
      }
    }
    if (id == null || secret == null) {
      throw new java.io.IOException("aws needs access_key_id and secret_access_key");
    }
    return new BedrockMode.Credentials(id, secret, token);
  }

  void clearOverrides() {
    errorRate = -1;
    latencyMs = -1;
    defaults = null;
    script.clear();
  }

  ServerState(MockSettings settings) {
    this.settings = settings;
    this.requiredAuthorization = settings.apiKey() == null ? null : "Bearer " + settings.apiKey();
  }

  String nextCompletionId() {
    return "chatcmpl-mock-" + ids.incrementAndGet();
  }

  /** A fresh number for Messages-mode ids: msg_mock_N, toolu_mock_N, req_mock_N. */
  long nextId() {
    return ids.incrementAndGet();
  }

  /**
   * The last inference request as received, served at {@code GET /mock/last-request}. A Messages-mode
   * request also carries {@code anthropic}: its query string (null when none), x-api-key,
   * anthropic-version and anthropic-beta headers, and its {@code x-mock-request-summary}; a Gemini-mode
   * request carries {@code gemini} instead; any other carries its query string and {@code api-key}
   * header (Azure's), null when absent.
   */
  record Recorded(String method, String path, String authorization, byte[] body, Anthropic anthropic, Gemini gemini,
      String query, String apiKey) {
    Recorded(String method, String path, String authorization, byte[] body) {
      this(method, path, authorization, body, null, null, null, null);
    }

    Recorded(String method, String path, String authorization, byte[] body, Anthropic anthropic) {
      this(method, path, authorization, body, anthropic, null, null, null);
    }

    record Anthropic(String query, String apiKey, String version, String beta, String summary) {}

    /** A Gemini-mode request: its query string, its x-goog-api-key header, and its request summary. */
    record Gemini(String query, String apiKey, String summary) {}

    Recorded withSummary(String summary) {
      return new Recorded(method, path, authorization, body,
          new Anthropic(anthropic.query, anthropic.apiKey, anthropic.version, anthropic.beta, summary), null, null, null);
    }

    String toJson() {
      StringBuilder sb = new StringBuilder(96 + body.length).append("{\"method\":");
      Json.str(sb, method).append(",\"path\":");
      Json.str(sb, path).append(",\"authorization\":");
      Json.str(sb, authorization).append(",\"body\":");
      Json.str(sb, new String(body, StandardCharsets.UTF_8));
      if (anthropic != null) {
        sb.append(",\"query\":");
        Json.str(sb, anthropic.query).append(",\"x_api_key\":");
        Json.str(sb, anthropic.apiKey).append(",\"anthropic_version\":");
        Json.str(sb, anthropic.version).append(",\"anthropic_beta\":");
        Json.str(sb, anthropic.beta).append(",\"summary\":");
        Json.str(sb, anthropic.summary);
      } else if (gemini != null) {
        sb.append(",\"query\":");
        Json.str(sb, gemini.query).append(",\"x_goog_api_key\":");
        Json.str(sb, gemini.apiKey).append(",\"summary\":");
        Json.str(sb, gemini.summary);
      } else {
        // OpenAI and Azure modes: the query string (Azure's api-version) and Azure's api-key header.
        sb.append(",\"query\":");
        Json.str(sb, query).append(",\"api_key\":");
        Json.str(sb, apiKey);
      }
      return sb.append('}').toString();
    }
  }
}
