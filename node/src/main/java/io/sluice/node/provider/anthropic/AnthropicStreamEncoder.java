package io.sluice.node.provider.anthropic;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.pekko.util.ByteString;

/**
 * Neutral events as the Anthropic Messages stream the official SDKs parse, by LiteLLM's
 * AnthropicStreamWrapper rules:
 * <ul>
 *   <li>{@code message_start} is the first event. It waits for the first event that is neither
 *       Started nor a usage report, so that a usage reported at the start (as Anthropic and
 *       Gemini do) is in it; one is synthesised when no Started came.
 *   <li>Every content block is opened ({@code content_block_start}) and closed
 *       ({@code content_block_stop}) before the next one opens, each with the next index: text in
 *       {@code text_delta}s, each tool call a {@code tool_use} block fed {@code input_json_delta}s.
 *   <li>{@code message_delta} (stop reason and usage) waits after Finished for the next usage
 *       report, or the end, and then carries the latest usage; {@code message_stop} follows it.
 *   <li>Failed ends the stream with an {@code error} event; nothing is sent after it.
 * </ul>
 * Each event is written as {@code event: NAME\ndata: JSON\n\n}.
 */
final class AnthropicStreamEncoder implements StreamEncoder {
  private static final int NONE = -1;

  private final String model;
  /** Makes an id from a prefix ({@code msg_}, {@code toolu_}) for what the upstream gave none. */
  private final UnaryOperator<String> ids;
  private String id;
  private String upstreamModel;
  private boolean started;
  private int nextBlock;
  private int openBlock = NONE;
  /** The tool call the open block carries, or NONE for a text block. */
  private int openTool = NONE;
  /** Tool-call index to its block index. */
  private final Map<Integer, Integer> toolBlocks = new HashMap<>();
  private Usage usage;
  private FinishReason finish;
  private boolean finishHeld;
  private boolean deltaSent;
  private boolean done;

  /** @param model the model name written into {@code message_start}; the upstream's when null */
  AnthropicStreamEncoder(String model) {
    this(model, AnthropicCodec::newId);
  }

  AnthropicStreamEncoder(String model, UnaryOperator<String> ids) {
    this.model = model;
    this.ids = ids;
  }

  @Override
  public ByteString encode(ChatEvent event) {
    if (done) {
      return ByteString.emptyByteString();
    }
    StringBuilder out = new StringBuilder();
    if (event instanceof ChatEvent.Started s) {
      if (!started && id == null) {
        id = s.id();
        upstreamModel = s.model();
      }
    } else if (event instanceof ChatEvent.UsageReported u) {
      usage = u.usage();
      if (finishHeld) {
        messageDelta(out);
      }
    } else if (event instanceof ChatEvent.TextDelta t) {
      if (!t.text().isEmpty() && !deltaSent) {
        start(out);
        if (openBlock == NONE || openTool != NONE) {
          open(out, NONE, new AnthropicWire.TextBlock(""));
        }
        write(out, "content_block_delta",
            new AnthropicWire.ContentBlockDelta(openBlock, new AnthropicWire.TextDelta(t.text())));
      }
    } else if (event instanceof ChatEvent.ToolCallStarted c) {
      if (!deltaSent) {
        start(out);
        openTool(out, c.index(), c.id(), c.name());
      }
    } else if (event instanceof ChatEvent.ToolArgumentsDelta a) {
      if (!a.fragment().isEmpty() && !deltaSent) {
        start(out);
        Integer block = toolBlocks.get(a.index());
        if (block == null) {
          openTool(out, a.index(), null, ""); // arguments for a call that was never announced
          block = openBlock;
        }
        // A call whose block has closed (calls interleaved) keeps its own index: the SDKs accumulate by index.
        write(out, "content_block_delta",
            new AnthropicWire.ContentBlockDelta(block, new AnthropicWire.InputJsonDelta(a.fragment())));
      }
    } else if (event instanceof ChatEvent.Finished f) {
      if (!deltaSent) {
        start(out);
        close(out);
        finish = f.reason();
        finishHeld = true;
      }
    } else if (event instanceof ChatEvent.Failed f) {
      done = true;
      write(out, "error", new AnthropicWire.ErrorEvent(new AnthropicWire.ErrorBody(
          f.type() == null ? "api_error" : f.type(), f.message() == null ? "" : f.message())));
    }
    return bytes(out);
  }

  @Override
  public ByteString end() {
    if (done) {
      return ByteString.emptyByteString();
    }
    done = true;
    StringBuilder out = new StringBuilder();
    start(out);
    close(out);
    if (!deltaSent) {
      messageDelta(out);
    }
    write(out, "message_stop", new AnthropicWire.MessageStop());
    return bytes(out);
  }

  private void start(StringBuilder out) {
    if (started) {
      return;
    }
    started = true;
    String name = model != null ? model : upstreamModel;
    Usage u = usage;
    AnthropicWire.WireUsage wire = u == null ? AnthropicCodec.wireUsage(null)
        : AnthropicCodec.wireUsage(new Usage(u.promptTokens(), 0, u.cacheReadTokens(), u.cacheWriteTokens()));
    write(out, "message_start", new AnthropicWire.MessageStart(new AnthropicWire.Response(
        id == null || id.isEmpty() ? ids.apply("msg_") : id, "message", "assistant", name == null ? "" : name,
        List.of(), null, null, wire)));
  }

  private void openTool(StringBuilder out, int tool, String callId, String name) {
    open(out, tool, new AnthropicWire.ToolUseBlock(callId == null ? ids.apply("toolu_") : callId,
        name == null ? "" : name, AnthropicCodec.emptyObject()));
    toolBlocks.put(tool, openBlock);
  }

  private void open(StringBuilder out, int tool, AnthropicWire.Block block) {
    close(out);
    openBlock = nextBlock++;
    openTool = tool;
    write(out, "content_block_start", new AnthropicWire.ContentBlockStart(openBlock, block));
  }

  private void close(StringBuilder out) {
    if (openBlock != NONE) {
      write(out, "content_block_stop", new AnthropicWire.ContentBlockStop(openBlock));
      openBlock = NONE;
      openTool = NONE;
    }
  }

  private void messageDelta(StringBuilder out) {
    finishHeld = false;
    deltaSent = true;
    String stop = AnthropicCodec.stopReason(finish == null ? FinishReason.STOP : finish);
    write(out, "message_delta", new AnthropicWire.MessageDelta(new AnthropicWire.StopDelta(stop, null),
        AnthropicCodec.wireUsage(usage)));
  }

  private static void write(StringBuilder out, String name, Object data) {
    out.append("event: ").append(name).append("\ndata: ")
        .append(new String(AnthropicCodec.write(data), StandardCharsets.UTF_8)).append("\n\n");
  }

  private static ByteString bytes(StringBuilder out) {
    return out.length() == 0 ? ByteString.emptyByteString() : ByteString.fromString(out.toString());
  }
}
