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
