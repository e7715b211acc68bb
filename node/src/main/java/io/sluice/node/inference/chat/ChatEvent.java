package io.sluice.node.inference.chat;

/**
 * One step of a streamed chat response in Sluice's own terms. A provider's stream decoder turns
 * its upstream's native events into these, and a surface's stream encoder turns them into its
 * client's. A well-formed stream is {@code Started}, then deltas, then {@code Finished}, with
 * {@code UsageReported} anywhere (each one the stream's usage so far; the last one counts).
 */
public sealed interface ChatEvent {

  /** The response began. */
  record Started(String id, String model) implements ChatEvent {}

  /** More text. */
  record TextDelta(String text) implements ChatEvent {}

  /** A tool call began; {@code index} numbers the response's tool calls from 0. */
  record ToolCallStarted(int index, String id, String name) implements ChatEvent {}

  /** More of a tool call's arguments (a fragment of JSON text). */
  record ToolArgumentsDelta(int index, String fragment) implements ChatEvent {}

  /** Generation stopped. */
  record Finished(FinishReason reason) implements ChatEvent {}

  /** The usage so far; cumulative, so a later one replaces an earlier one. */
  record UsageReported(Usage usage) implements ChatEvent {}

  /**
   * The upstream reported an error inside the stream; the surface ends its client's stream with
   * its own error event.
   *
   * @param type the upstream's error type when it gave one (for example overloaded_error), else null
   */
  record Failed(String type, String message) implements ChatEvent {}
}
