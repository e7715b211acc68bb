package io.sluice.node.surface.openai;

import io.sluice.node.inference.TokenCounter;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.provider.openai.OpenAiChatCodec;

/**
 * An OpenAI request body as the OpenAI surface scanned it. Prompt tokens are counted, and the
 * neutral request decoded, only when first asked for; both are remembered. One per request, used
 * by its steps one after another.
 */
final class OpenAiBody implements ClientBody {
  private final byte[] bytes;
  private final Operation op;
  private final RequestScan scan;
  private final TokenCounter tokens;
  private long promptTokens = -1;
  private ChatRequest chat;

  OpenAiBody(byte[] bytes, Operation op, RequestScan scan, TokenCounter tokens) {
    this.bytes = bytes;
    this.op = op;
    this.scan = scan;
    this.tokens = tokens;
  }

  @Override
  public Protocol protocol() {
    return Protocol.OPENAI;
  }

  @Override
  public Operation operation() {
    return op;
  }

  @Override
  public String model() {
    return scan.model();
  }

  @Override
  public boolean stream() {
    return scan.stream() && op != Operation.EMBEDDINGS;
  }

  @Override
  public boolean includeUsage() {
    return scan.includeUsage();
  }

  @Override
  public long maxTokens() {
    return scan.maxTokens();
  }

  @Override
  public long promptTokens() {
    if (promptTokens < 0) {
      promptTokens = RequestScan.countPrompt(bytes, op, tokens);
    }
    return promptTokens;
  }

  /** The client's bytes with the model swapped and, for a stream, usage asked of the upstream. */
  @Override
  public byte[] passthrough(String upstreamModel) {
    return scan.forUpstream(bytes, upstreamModel, stream());
  }

  @Override
  public ChatRequest chat() throws InvalidChat {
    if (op != Operation.CHAT) {
      throw new InvalidChat("The model '" + scan.model() + "' is served by a deployment that is not OpenAI-compatible,"
          + " which serves only chat: " + (op == Operation.COMPLETIONS ? "/v1/completions" : "/v1/embeddings")
          + " cannot be translated for it.", "model");
    }
    if (chat == null) {
      chat = OpenAiChatCodec.decodeRequest(bytes);
    }
    return chat;
  }
}
