package io.sluice.node.surface.anthropic;

import io.sluice.node.inference.TokenCounter;
import io.sluice.node.surface.openai.RequestScan;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.provider.anthropic.AnthropicCodec;

/**
 * An Anthropic Messages body as the Anthropic surface scanned it. Prompt tokens are counted, and
 * the neutral request decoded, only when first asked for; both are remembered. One per request.
 */
final class AnthropicBody implements ClientBody {
  private final byte[] bytes;
  private final MessagesScan scan;
  private final TokenCounter tokens;
  private final boolean countOnly;
  private long promptTokens = -1;
  private ChatRequest chat;

  AnthropicBody(byte[] bytes, MessagesScan scan, TokenCounter tokens, boolean countOnly) {
    this.bytes = bytes;
    this.scan = scan;
    this.tokens = tokens;
    this.countOnly = countOnly;
  }

  @Override
  public Protocol protocol() {
    return Protocol.ANTHROPIC;
  }

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

  /** Anthropic's streams always report usage. */
  @Override
  public boolean includeUsage() {
    return true;
  }

  @Override
  public long maxTokens() {
    return scan.maxTokens();
  }

  @Override
  public long promptTokens() {
    if (promptTokens < 0) {
      try {
        promptTokens = (countOnly ? MessagesScan.scanCountTokens(bytes, tokens) : MessagesScan.scan(bytes, tokens))
            .promptTokens();
      } catch (InvalidChat scannedAlready) {
        promptTokens = 0;
      }
    }
    return promptTokens;
  }

  @Override
  public byte[] passthrough(String upstreamModel) {
    return scan.withModel(bytes, upstreamModel);
  }

  @Override
  public ChatRequest chat() throws InvalidChat {
    if (chat == null) {
      chat = AnthropicCodec.decodeRequest(bytes);
    }
    return chat;
  }
}
