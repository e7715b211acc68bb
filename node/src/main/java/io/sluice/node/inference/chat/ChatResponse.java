package io.sluice.node.inference.chat;

import java.util.List;

/**
 * A whole chat response in Sluice's own terms: what a provider's codec decodes from its upstream
 * and a surface's codec renders for its client, when the two speak different protocols.
 *
 * @param content text and tool calls, in order
 * @param finishReason null when the upstream gave none
 * @param usage null when the upstream reported none
 */
public record ChatResponse(String id, String model, List<Part> content, FinishReason finishReason, Usage usage) {
  public ChatResponse {
    content = List.copyOf(content);
  }
}
