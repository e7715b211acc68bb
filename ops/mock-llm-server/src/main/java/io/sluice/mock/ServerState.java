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
  /** Statuses the next inference requests get, in order, before normal behaviour resumes. */
  final java.util.concurrent.ConcurrentLinkedQueue<Integer> script = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** Applies {@code {"error_rate":F,"latency_ms":N,"script":[S,...]}}; absent fields keep their value. */
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
          default -> p.skipChildren();
        }
      }
    }
  }

  void clearOverrides() {
    errorRate = -1;
    latencyMs = -1;
    script.clear();
  }

  ServerState(MockSettings settings) {
    this.settings = settings;
    this.requiredAuthorization = settings.apiKey() == null ? null : "Bearer " + settings.apiKey();
  }

  String nextCompletionId() {
    return "chatcmpl-mock-" + ids.incrementAndGet();
  }

  /** The last inference request as received, served at {@code GET /mock/last-request}. */
  record Recorded(String method, String path, String authorization, byte[] body) {
    String toJson() {
      StringBuilder sb = new StringBuilder(96 + body.length).append("{\"method\":");
      Json.str(sb, method).append(",\"path\":");
      Json.str(sb, path).append(",\"authorization\":");
      Json.str(sb, authorization).append(",\"body\":");
      return Json.str(sb, new String(body, StandardCharsets.UTF_8)).append('}').toString();
    }
  }
}
