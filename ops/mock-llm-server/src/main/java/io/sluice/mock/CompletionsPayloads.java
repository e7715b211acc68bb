package io.sluice.mock;

/**
 * The legacy completions API's bodies ({@code POST /v1/completions}): a {@code text_completion}
 * object of {@code tokens} × {@value Payloads#TOKEN}, and its stream, one chunk per token, then a
 * chunk with {@code finish_reason}, then, with {@code stream_options.include_usage}, a chunk with no
 * choices and the usage, then {@code [DONE]}, as OpenAI sends them.
 */
final class CompletionsPayloads {
  private CompletionsPayloads() {}

  static String completion(String id, long created, String model, int tokens, int promptTokens, long completionTokens) {
    StringBuilder sb = new StringBuilder(256 + tokens * Payloads.TOKEN.length());
    sb.append("{\"id\":\"").append(id).append("\",\"object\":\"text_completion\",\"created\":").append(created)
        .append(",\"model\":");
    Json.str(sb, model).append(",\"choices\":[{\"text\":\"").append(Payloads.TOKEN.repeat(tokens))
        .append("\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":");
    return usage(sb, promptTokens, completionTokens).append('}').toString();
  }

  /** The part every chunk of one stream shares. */
  static String chunkHead(String id, long created, String model) {
    StringBuilder sb = new StringBuilder(128);
    sb.append("{\"id\":\"").append(id).append("\",\"object\":\"text_completion\",\"created\":").append(created)
        .append(",\"model\":");
    return Json.str(sb, model).toString();
  }

  static String contentEvent(String head) {
    return "data: " + head + ",\"choices\":[{\"text\":\"" + Payloads.TOKEN
        + "\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}\n\n";
  }

  static String stopEvent(String head) {
    return "data: " + head + ",\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n";
  }

  static String usageEvent(String head, int promptTokens, long completionTokens) {
    StringBuilder sb = new StringBuilder(192).append("data: ").append(head).append(",\"choices\":[],\"usage\":");
    return usage(sb, promptTokens, completionTokens).append("}\n\n").toString();
  }

  private static StringBuilder usage(StringBuilder sb, int prompt, long completion) {
    return sb.append("{\"prompt_tokens\":").append(prompt).append(",\"completion_tokens\":").append(completion)
        .append(",\"total_tokens\":").append((long) prompt + completion).append('}');
  }
}
