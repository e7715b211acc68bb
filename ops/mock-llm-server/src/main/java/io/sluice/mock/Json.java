package io.sluice.mock;

/** Tiny JSON writing helpers, so building responses needs no JSON library on the hot path. */
final class Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /** Appends {@code s} as a JSON string literal, or {@code null}. */
  static StringBuilder str(StringBuilder sb, String s) {
    if (s == null) {
      return sb.append("null");
    }
    sb.append('"');
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  /** An OpenAI error envelope: {@code {"error":{"message":..,"type":..,"param":..,"code":..}}}. */
  static String error(String message, String type, String param, String code) {
    StringBuilder sb = new StringBuilder(96 + message.length()).append("{\"error\":{\"message\":");
    str(sb, message).append(",\"type\":");
    str(sb, type).append(",\"param\":");
    str(sb, param).append(",\"code\":");
    return str(sb, code).append("}}").toString();
  }

  /** An Anthropic error envelope: {@code {"type":"error","error":{"type":..,"message":..},"request_id":..}}. */
  static String anthropicError(String type, String message, String requestId) {
    StringBuilder sb = new StringBuilder(96 + message.length()).append("{\"type\":\"error\",\"error\":{\"type\":");
    str(sb, type).append(",\"message\":");
    str(sb, message).append('}');
    if (requestId != null) {
      str(sb.append(",\"request_id\":"), requestId);
    }
    return sb.append('}').toString();
  }
}
