package io.sluice.node.inference.chat;

import java.util.List;

/**
 * A chat request in Sluice's own terms, the hub every translation goes through: a surface decodes
 * its client's body into it, and a provider whose protocol differs encodes it into its own. It
 * exists only when translating; a request whose surface and deployment speak the same protocol
 * passes through as bytes and never builds one.
 *
 * <p>System text is lifted out of the conversation (Anthropic, Gemini and Bedrock keep it apart);
 * tool results are parts of a user turn (as Anthropic, Gemini and Bedrock have them; the OpenAI
 * codec turns each into a {@code role: tool} message).
 *
 * @param maxTokens the client's output limit, or -1 when it set none
 * @param temperature null when absent
 * @param topP null when absent
 * @param stop stop sequences, empty when none
 * @param includeUsage the client asked for usage in the stream (OpenAI's stream_options)
 */
public record ChatRequest(String model, List<Part> system, List<Message> messages, List<Tool> tools,
    ToolChoice toolChoice, long maxTokens, Double temperature, Double topP, List<String> stop, boolean stream,
    boolean includeUsage) {

  public ChatRequest {
    system = List.copyOf(system);
    messages = List.copyOf(messages);
    tools = List.copyOf(tools);
    stop = List.copyOf(stop);
  }

  /** The same request for another model name (the deployment's). */
  public ChatRequest withModel(String upstreamModel) {
    return new ChatRequest(upstreamModel, system, messages, tools, toolChoice, maxTokens, temperature, topP, stop,
        stream, includeUsage);
  }

  /** The same request with an output limit (a provider that requires one sets its default). */
  public ChatRequest withMaxTokens(long tokens) {
    return new ChatRequest(model, system, messages, tools, toolChoice, tokens, temperature, topP, stop, stream,
        includeUsage);
  }
}
