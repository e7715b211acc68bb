package io.sluice.node.inference.chat;

import java.util.List;

/** One turn of a conversation: its author and its parts, in order. */
public record Message(Role role, List<Part> content) {
  public Message {
    content = List.copyOf(content);
  }

  /** Who wrote a turn. System text is not a turn (see {@link ChatRequest#system()}). */
  public enum Role { USER, ASSISTANT }
}
