package io.sluice.mock;

/** Builds the OpenAI-format response bodies as text; kept apart from the HTTP plumbing (Messages mode: AnthropicReply). */
final class Payloads {
  static final String MODELS = "{\"object\":\"list\",\"data\":["
      + "{\"id\":\"gpt-4o-mini\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"sluice-mock\"},"
      + "{\"id\":\"text-embedding-3-small\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"sluice-mock\"}]}";
  static final String DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";
  static final String TOKEN = "tok ";
  static final int EMBEDDING_SIZE = 8;

  private Payloads() {}

  static String chatCompletion(String id, long created, String model, int tokens, int promptTokens,
                               long completionTokens) {
    return chatCompletion(id, created, model, tokens, null, null, "stop", promptTokens, completionTokens);
  }

  /**
   * A whole completion: {@code tokens} text tokens, or (when {@code tool} is not null) no text and
   * one {@code tool_calls} entry whose arguments are the tool's pieces joined.
   */
  static String chatCompletion(String id, long created, String model, int tokens, AnthropicRequest.Tool tool,
                               String toolId, String finishReason, int promptTokens, long completionTokens) {
    StringBuilder sb = new StringBuilder(256 + tokens * TOKEN.length());
    sb.append("{\"id\":\"").append(id).append("\",\"object\":\"chat.completion\",\"created\":").append(created)
        .append(",\"model\":");
    Json.str(sb, model).append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (tool == null) {
      sb.append('"');
      for (int i = 0; i < tokens; i++) {
        sb.append(TOKEN);
      }
      sb.append('"');
    } else {
      sb.append("null,\"tool_calls\":[{\"id\":\"").append(toolId).append("\",\"type\":\"function\",\"function\":{\"name\":");
      Json.str(sb, tool.name()).append(",\"arguments\":");
      Json.str(sb, String.join("", tool.inputPieces())).append("}}]");
    }
    sb.append("},\"finish_reason\":\"").append(finishReason).append("\"}],\"usage\":");
    return usage(sb, promptTokens, completionTokens).append('}').toString();
  }

  /**
   * One streamed piece of a tool call's arguments; the first ({@code first}) also carries the call's
   * id, type and name, and the role when it opens the stream ({@code opensStream}).
   */
  static String toolCallEvent(String head, AnthropicRequest.Tool tool, String toolId, int piece, boolean opensStream) {
    StringBuilder sb = new StringBuilder(192).append("data: ").append(head).append(",\"choices\":[{\"index\":0,\"delta\":{");
    if (opensStream) {
      sb.append("\"role\":\"assistant\",\"content\":null,");
    }
    sb.append("\"tool_calls\":[{\"index\":0,");
    if (piece == 0) {
      sb.append("\"id\":\"").append(toolId).append("\",\"type\":\"function\",\"function\":{\"name\":");
      Json.str(sb, tool.name()).append(',');
    } else {
      sb.append("\"function\":{");
    }
    sb.append("\"arguments\":");
    Json.str(sb, tool.inputPieces().get(piece));
    return sb.append("}}]},\"finish_reason\":null}]}\n\n").toString();
  }

  /** The part shared by every chunk of one stream: {@code {"id":..,"object":..,"created":..,"model":..}. */
  static String chunkHead(String id, long created, String model) {
    StringBuilder sb = new StringBuilder(128);
    sb.append("{\"id\":\"").append(id).append("\",\"object\":\"chat.completion.chunk\",\"created\":").append(created)
        .append(",\"model\":");
    return Json.str(sb, model).toString();
  }

  static String contentEvent(String head, boolean first) {
    return "data: " + head + ",\"choices\":[{\"index\":0,\"delta\":{"
        + (first ? "\"role\":\"assistant\"," : "")
        + "\"content\":\"" + TOKEN + "\"},\"finish_reason\":null}]}\n\n";
  }

  static String stopEvent(String head) {
    return stopEvent(head, "stop");
  }

  static String stopEvent(String head, String finishReason) {
    return "data: " + head + ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + finishReason
        + "\"}]}\n\n";
  }

  static String usageEvent(String head, int promptTokens, long completionTokens) {
    StringBuilder sb = new StringBuilder(192).append("data: ").append(head).append(",\"choices\":[],\"usage\":");
    return usage(sb, promptTokens, completionTokens).append("}\n\n").toString();
  }

  static final String DONE_EVENT = "data: [DONE]\n\n";

  static String embeddings(MockRequest r) {
    StringBuilder sb = new StringBuilder(64 + r.inputs * 120).append("{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < r.inputs; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":[");
      long x = r.inputSeeds[i];
      for (int d = 0; d < EMBEDDING_SIZE; d++) {
        x = mix(x + 0x9E3779B97F4A7C15L);
        sb.append(d == 0 ? "" : ",").append((Math.floorMod(x, 2001) - 1000) / 1000.0);
      }
      sb.append("]}");
    }
    sb.append("],\"model\":");
    long tokens = Math.min(Integer.MAX_VALUE, r.inputTokens);
    Json.str(sb, r.model == null ? DEFAULT_EMBEDDING_MODEL : r.model)
        .append(",\"usage\":{\"prompt_tokens\":").append(tokens).append(",\"total_tokens\":").append(tokens);
    return sb.append("}}").toString();
  }

  private static StringBuilder usage(StringBuilder sb, int prompt, long completion) {
    return sb.append("{\"prompt_tokens\":").append(prompt).append(",\"completion_tokens\":").append(completion)
        .append(",\"total_tokens\":").append((long) prompt + completion).append('}');
  }

  /** SplitMix64 finaliser: spreads a seed into well-mixed bits. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
