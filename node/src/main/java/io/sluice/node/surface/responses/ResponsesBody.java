package io.sluice.node.surface.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.TokenCounter;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import java.io.IOException;

/**
 * A Responses API body as the Responses surface scanned it. It passes through as bytes (model
 * swapped) to a deployment that speaks the Responses API; for any other it is decoded into the
 * neutral request, unless it uses a stateful feature, which only OpenAI's API can serve. The JSON
 * tree is built only when the prompt is counted or the request translated, and kept, since the
 * translated answer echoes some request fields. One per request.
 */
final class ResponsesBody implements ClientBody {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final byte[] bytes;
  private final ResponsesScan scan;
  private final TokenCounter tokens;
  private JsonNode tree;
  private long promptTokens = -1;
  private ChatRequest chat;

  ResponsesBody(byte[] bytes, ResponsesScan scan, TokenCounter tokens) {
    this.bytes = bytes;
    this.scan = scan;
    this.tokens = tokens;
  }

  @Override
  public Protocol protocol() {
    return Protocol.OPENAI_RESPONSES;
  }

  /** A response is generated as a chat's reply is: every chat-capable deployment can serve it. */
  @Override
  public Operation operation() {
    return Operation.CHAT;
  }

  @Override
  public String model() {
    return scan.model();
  }

  @Override
  public boolean stream() {
    return scan.stream();
  }

  /** A Responses stream always ends with its usage (in response.completed). */
  @Override
  public boolean includeUsage() {
    return true;
  }

  @Override
  public long maxTokens() {
    return scan.maxOutputTokens();
  }

  @Override
  public long promptTokens() {
    if (promptTokens < 0) {
      promptTokens = ResponsesRequest.countPrompt(tree(), tokens);
    }
    return promptTokens;
  }

  @Override
  public byte[] passthrough(String upstreamModel) {
    return scan.withModel(bytes, upstreamModel);
  }

  @Override
  public ChatRequest chat() throws InvalidChat {
    if (scan.stateful() != null) {
      throw new InvalidChat("'" + scan.stateful() + "' needs state that only OpenAI's Responses API keeps (stored"
          + " responses, conversations, background runs or prompts); the model '" + scan.model() + "' is served by a"
          + " deployment that does not speak it. Send the whole conversation in 'input' instead.", scan.stateful());
    }
    if (chat == null) {
      chat = ResponsesRequest.decode(tree(), scan.model(), scan.stream(), scan.maxOutputTokens());
    }
    return chat;
  }

  /** The request as a tree; an empty one if it cannot be read (the scan read it already). */
  JsonNode tree() {
    if (tree == null) {
      try {
        tree = JSON.readTree(bytes);
      } catch (IOException scannedAlready) {
        tree = MissingNode.getInstance();
      }
    }
    return tree;
  }
}
