package io.sluice.mock;

import java.util.ArrayList;
import java.util.List;

/**
 * One Gemini-mode answer, decided once from the request and the knobs, then rendered either as a
 * whole GenerateContentResponse or as the {@code alt=sse} stream the real API sends: {@code data:}
 * lines only, each a whole GenerateContentResponse ending in CRLF CRLF, every one carrying the
 * running usageMetadata, the last one the finishReason, and nothing after it (no terminator).
 *
 * <p>Content: {@code textTokens} text parts of {@value Payloads#TOKEN} (one per stream event),
 * then, when a function is called, one functionCall part with a thoughtSignature, as Gemini 2.5
 * and 3 send it. A forced call (mode ANY) has no text. {@code maxOutputTokens} bounds the text and
 * drops a call that does not fit; the finishReason is then MAX_TOKENS, else STOP (Gemini says STOP
 * after a function call too). candidatesTokenCount is the number of text parts plus one for a call,
 * unless {@code mock.usage.output_tokens} says otherwise; {@code mock.usage.thoughts_tokens} and
 * {@code cache_read_input_tokens} give thoughtsTokenCount and cachedContentTokenCount.
 */
final class GeminiReply {
  /** The signature the mock's calls carry: base64 with '+', '/' and padding, as Google's are. */
  static final String SIGNATURE = "CiQBmock+sig/Ab=";
  final String responseId;
  final String model;
  final int textTokens;
  final AnthropicRequest.Tool tool;
  final String finishReason;
  final long promptTokens;
  final long candidatesTokens;
  final long thoughtsTokens;
  final long cachedTokens;

  GeminiReply(String responseId, String model, GeminiRequest r, int tokens) throws MockRequest.Invalid {
    this.responseId = responseId;
    this.model = model;
    AnthropicRequest.Tool chosen = r.chosenTool();
    long budget = r.maxOutputTokens < 0 ? Long.MAX_VALUE : r.maxOutputTokens;
    int text = chosen != null && r.toolForced() ? 0 : tokens;
    String finish = "STOP";
    if (text > budget) {
      text = (int) budget;
      chosen = null;
      finish = "MAX_TOKENS";
    } else if (chosen != null && text + 1L > budget) {
      chosen = null;
      finish = "MAX_TOKENS";
    }
    this.textTokens = text;
    this.tool = chosen;
    this.finishReason = finish;
    MockRequest k = r.knobs;
    this.promptTokens = k.usageInput >= 0 ? k.usageInput : r.promptTokens();
    this.candidatesTokens = k.usageOutput >= 0 ? k.usageOutput : text + (chosen == null ? 0 : 1);
    this.thoughtsTokens = k.usageThoughts;
    this.cachedTokens = k.usageCacheRead;
  }

  /** The events of the stream: one per text part, the call (if any), the last one finishing. */
  int events() {
    return Math.max(1, textTokens + (tool == null ? 0 : 1));
  }

  /** The whole response of a generateContent call. */
  String whole() {
    StringBuilder parts = new StringBuilder(32 + textTokens * Payloads.TOKEN.length());
    if (textTokens > 0) {
      parts.append("{\"text\":\"").append(Payloads.TOKEN.repeat(textTokens)).append("\"}");
    }
    if (tool != null) {
      parts.append(textTokens > 0 ? "," : "");
      call(parts);
    }
    return response(parts, finishReason, candidatesTokens);
  }

  /** The SSE event {@code i} (from 0) of {@link #events()}. */
  String event(int i) {
    int n = events();
    StringBuilder parts = new StringBuilder(64);
    if (i < textTokens) {
      parts.append("{\"text\":\"").append(Payloads.TOKEN).append("\"}");
    } else if (tool != null) {
      call(parts);
    }
    boolean last = i == n - 1;
    long running = last ? candidatesTokens : candidatesTokens * (i + 1) / n;
    return "data: " + response(parts, last ? finishReason : null, running) + "\r\n\r\n";
  }

  /** A stream's error event, as Google sends one when a stream fails after it began. */
  static String errorEvent(int code, String message) {
    return "data: " + error(code, message) + "\r\n\r\n";
  }

  private void call(StringBuilder sb) {
    sb.append("{\"functionCall\":{\"name\":");
    Json.str(sb, tool.name()).append(",\"args\":").append(String.join("", tool.inputPieces()))
        .append("},\"thoughtSignature\":\"").append(SIGNATURE).append("\"}");
  }

  private String response(CharSequence parts, String finish, long candidates) {
    StringBuilder sb = new StringBuilder(256 + parts.length());
    sb.append("{\"candidates\":[{\"content\":{\"parts\":[").append(parts).append("],\"role\":\"model\"}");
    if (finish != null) {
      sb.append(",\"finishReason\":\"").append(finish).append('"');
    }
    sb.append(",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":").append(promptTokens)
        .append(",\"candidatesTokenCount\":").append(candidates);
    long total = promptTokens + candidates;
    if (thoughtsTokens >= 0) {
      sb.append(",\"thoughtsTokenCount\":").append(thoughtsTokens);
      total += thoughtsTokens;
    }
    if (cachedTokens >= 0) {
      sb.append(",\"cachedContentTokenCount\":").append(cachedTokens);
    }
    sb.append(",\"totalTokenCount\":").append(total).append("},\"modelVersion\":");
    Json.str(sb, model).append(",\"responseId\":");
    return Json.str(sb, responseId).append('}').toString();
  }

  /** Google's canonical status for an HTTP status, as the Gemini API pairs them. */
  static String status(int code) {
    return switch (code) {
      case 400 -> "INVALID_ARGUMENT";
      case 401 -> "UNAUTHENTICATED";
      case 403 -> "PERMISSION_DENIED";
      case 404 -> "NOT_FOUND";
      case 409 -> "ABORTED";
      case 429 -> "RESOURCE_EXHAUSTED";
      case 499 -> "CANCELLED";
      case 501 -> "UNIMPLEMENTED";
      case 503 -> "UNAVAILABLE";
      case 504 -> "DEADLINE_EXCEEDED";
      default -> code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    };
  }

  /** Google's error envelope {@code {"error":{"code","message","status"[,"details"]}}}. */
  static String error(int code, String message) {
    return error(code, message, null);
  }

  /** The envelope, with an ErrorInfo detail carrying {@code reason} when it is not null. */
  static String error(int code, String message, String reason) {
    StringBuilder sb = new StringBuilder(128 + message.length()).append("{\"error\":{\"code\":").append(code)
        .append(",\"message\":");
    Json.str(sb, message).append(",\"status\":\"").append(status(code)).append('"');
    if (reason != null) {
      sb.append(",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":");
      Json.str(sb, reason).append(",\"domain\":\"googleapis.com\"}]");
    }
    return sb.append("}}").toString();
  }

  /** The whole stream as a JSON array, as streamGenerateContent answers without {@code alt=sse}. */
  String array() {
    List<String> items = new ArrayList<>(events());
    for (int i = 0; i < events(); i++) {
      String e = event(i);
      items.add(e.substring("data: ".length(), e.length() - 4));
    }
    return "[" + String.join(",", items) + "]";
  }
}
